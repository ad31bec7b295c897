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
    rule = "every test passes, and at least one test ran"
    if outcome.failed or outcome.errors:
        status, summary = Status.FAILED, shown
    elif outcome.exitstatus in _EXIT_MEANINGS:
        status, summary = Status.FAILED, _EXIT_MEANINGS[outcome.exitstatus]
    elif outcome.ran == 0:
        status = Status.FAILED
        summary = f"no test ran ({shown or 'nothing collected'}); an empty suite is not a pass"
    elif outcome.exitstatus != 0:
        status, summary = Status.FAILED, f"pytest exited with status {outcome.exitstatus}"
    else:
        status, summary = Status.PASSED, shown
    return CheckResult(
        "tests",
        status,
        summary,
        rule=rule,
        findings=outcome.failures,
        metrics=counts,
        duration=outcome.duration,
    )
