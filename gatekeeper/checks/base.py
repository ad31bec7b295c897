"""The check protocol: what a check is given and what it must return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from gatekeeper.config import Option, Settings
from gatekeeper.model import CheckResult, Finding

if TYPE_CHECKING:
    from gatekeeper.evals.results import EvalOutcome


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """What the pytest session did, as the tests and coverage checks need it."""

    __test__ = False  # not a test class, despite the name

    exitstatus: int
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    failures: tuple[Finding, ...] = ()
    coverage_dir: Path | None = None
    coverage_problem: str | None = None
    # Measured modules imported before measuring started: their import-time lines read as
    # not run (said beside the figure).
    coverage_note: str | None = None
    duration: float = 0.0
    evals: EvalOutcome | None = None  # eval case results, for the evals check
    # Collected tests that never ran (the session ended first: pytest.exit(), a crash, -x), and
    # what ended it. Tests that did not run prove nothing: the tests check fails.
    not_run: int = 0
    stopped: str = ""

    @property
    def ran(self) -> int:
        return self.passed + self.failed + self.xfailed + self.xpassed


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Everything a check may read. ``paths``: the resolved source paths, relative to ``root``."""

    settings: Settings
    root: Path
    worktree: Path
    paths: tuple[str, ...]
    session: TestOutcome | None = None
    python: str = field(default="")


@runtime_checkable
class Check(Protocol):
    """A check of the gate.

    ``needs_session`` checks are decided from the test session when it ends (tests, coverage);
    the others start in the background when the session starts. ``run`` returns a result and
    should not raise: anything it raises becomes a result with status ``error``.
    """

    name: str
    description: str
    needs_session: bool

    def options(self) -> Sequence[Option]:
        """Configuration keys of this check, beyond ``timeout`` and ``args`` (plugin checks)."""
        ...

    def run(self, context: CheckContext) -> CheckResult:
        """Judge and return the result."""
        ...
