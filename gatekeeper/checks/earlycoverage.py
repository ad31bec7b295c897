"""Coverage started before pytest is imported: for code that pytest, or a plugin loaded before
the gate starts, imports first (pluggy, a project with ``-p pkg.plugin`` in addopts, ...).

The gate normally starts measuring when pytest loads the initial conftests. Anything imported
before that had its module-level lines run unmeasured, so such a project reads lower than
``coverage run -m pytest`` says. When the session sees that (:func:`imported_early`), and pytest
was started as a command (``pytest`` or ``python -m pytest``), it replaces its own process with
a fresh interpreter running this file: coverage starts here, with the very plan the session made,
and only then is pytest imported and run with the same arguments. The session in the new process
adopts the running measurement (:func:`adopt`).

Run as a script, this file imports nothing but the standard library and coverage.py: anything
more would be imported unmeasured again. Same process, so the same pid, terminal and signals.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

# The plan handed to the new interpreter: data file, source, lock descriptor, argv, sys.path[0].
ENV: Final = "GATEKEEPER_EARLY_COVERAGE"


def new_coverage(data_file: str, source: Sequence[str]) -> Any:
    """The collector the gate measures with (the project's own configuration, else ``source``);
    not started. Coverage's warnings are ignored here: a project's ``filterwarnings = error``
    must not turn them into a crash (what matters is reported through the check's result)."""
    import coverage
    from coverage.exceptions import CoverageWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        cov = coverage.Coverage(data_file=data_file, data_suffix=True, config_file=True)
        if not cov.get_option("run:source"):
            cov.set_option("run:source", list(source))
    return cov


def start(cov: Any) -> None:
    from coverage.exceptions import CoverageWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        cov.start()


def imported_early(cov: Any, modules: Mapping[str, object]) -> list[str]:
    """Modules already imported whose files the started ``cov`` measures: their import ran
    before measuring did, so their module-level lines would count as not run."""
    inorout = getattr(cov, "_inorout", None)
    if inorout is None:  # an unknown coverage.py: nothing can be told
        return []
    found = []
    for name, module in list(modules.items()):
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and _traced(inorout, filename):
            found.append(name)
    return sorted(found)


def _traced(inorout: Any, filename: str) -> bool:
    try:
        return bool(inorout.should_trace(filename).trace)
    except Exception:  # an unknown coverage.py: assume not, so nothing restarts for it
        return False


def command_line(args: Sequence[str]) -> list[str] | None:
    """``sys.argv`` when this process was started as the ``pytest`` command or as
    ``python -m pytest`` with ``args`` (the session's own arguments): then starting it again is
    the same run. None when pytest runs inside some other program (``pytest.main()`` from a
    script, or a test's in-process pytest), which must never be replaced."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    script = getattr(main, "__file__", None)
    if spec is not None:
        started = spec.name in ("pytest.__main__", "pytest")
    else:  # the console script: its file is the command that was run
        command = Path(sys.argv[0]).resolve() if sys.argv else None
        started = bool(script) and Path(str(script)).resolve() == command
        started = started and Path(str(script)).name in ("pytest", "py.test")
    return list(sys.argv) if started and sys.argv[1:] == list(args) else None


def restart(
    data_file: str, source: Iterable[str], lock_fd: int, args: Sequence[str], path0: str | None
) -> None:
    """Replace this process with a fresh interpreter that starts measuring, then runs pytest
    with ``args`` (its command-line arguments). The new interpreter gets this one's own options
    (:func:`interpreter_options`) and runs this file through ``-c``; ``path0`` is the first
    ``sys.path`` entry the command had (its script's folder, or the working directory under
    ``python -m``), which this file puts back in place of the one ``-c`` adds; None when there
    was none (-P, -I). Never returns."""
    os.set_inheritable(lock_fd, True)  # the data folder stays owned across the exec
    plan = {
        "data_file": data_file,
        "source": list(source),
        "lock_fd": lock_fd,
        "pid": os.getpid(),
        "argv": [sys.argv[0], *args],
        "path0": path0,
    }
    env = {**os.environ, ENV: json.dumps(plan)}
    bootstrap = (
        f"import runpy; runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')"
    )
    argv = [sys.executable, *interpreter_options(sys.orig_argv[1:]), "-c", bootstrap]
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.execve(sys.executable, argv, env)


# Interpreter options whose value may be the next word (-W error, -X dev, ...).
_WITH_VALUE: Final = frozenset({"W", "X"})
_LONG_WITH_VALUE: Final = frozenset({"--check-hash-based-pycs"})


def interpreter_options(words: Sequence[str]) -> list[str]:
    """The interpreter's own options among ``words`` (the command line after the executable):
    everything before ``-m MOD``, ``-c CMD`` or the script, as given (``-u``, ``-X dev``,
    ``-Wd``, ``-P`` ...), so the new interpreter runs as this one did."""
    found: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in _LONG_WITH_VALUE:
            found.extend(words[index : index + 2])
            index += 2
        elif word.startswith("--") and word != "--":  # --help, --version: no value
            found.append(word)
            index += 1
        elif word in ("-", "--") or not word.startswith("-"):
            break  # the script, stdin or "--": the options end here
        else:
            flags, index, done = _short_options(word, words, index)
            found.extend(flags)
            if done:
                break
    return found


def _short_options(word: str, words: Sequence[str], index: int) -> tuple[list[str], int, bool]:
    """The options in one word of short options (``-u``, ``-Bu``, ``-Wd``, ``-X`` + a value,
    ``-um``): the options, the index of the next word, and whether the options end here."""
    for position, letter in enumerate(word[1:], start=1):
        if letter in "mc":  # -m MOD, -c CMD: what ran, not how
            return ([word[:position]] if position > 1 else []), index + 1, True
        if letter in _WITH_VALUE:
            if position + 1 < len(word):  # -Wd, -Xdev
                return [word], index + 1, False
            return [word, *words[index + 1 : index + 2]], index + 2, False
    return [word], index + 1, False


def adopt(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any] | None:
    """The plan this process was restarted with, taken from ``environ`` (nothing this process
    starts inherits it); None unless it was made for this very process and its collector runs."""
    raw = environ.pop(ENV, None)
    if not raw:
        return None
    try:
        plan: dict[str, Any] = json.loads(raw)
        mine = plan["pid"] == os.getpid()
    except (ValueError, KeyError, TypeError):
        return None
    import coverage

    return plan if mine and coverage.Coverage.current() is not None else None


def _main() -> None:
    plan = json.loads(os.environ[ENV])
    if not sys.flags.safe_path and sys.path[:1] == [""]:
        del sys.path[0]  # the working directory -c added: the command's own entry goes there
    if plan.get("path0") is not None:
        sys.path.insert(0, plan["path0"])
    start(new_coverage(plan["data_file"], plan["source"]))
    sys.argv = plan["argv"]
    import pytest

    raise SystemExit(pytest.main())


if __name__ == "__main__":
    _main()
