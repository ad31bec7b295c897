"""``coverage``: coverage.py around the test session, of the configured source paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gatekeeper.checks.base import CheckContext
from gatekeeper.checks.measure import Totals, combine
from gatekeeper.config import Option
from gatekeeper.errors import ToolError
from gatekeeper.git import scope
from gatekeeper.model import CheckResult, Status
from gatekeeper.newcode import diffcoverage


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
        total = judge_total(context, combine(outcome.coverage_dir, context.paths))
        if outcome.coverage_note:  # under-measured: said beside the figure, never hidden
            total = replace(total, summary=f"{total.summary} ({outcome.coverage_note})")
        threshold = context.settings.number("coverage.diff-fail-under")
        if threshold is None:
            return total
        return with_diff(total, judge_diff(context, outcome.coverage_dir / ".coverage", threshold))


def judge_total(context: CheckContext, totals: Totals) -> CheckResult:
    """The verdict on total coverage against ``fail-under``."""
    configured = context.settings.number("coverage.fail-under")
    fail_under = configured if configured is not None else totals.fail_under
    shown = f"{totals.percent:.{totals.precision}f}%"
    metrics: dict[str, float | int | str] = {"percent": totals.percent, "files": totals.files}
    if not fail_under:
        return CheckResult(
            "coverage",
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
        "coverage",
        Status.PASSED if passed else Status.FAILED,
        f"{shown} {'>=' if passed else '<'} fail-under {fail_under:g}%",
        rule=f"total coverage >= fail-under = {fail_under:g}%",
        metrics=metrics,
    )


def judge_diff(context: CheckContext, data_file: Path, threshold: float) -> CheckResult:
    """The verdict on the changed lines against ``diff-fail-under``."""
    base = context.settings.get("base")
    changes = scope.changes(context.worktree, base if isinstance(base, str) else None)
    sources = [context.root / p for p in context.paths]
    files = diffcoverage.source_files(changes, context.worktree, sources)
    measured = diffcoverage.measure(data_file, changes, context.worktree, files)
    passed = measured.meets(threshold)
    missed = sum(len(lines) for lines in measured.uncovered.values())
    return CheckResult(
        "coverage",
        Status.PASSED if passed else Status.FAILED,
        f"changed lines {measured.percent:.1f}% covered ({missed} of {measured.executable} "
        f"uncovered) {'>=' if passed else '<'} diff-fail-under {threshold:g}%",
        rule=f"changed lines since {changes.base} covered >= diff-fail-under = {threshold:g}%",
        findings=measured.findings(),
        metrics={
            "diff_percent": measured.percent,
            "diff_lines": measured.executable,
            "diff_uncovered": missed,
            "diff_fail_under": threshold,
        },
    )


def with_diff(total: CheckResult, diff: CheckResult) -> CheckResult:
    """One coverage result: it passes only when both the total and the changed lines pass."""
    failed = Status.FAILED in (total.status, diff.status)
    return CheckResult(
        "coverage",
        Status.FAILED if failed else Status.PASSED,
        f"{total.summary}; {diff.summary}",
        rule=f"{total.rule}; {diff.rule}",
        findings=diff.findings,
        metrics={**total.metrics, **diff.metrics},
    )
