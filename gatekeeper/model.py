"""The one result model every check produces and every report writer reads.

Writers never re-run or re-parse anything: what a report shows is in these values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final


class Status(enum.StrEnum):
    """How a check ended. ``error`` means it could not judge, and fails the gate like ``failed``."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


SEVERITY_RANK: Final = {Severity.ERROR: 0, Severity.WARNING: 1}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place. ``path`` is relative to the worktree root, POSIX style."""

    check: str
    path: str
    line: int
    column: int
    code: str
    message: str
    severity: Severity = Severity.ERROR
    fingerprint: str = ""
    new: bool | None = None

    def sort_key(self) -> tuple[int, str, int, int, str]:
        return (SEVERITY_RANK[self.severity], self.path, self.line, self.column, self.code)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check decided.

    ``rule`` is the exact rule that decided ``status``; ``ran`` lists the commands that ran.
    """

    name: str
    status: Status
    summary: str
    rule: str = ""
    findings: tuple[Finding, ...] = ()
    metrics: Mapping[str, float | int | str] = field(default_factory=dict)
    duration: float = 0.0
    ran: tuple[str, ...] = ()
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.status in (Status.PASSED, Status.SKIPPED)

    def with_duration(self, duration: float) -> CheckResult:
        return replace(self, duration=duration)


@dataclass(frozen=True, slots=True)
class GitFacts:
    """Where the gate ran: ``branch`` is None on a detached HEAD, ``head`` None before a commit."""

    root: str
    branch: str | None
    head: str | None


@dataclass(frozen=True, slots=True)
class Report:
    """The gate's verdict over all checks, with everything needed to explain it."""

    verdict: Status
    rule: str
    checks: tuple[CheckResult, ...]
    git: GitFacts | None
    config: Mapping[str, object]
    version: str
    duration: float = 0.0
    # -- integration: the merge-result gate's section (gatekeeper.integration.outcome) --
    integration: Mapping[str, object] | None = None

    @property
    def passed(self) -> bool:
        return self.verdict is Status.PASSED


def decide(checks: tuple[CheckResult, ...]) -> tuple[Status, str]:
    """The gate's verdict and the rule that decided it: every enabled check must pass (a check
    may skip when it has nothing to judge, but at least one must pass)."""
    bad = [c for c in checks if not c.ok]
    if not checks:
        return Status.FAILED, "no check ran; an empty gate is not a pass"
    if bad:
        names = ", ".join(f"{c.name} {c.status.value}" for c in bad)
        return Status.FAILED, f"every enabled check must pass; {names}"
    skipped = [c.name for c in checks if c.status is Status.SKIPPED]
    if not skipped:
        return Status.PASSED, f"all {len(checks)} enabled checks passed"
    counts = f"{len(checks) - len(skipped)} passed, {len(skipped)} skipped ({', '.join(skipped)})"
    if len(skipped) == len(checks):
        return Status.FAILED, f"{counts}: every enabled check skipped, so nothing was judged"
    return Status.PASSED, f"{counts}; no enabled check failed"
