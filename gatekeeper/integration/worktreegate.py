"""Gate a commit in a temporary detached worktree, exactly as CI would.

The commit is checked out in a detached worktree of its own (never the user's working tree,
whose uncommitted changes are not what is judged) and ``gatekeeper run`` runs there as a child
process with a clean environment: no ``GIT_*`` variables (they would point the gate's own git
calls at the user's worktree) and no identity of a parent gatekeeper session, so the child gets
its own run, ports, databases and basetemp. The exit status decides; the JSON report explains.
Shared by the pre-push hook and merge integration; the worktree itself is
:mod:`gatekeeper.git.tempworktree`'s.

Nobody else can steer that verdict: the worktrees live in the repository's git directory, in a
folder only its owner may write (:func:`worktrees_root`), never in a shared temp dir, and pytest
is told to look for its configuration and ``conftest.py`` files in the worktree alone
(:mod:`gatekeeper.project.discovery`; the checks pin ruff's and mypy's search themselves).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Final

from gatekeeper import config as configuration
from gatekeeper.errors import ConfigError, GitError
from gatekeeper.git import childgroup, repository
from gatekeeper.git.tempworktree import NESTED_ENV, temporary_worktree
from gatekeeper.history import origin
from gatekeeper.project import discovery, importroots, workfolder
from gatekeeper.resources.locks import private_directory

FINDINGS_SHOWN: Final = 10
# Variables by which a gatekeeper session hands its identity to its own children; a gate in
# another worktree is another run and must not inherit them.
_SESSION_VARIABLES: Final = (
    "GATEKEEPER_RUN_ID",
    "GATEKEEPER_WORKER",
    "GATEKEEPER_WORKTREE",
    "GATEKEEPER_COVERAGE",
    "PYTEST_XDIST_",
    "PYTEST_CURRENT_TEST",
    "PYTHONPYCACHEPREFIX",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer for one tree: passed or not, and the lines that explain a failure."""

    passed: bool
    explanation: tuple[str, ...] = ()
    cached: bool = False  # every check's pass was reused from the result cache
    # No gate ran at all: a whole-gate pass of exactly this tree was stored before
    # (gatekeeper.cache.gatepasses), so no worktree was made and no child started.
    accepted: bool = False


def worktrees_root(start: Path) -> Path:
    """Where the temporary worktrees of the repository holding ``start`` live:
    ``<git common dir>/gatekeeper/worktrees``, a folder only the repository's owner may write.

    Raises :class:`GitError` outside git and
    :class:`~gatekeeper.resources.locks.ResourceError` when that folder is not private.
    """
    common = repository.common_dir(start)
    if common is None:
        raise GitError(f"{start} is not inside a git repository; a temporary worktree needs one.")
    return private_directory(
        common / "gatekeeper" / "worktrees",
        "the folder of gatekeeper's temporary worktrees",
        "It lives in the repository's git directory; gatekeeper makes it again when it is gone.",
    )


def gate_env() -> dict[str, str]:
    """The environment of a gate run in another worktree: every ``GIT_*`` (even git's
    :data:`~gatekeeper.git.repository.TRANSPORT`: the gate pushes nothing, and a variable it does
    not need would key its pass) and the parent session's identity removed, nested integration
    switched off."""
    dropped = ("GIT_", *_SESSION_VARIABLES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env[NESTED_ENV] = "1"
    return env


def gate_commit(
    start: Path,
    commit: str,
    scratch: Path,
    output: IO[str] | int | None = None,
    entry: str = "integrate",
) -> Verdict:
    """Run the whole gate on ``commit`` in a temporary worktree under ``scratch``.

    The worktree is always removed; ``output`` receives the gate's own output (default: this
    process's standard error). A gate that leaves no readable report fails closed, and so does a
    tree whose packages the child would import from elsewhere
    (:mod:`gatekeeper.project.importroots`). ``entry`` names the caller (``hook``, ``integrate``,
    ``land``) in the gate's history record.
    """
    with (
        temporary_worktree(start, commit, scratch / "tree") as tree,
        _destination(output, scratch / "gate.log") as (stream, log),
    ):
        env = importroots.environment(gate_env(), tree)
        env.update(origin.handed_down(start, entry))  # -- history: recorded for ``start`` --
        problem = importroots.misplaced(tree, env)
        if problem is not None:
            return Verdict(False, (problem,))
        # `pytest --gatekeeper` with pytest's search pinned to the tree: the cache keys a
        # whole-suite run by its arguments without these pins, which only say what a run from a
        # root holding its own configuration does anyway (pytest_gatekeeper.selection).
        # -P: a module at the tree's root must not shadow gatekeeper or pytest.
        argv = [sys.executable, "-P", "-m", "gatekeeper", "run", *discovery.pytest_args(tree)]
        # In a process group of its own, stopped with everything it started however this
        # ends, and dead with this process: a gate must not go on in a worktree that is
        # about to be removed (gatekeeper.git.childgroup).
        status = childgroup.run(
            argv,
            cwd=tree,
            env=env,
            stdout=sys.stderr if stream is None else stream,
            stderr=None if stream is None else subprocess.STDOUT,
        )
        report = report_path(tree)
        verdict = verdict_from(status, report, None if log is None else _tail(log))
        return _keep(verdict, report, start, commit)


@contextmanager
def _destination(
    output: IO[str] | int | None, log: Path
) -> Iterator[tuple[IO[str] | int | None, Path | None]]:
    """Where the gate's output goes, and the file to read its end from when nobody sees it:
    output thrown away is written to ``log`` instead (a gate that leaves no report is then
    explained by its last lines, not by "see above"); a file given as ``output`` is read back."""
    if output == subprocess.DEVNULL:
        with log.open("w", encoding="utf-8") as stream:
            yield stream, log
        return
    name = getattr(output, "name", None)
    yield output, Path(name) if isinstance(name, str) and Path(name).is_file() else None


def _tail(log: Path, count: int = 20) -> tuple[str, ...]:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ()
    return tuple(line for line in lines[-count:] if line.strip())


def _keep(verdict: Verdict, report: Path, start: Path, commit: str) -> Verdict:
    """A failed gate's report copied where the user can read it once the temporary worktree is
    gone, named in the explanation (passes need no copy)."""
    root = repository.worktree_root(start)
    kept = None if verdict.passed or root is None else workfolder.keep_report(report, root, commit)
    if kept is None:
        return verdict
    return replace(verdict, explanation=(*verdict.explanation, f"  report: {kept}"))


def report_path(tree: Path) -> Path:
    """Where the gate in ``tree`` writes its JSON report: ``report`` of its configuration."""
    try:
        raw, _ = configuration.read_pyproject(configuration.find_project_root(tree))
    except ConfigError:
        raw = {}  # the gate itself reports the broken file, and leaves no report: fails closed
    return tree / str(configuration.written(raw, "report"))


def verdict_from(exit_status: int, report: Path, unseen: Sequence[str] | None = None) -> Verdict:
    """The verdict of one gate run: its exit status decides; the JSON report explains.

    ``unseen`` holds the last lines of the gate's output when the user has not seen it (None:
    it went to the terminal), to explain a gate that left no report.
    """
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if exit_status == 0 and isinstance(data, dict) and data.get("verdict") == "passed":
        return Verdict(True, cached=_all_cached(data))
    if not isinstance(data, dict):
        return Verdict(False, _no_report(exit_status, unseen))
    return Verdict(False, tuple(_explain(data)))


def _no_report(exit_status: int, unseen: Sequence[str] | None) -> tuple[str, ...]:
    headline = f"the gate could not run (exit status {exit_status})"
    if unseen is None:
        return (f"{headline}; see above",)
    if not unseen:
        return (f"{headline} and printed nothing",)
    return (f"{headline}; it ended with:", *(f"    {line}" for line in unseen))


def _all_cached(data: Mapping[str, object]) -> bool:
    checks = data.get("checks")
    if not isinstance(checks, list) or not checks:
        return False
    return all(isinstance(c, dict) and c.get("cached") is True for c in checks)


def _explain(data: Mapping[str, object]) -> Iterator[str]:
    yield str(data.get("rule", "the gate failed"))
    checks = data.get("checks")
    for check in checks if isinstance(checks, list) else ():
        if isinstance(check, dict) and check.get("status") not in ("passed", "skipped"):
            yield f"  {check.get('name')} {check.get('status')}: {check.get('summary')}"
            yield from _finding_lines(check.get("findings"))


def _finding_lines(findings: object) -> Iterator[str]:
    items = [f for f in findings if isinstance(f, dict)] if isinstance(findings, list) else []
    fresh = [f for f in items if f.get("new") is not False]
    for f in fresh[:FINDINGS_SHOWN]:
        yield f"    {f.get('path')}:{f.get('line')}:{f.get('column')}: {f.get('code')} " + str(
            f.get("message")
        )
    if len(fresh) > FINDINGS_SHOWN:
        yield f"    ... and {len(fresh) - FINDINGS_SHOWN} more"
