"""Gate a commit in a temporary detached worktree, exactly as CI would.

The commit is checked out in a detached worktree of its own (never the user's working tree,
whose uncommitted changes are not what is judged) and ``gatekeeper run`` runs there as a child
process with a clean environment: no ``GIT_*`` variables (they would point the gate's own git
calls at the user's worktree) and no identity of a parent gatekeeper session, so the child gets
its own run, ports, databases and basetemp. The exit status decides; the JSON report explains.
Shared by the pre-push hook and merge integration.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from gatekeeper import childgroup, repository
from gatekeeper import config as configuration
from gatekeeper.errors import ConfigError

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
)
NESTED_ENV: Final = "GATEKEEPER_NESTED"
DEFAULT_REPORT: Final = ".gatekeeper/report.json"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer for one tree: passed or not, and the lines that explain a failure."""

    passed: bool
    explanation: tuple[str, ...] = ()
    cached: bool = False  # every check's pass was reused from the result cache
    # No gate ran at all: a whole-gate pass of exactly this tree was stored before
    # (gatekeeper.passes), so no worktree was made and no child started.
    accepted: bool = False


@contextmanager
def temporary_worktree(start: Path, commit: str, directory: Path) -> Iterator[Path]:
    """A detached worktree of ``commit`` at ``directory``; removed however the block ends
    (Ctrl-C included). The user's hooks do not fire: every call goes through
    :func:`repository.git`."""
    repository.git(start, "worktree", "add", "--detach", "--quiet", str(directory), commit)
    try:
        yield directory
    finally:
        remove_worktree(start, directory)


def remove_worktree(start: Path, directory: Path) -> None:
    """Remove the worktree at ``directory`` and its administrative files; never raises."""
    repository.git(start, "worktree", "remove", "--force", str(directory), check=False)
    shutil.rmtree(directory, ignore_errors=True)
    repository.git(start, "worktree", "prune", check=False)


def gate_env() -> dict[str, str]:
    """The environment of a gate run in another worktree: ``GIT_*`` and the parent session's
    identity removed, nested integration switched off."""
    env = {k: v for k, v in repository.clean_env().items() if not k.startswith(_SESSION_VARIABLES)}
    env[NESTED_ENV] = "1"
    return env


def gate_commit(
    start: Path,
    commit: str,
    scratch: Path,
    output: IO[str] | int | None = None,
) -> Verdict:
    """Run the whole gate on ``commit`` in a temporary worktree under ``scratch``.

    The worktree is always removed; ``output`` receives the gate's own output (default: this
    process's standard error). A gate that leaves no readable report fails closed.
    """
    with temporary_worktree(start, commit, scratch / "tree") as tree:
        # Exactly the command line of `pytest --gatekeeper`: the cache keys a whole-suite run by
        # its arguments, so any extra argument would stop a pass of this tree, stored by a
        # run in another worktree, from being reused here.
        argv = [sys.executable, "-m", "gatekeeper", "run"]
        # In a process group of its own, stopped with everything it started however this
        # ends, and dead with this process: a gate must not go on in a worktree that is
        # about to be removed (gatekeeper.childgroup).
        status = childgroup.run(
            argv,
            cwd=tree,
            env=gate_env(),
            stdout=sys.stderr if output is None else output,
            stderr=None if output is None else subprocess.STDOUT,
        )
        return verdict_from(status, report_path(tree))


def report_path(tree: Path) -> Path:
    """Where the gate in ``tree`` writes its JSON report: ``report`` of its configuration."""
    try:
        raw, _ = configuration.read_pyproject(configuration.find_project_root(tree))
    except ConfigError:
        raw = {}  # the gate itself reports the broken file, and leaves no report: fails closed
    configured = raw.get("report")
    return tree / (configured if isinstance(configured, str) else DEFAULT_REPORT)


def verdict_from(exit_status: int, report: Path) -> Verdict:
    """The verdict of one gate run: its exit status decides; the JSON report explains."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if exit_status == 0 and isinstance(data, dict) and data.get("verdict") == "passed":
        return Verdict(True, cached=_all_cached(data))
    if not isinstance(data, dict):
        return Verdict(False, (f"the gate could not run (exit status {exit_status}); see above",))
    return Verdict(False, tuple(_explain(data)))


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
