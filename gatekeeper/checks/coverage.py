"""``coverage``: coverage.py around the test session, of the configured source paths."""

from __future__ import annotations

from collections.abc import Sequence

from gatekeeper.checks.base import CheckContext
from gatekeeper.config import Option
from gatekeeper.errors import ToolError
from gatekeeper.measure import combine
from gatekeeper.model import CheckResult, Status


class CoverageCheck:
    name = "coverage"
    description = "coverage.py around the test session"
    needs_session = True

    def options(self) -> Sequence[Option]:
        return ()

    def run(self, context: CheckContext) -> CheckResult:
        outcome = context.session
        if outcome is None or outcome.coverage_dir is None:
            problem = outcome.coverage_problem if outcome else None
            raise ToolError(problem or "coverage was not measured: no test session ran.")
        totals = combine(outcome.coverage_dir, context.paths)
        configured = context.settings.number("coverage.fail-under")
        fail_under = configured if configured is not None else totals.fail_under
        shown = f"{totals.percent:.{totals.precision}f}%"
        metrics: dict[str, float | int | str] = {"percent": totals.percent, "files": totals.files}
        if not fail_under:
            return CheckResult(
                self.name,
                Status.PASSED,
                f"{shown} (no fail-under set: reported only)",
                rule="no fail-under configured, so coverage is reported, not gated",
                metrics=metrics,
            )
        metrics["fail_under"] = fail_under
        # Judge at the precision that is shown, as coverage.py does, so 89.996% shown as
        # "90.00%" is not failed against 90.
        passed = round(totals.percent, totals.precision) >= fail_under
        if fail_under >= 100.0:
            passed = totals.percent >= 100.0  # 99.999% is not 100%, however it is rounded
        return CheckResult(
            self.name,
            Status.PASSED if passed else Status.FAILED,
            f"{shown} {'>=' if passed else '<'} fail-under {fail_under:g}%",
            rule=f"total coverage >= fail-under = {fail_under:g}%",
            metrics=metrics,
        )
