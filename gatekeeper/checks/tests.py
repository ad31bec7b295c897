"""``tests``: the pytest session itself. Every test must pass, and at least one must have run."""

from __future__ import annotations

from collections.abc import Sequence

from gatekeeper.checks.base import CheckContext, TestOutcome
from gatekeeper.config import Option
from gatekeeper.model import CheckResult, Status

# pytest's exit statuses, as documented.
_EXIT_MEANINGS = {
    2: "the session was interrupted (or collection failed)",
    3: "pytest hit an internal error",
    4: "pytest was called with bad arguments",
    5: "no tests were collected",
}


class TestsCheck:
    __test__ = False  # not a test class, despite the name

    name = "tests"
    description = "the pytest session"
    needs_session = True

    def options(self) -> Sequence[Option]:
        return ()

    def run(self, context: CheckContext) -> CheckResult:
        outcome = context.session
        if outcome is None:
            return CheckResult(
                self.name, Status.ERROR, "no test session ran; use `gatekeeper run` or pytest"
            )
        return judge(outcome)


def judge(outcome: TestOutcome) -> CheckResult:
    """The verdict on a finished session."""
    counts = {
        "passed": outcome.passed,
        "failed": outcome.failed,
        "errors": outcome.errors,
        "skipped": outcome.skipped,
        "xfailed": outcome.xfailed,
        "xpassed": outcome.xpassed,
        "exitstatus": outcome.exitstatus,
    }
    shown = ", ".join(f"{v} {k}" for k, v in counts.items() if v and k != "exitstatus")
    problem = _problem(outcome, shown)
    return CheckResult(
        "tests",
        Status.PASSED if problem is None else Status.FAILED,
        shown if problem is None else problem,
        rule="every collected test runs and passes, and at least one test ran",
        findings=outcome.failures,
        metrics=counts,
        duration=outcome.duration,
    )


def _problem(outcome: TestOutcome, shown: str) -> str | None:
    """What fails the session, worst first; None when it passed."""
    if outcome.failed or outcome.errors:
        return shown
    if outcome.not_run:
        return (
            f"{outcome.not_run} collected test(s) did not run: "
            f"{outcome.stopped or 'the session ended early'} ({shown or 'none ran'})"
        )
    if outcome.exitstatus in _EXIT_MEANINGS:
        return _EXIT_MEANINGS[outcome.exitstatus]
    if outcome.ran == 0:
        return f"no test ran ({shown or 'nothing collected'}); an empty suite is not a pass"
    if outcome.exitstatus != 0:
        return f"pytest exited with status {outcome.exitstatus}"
    return None
