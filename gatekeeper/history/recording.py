"""One record per gate run, written when the gate has decided: it never changes the verdict and
never fails the gate. A store that cannot be written costs one warning line, nothing more.

What is kept (:class:`~gatekeeper.history.model.Run`): when, the entry point, the worktree,
branch, head commit, tree and base, the verdict, each check's status, duration, finding count and
cache use, and the ids of failing tests and eval cases, masked like every other text gatekeeper
writes. Never a message, a file's content or a configuration value.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gatekeeper.cache.store import tree_id
from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError
from gatekeeper.git import repository, scope
from gatekeeper.history import flaky as flakiness
from gatekeeper.history.model import IDS_KEPT, CheckRun, Run
from gatekeeper.history.origin import NESTED, Origin, of_session
from gatekeeper.history.store import Store, location
from gatekeeper.model import CheckResult, Report
from gatekeeper.redaction import redact

# The finding codes that name a failing test (tests check) or eval case (evals check).
FAILING: Final = {
    "tests": frozenset({"FAILED", "ERROR"}),
    "evals": frozenset({"EVAL-FAILED", "EVAL-REGRESSED"}),
}
FLAKY_SHOWN: Final = 10
WARNING: Final = "gatekeeper: warning: this gate run was not recorded in the history"
# Seconds the end of a gate waits at most for the git facts found while the tests ran.
PREPARING: Final = 120.0


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording has to say: a warning when the run could not be recorded, and the known
    flaky tests among the run's failures."""

    warning: str | None = None
    flaky: tuple[flakiness.Flaky, ...] = ()

    def lines(self) -> list[str]:
        """The lines for the gate's terminal section."""
        shown = [f"  {found.describe()}" for found in self.flaky[:FLAKY_SHOWN]]
        if len(self.flaky) > FLAKY_SHOWN:
            shown.append(f"  ... and {len(self.flaky) - FLAKY_SHOWN} more (gatekeeper status)")
        if shown:
            shown.insert(
                0,
                "known flaky among today's failures (they failed and passed on one tree before; "
                "the verdict stands):",
            )
        if self.warning:
            shown.append(self.warning)
        return shown


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the record needs from git, found while the tests run."""

    store: Path | None  # None outside git: no repository, no floor to record for
    origin: Origin
    branch: str | None  # the origin's branch, for a temporary worktree's gate
    tree: str | None
    base: str | None


def prepare(
    settings: Settings,
    worktree: Path,
    tree: str,
    via_run: bool,
    environ: Mapping[str, str],
    entry: str | None = None,
) -> Prepared:
    """The git facts of a run in ``worktree``; ``tree`` is the result cache's tree id ("" when
    the cache is off, and then found here). ``entry``: a command that gates in this process
    (``combine``), else the session's origin."""
    if entry is None:
        origin = of_session(worktree, environ, via_run=via_run)
    else:
        origin = Origin(entry, worktree)
    branch = None
    if origin.worktree != worktree:  # a temporary worktree's gate: the branch of its origin
        found = repository.facts(origin.worktree)
        branch = found.branch if found is not None else None
    return Prepared(
        location(worktree), origin, branch, tree or _tree(worktree), _base(settings, worktree)
    )


class Recorder:
    """The recording of one gate run, made when the session starts.

    What the record needs from git (where the store is, who started the run, the base, the
    tree id when the result cache did not compute one) is found in a thread of its own while the
    tests run, so the gate never waits for it; :meth:`finish` only writes the record. The thread
    starts with no trace function, as the gate's background checks do (gatekeeper.gate), and
    imports nothing: what it runs was imported with this module.
    """

    def __init__(
        self,
        settings: Settings,
        worktree: Path,
        tree: str,
        *,
        via_run: bool,
        environ: Mapping[str, str] = os.environ,
        entry: str | None = None,
    ) -> None:
        self.settings = settings
        self.enabled = settings.flag("history.record")
        self.prepared: Future[Prepared] = Future()
        if self.enabled:
            given = (settings, worktree, tree, via_run, dict(environ), entry)
            thread = threading.Thread(target=self._prepare, args=given, daemon=True)
            previous = threading.gettrace()
            threading.settrace(None)
            try:
                thread.start()
            except RuntimeError as error:  # no thread to be had: said by finish(), as a warning
                self.prepared.set_exception(error)
            finally:
                threading.settrace(previous)

    def _prepare(self, *given: Any) -> None:
        try:
            self.prepared.set_result(prepare(*given))
        except BaseException as error:  # reported by finish(), as a warning
            self.prepared.set_exception(error)

    def finish(self, report: Report, whole_suite: bool, now: float | None = None) -> Recorded:
        """Record the run of ``report`` (unless ``[tool.gatekeeper.history] record = false``);
        never raises."""
        if not self.enabled:
            return Recorded()
        try:
            prepared = self.prepared.result(timeout=PREPARING)
            return _write(report, self.settings, prepared, whole_suite, now)
        except Exception as error:  # recording is information: it must never fail a gate
            detail = str(error) or type(error).__name__
            return Recorded(warning=f"{WARNING}: {detail}")


def _write(
    report: Report, settings: Settings, prepared: Prepared, whole_suite: bool, now: float | None
) -> Recorded:
    if prepared.store is None:
        return Recorded()
    run = capture(report, prepared, whole_suite, time.time() if now is None else now)
    with Store.open(prepared.store) as store:
        store.add(run)
        keep_days = settings.number("history.keep-days") or 0.0
        store.prune(
            keep_days=keep_days, keep_runs=settings.integer("history.keep-runs"), now=run.finished
        )
        known = flakiness.find(store, only=run.failed_tests) if run.failed_tests else []
    return Recorded(flaky=tuple(known))


def capture(report: Report, prepared: Prepared, whole_suite: bool, now: float) -> Run:
    """The record of ``report``'s run."""
    git = report.git
    tests = failing_ids(report.checks, "tests")
    evals = failing_ids(report.checks, "evals")
    checks = tuple(
        CheckRun(c.name, c.status.value, c.duration, len(c.findings), c.cached)
        for c in report.checks
    )
    return Run(
        finished=now,
        entry=prepared.origin.entry,
        worktree=str(prepared.origin.worktree),
        branch=prepared.branch if prepared.origin.entry in NESTED else _branch(report),
        head=git.head if git is not None else None,
        tree=prepared.tree,
        base=prepared.base,
        verdict=report.verdict.value,
        duration=report.duration,
        cached=bool(checks) and all(c.cached for c in checks),
        whole_suite=whole_suite,
        checks=checks,
        failed_tests=tuple(tests[:IDS_KEPT]),
        failed_evals=tuple(evals[:IDS_KEPT]),
        tests_failing=len(tests),
        evals_failing=len(evals),
        version=report.version,
    )


def failing_ids(checks: Iterable[CheckResult], name: str) -> list[str]:
    """The ids of the failing tests (``tests``) or eval cases (``evals``), masked, each once."""
    codes = FAILING[name]
    found = (
        redact(node_id(f.message))
        for check in checks
        if check.name == name
        for f in check.findings
        if f.code in codes
    )
    return list(dict.fromkeys(found))


def node_id(message: str) -> str:
    """The node id a finding's message starts with (``NODEID: what happened``): up to the first
    ``": "`` outside the brackets of a parametrized id."""
    depth = 0
    for index, char in enumerate(message):
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif char == ":" and depth == 0 and message[index + 1 : index + 2] == " ":
            return message[:index]
    return message


def _branch(report: Report) -> str | None:
    return report.git.branch if report.git is not None else None


def _tree(worktree: Path) -> str | None:
    """The content's tree id when the result cache is off (it computes one otherwise)."""
    try:
        return tree_id(worktree)
    except GatekeeperError:
        return None


def _base(settings: Settings, worktree: Path) -> str | None:
    configured = settings.get("base")
    if isinstance(configured, str) and configured:
        return configured
    try:
        return scope.detect_base(worktree)
    except GatekeeperError:
        return None
