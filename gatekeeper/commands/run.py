"""``gatekeeper run [pytest args...]``: the whole gate, exactly as ``pytest --gatekeeper``.

pytest runs in a fresh interpreter, never in this one. Coverage measures only what runs after it
starts, and pytest can rewrite the assertions only of modules it imports itself: a module this
process had imported first would be under-measured (a project that one of gatekeeper's own
dependencies imports) and would make pytest warn, which ``filterwarnings = error`` turns into a
failed run. ``-P`` keeps the working directory off ``sys.path``, as the ``pytest`` command does,
and the arguments reach pytest unchanged: the result cache keys this run exactly as
``pytest --gatekeeper ARGS`` (gatekeeper/cache/gatepasses.py).

The exit status is pytest's, but 0 needs proof (:mod:`gatekeeper.receipt`): the gate of this run
wrote its report, with the verdict passed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from gatekeeper import receipt
from gatekeeper.errors import EXIT_FAILED
from gatekeeper.git import childgroup

HELP = (
    "Run the whole gate (same as `pytest --gatekeeper`); extra arguments go to pytest. "
    "--shard I/N (first) runs one shard of a sharded gate (see `gatekeeper combine`)."
)
PASSTHROUGH = True

# pytest options that only inspect the suite or print help: pytest runs no gate for them, so
# their exit status stands without a verdict, when given on this command line (never when they
# come from addopts or PYTEST_ADDOPTS, where they would turn the gate off unseen).
INSPECTING: Final = frozenset(
    {
        "-h",
        "--help",
        "-V",
        "--version",
        "--co",
        "--collect-only",
        "--collectonly",
        "--fixtures",
        "--funcargs",
        "--fixtures-per-test",
        "--markers",
    }
)


HASH_SEED: Final = "PYTHONHASHSEED"

# pytest's own failing exit statuses (tests failed, interrupted, internal error, usage error, no
# tests): pytest has said why. Any other status without a verdict gets our explanation.
PYTEST_EXPLAINS: Final = range(1, 6)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pytest_args", nargs="*", help="arguments passed to pytest unchanged")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    rest = with_shard(rest)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-run-") as private:
        proof = Path(private) / "receipt.json"
        env = {receipt.ENV: str(proof), **hash_seed(rest, os.environ)}
        status = pytest_in_fresh_interpreter(["--gatekeeper", *rest], env)
        if INSPECTING.intersection(rest):
            return status
        return decide(status, receipt.verdict(proof))


def with_shard(args: list[str]) -> list[str]:
    """``--shard I/N`` (or ``--shard=I/N``) as the plugin's ``--gatekeeper-shard``, only as
    this command's own option: the first word, before every pytest argument. Any later
    ``--shard`` (another option's value, a word after ``--``) is pytest's, passed unchanged. A
    bad value is the plugin's to refuse, in one paragraph, like any of its options."""
    first, rest = (args[0], args[1:]) if args else ("", [])
    if first == "--shard":
        return ["--gatekeeper-shard", *rest]
    if first.startswith("--shard="):
        return [f"--gatekeeper-shard={first.removeprefix('--shard=')}", *rest]
    return args


def hash_seed(args: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``PYTHONHASHSEED=0`` for a shard's pytest when the user set none: every shard then
    iterates a set in the same order, so a test parametrized over one gives each id the same
    value in every shard (``gatekeeper combine`` refuses shards where they differ)."""
    sharded = any(arg.startswith("--gatekeeper-shard") for arg in args)
    return {HASH_SEED: "0"} if sharded and HASH_SEED not in environ else {}


def pytest_in_fresh_interpreter(args: list[str], extra_env: Mapping[str, str]) -> int:
    """Run ``python -P -m pytest ARGS`` in this environment plus ``extra_env``; its exit status.

    Unlike the gate children of the hook and ``integrate`` (:mod:`gatekeeper.git.childgroup`),
    pytest stays in this process group, in the terminal's foreground, where ``--pdb`` and
    ``breakpoint()`` can read from it: Ctrl-C reaches pytest from the terminal, which ends its
    session cleanly, and this process only waits for it. SIGTERM is passed on. The child dies
    with this process.
    """
    argv = [sys.executable, "-P", "-m", "pytest", *args]
    env = {**os.environ, **extra_env}
    # Between fork and exec runs only one prctl call, safe even in a caller with threads.
    tie = childgroup.tie_to_parent()
    with subprocess.Popen(argv, env=env, preexec_fn=tie) as child, _signals_left_to(child):  # noqa: PLW1509
        status = child.wait()
    return status if status >= 0 else 128 - status  # killed by a signal: as a shell reports it


@contextmanager
def _signals_left_to(child: subprocess.Popen[bytes]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (an in-process caller's worker thread)
        return
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, lambda number, _: child.send_signal(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def decide(status: int, verdict: str | None) -> int:
    """The exit status of ``gatekeeper run``: pytest's, but 0 only with a passed verdict."""
    if status == 0 and verdict == "passed":
        return 0
    if verdict is None and status not in PYTEST_EXPLAINS:
        print(not_finished(status), file=sys.stderr)
    elif status == 0:
        print(
            f"gatekeeper run: error: pytest exited with status 0 but the gate's verdict is "
            f"{verdict}; a gate that did not pass is not a pass. Read the report above.",
            file=sys.stderr,
        )
    return status or EXIT_FAILED


def not_finished(status: int) -> str:
    """The one paragraph for a pytest run whose gate never wrote its verdict."""
    return (
        f"gatekeeper run: error: the gate did not finish: pytest exited with status {status}, "
        "but the gate of this run wrote no report with its verdict. Something ended the session "
        "before the gate could judge it: a test or plugin that calls os._exit(), the gate's "
        "session switched off (-p no:gatekeeper-session in addopts or PYTEST_ADDOPTS), or an "
        "option that only inspects the suite (--collect-only, --fixtures, ...) in addopts or "
        "PYTEST_ADDOPTS. A run without a verdict is not a pass: find what ended it, then run "
        "`gatekeeper run` again."
    )
