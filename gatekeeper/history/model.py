"""What one gate run leaves in the history: ids, names, statuses, counts and durations only.

Never a file's content, a finding's message or a configuration value: a record says *that* a
check failed and how many findings it had, the report says why. Test and eval case ids are
masked like every other text gatekeeper writes (a parametrized id may hold a URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# Where a gate run was started from: `pytest --gatekeeper`, `gatekeeper run`, and the gates the
# pre-push hook, `integrate` and `land` run in temporary worktrees (recorded for the worktree
# they were started from). `combine` is the shard merger's, when it records.
ENTRIES: Final = ("pytest", "run", "hook", "integrate", "land", "combine")
# Failing ids kept per run and kind; the count beside them is always whole.
IDS_KEPT: Final = 200


@dataclass(frozen=True, slots=True)
class CheckRun:
    """One check of a run: its status, how long it took, how many findings it had, and
    whether its result was reused from the cache."""

    name: str
    status: str
    duration: float
    findings: int
    cached: bool

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")


@dataclass(frozen=True, slots=True)
class Run:
    """One gate run. ``worktree`` is the path of the worktree it belongs to (for a gate in a
    temporary worktree: the one it was started from); ``tree`` the git tree id of the content
    judged (uncommitted changes included); ``whole_suite``: the test session ran the whole
    suite, so a passing tests check means every test passed. ``id`` is the store's, once kept.
    """

    finished: float
    entry: str
    worktree: str
    branch: str | None
    head: str | None
    tree: str | None
    base: str | None
    verdict: str
    duration: float
    cached: bool
    whole_suite: bool
    checks: tuple[CheckRun, ...] = ()
    failed_tests: tuple[str, ...] = ()
    failed_evals: tuple[str, ...] = ()
    tests_failing: int = 0  # how many tests failed (ids beyond IDS_KEPT are not kept)
    evals_failing: int = 0
    version: str = ""
    id: int | None = field(default=None, compare=False)

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def failed_checks(self) -> list[str]:
        """The checks that failed or could not run, in the gate's order."""
        return [check.name for check in self.checks if check.failed]

    def as_dict(self) -> dict[str, object]:
        """The run for ``status --json`` (times in seconds since the epoch)."""
        return {
            "id": self.id,
            "finished": round(self.finished, 3),
            "entry": self.entry,
            "worktree": self.worktree,
            "branch": self.branch,
            "head": self.head,
            "tree": self.tree,
            "base": self.base,
            "verdict": self.verdict,
            "duration": round(self.duration, 3),
            "cached": self.cached,
            "whole_suite": self.whole_suite,
            "failed_checks": self.failed_checks(),
            "checks": [
                {
                    "name": c.name,
                    "status": c.status,
                    "duration": round(c.duration, 3),
                    "findings": c.findings,
                    "cached": c.cached,
                }
                for c in self.checks
            ],
            "failed_tests": list(self.failed_tests),
            "failed_evals": list(self.failed_evals),
            "tests_failing": self.tests_failing,
            "evals_failing": self.evals_failing,
        }
