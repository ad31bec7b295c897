"""``evals``: golden datasets of scenarios, judged by three gates.

1. per case: a case passes when at least ``must_pass`` of its ``repeats`` runs pass;
2. per dataset: the pass rate of its non-flaky cases is at least its ``threshold``;
3. no regression: a case that passed in the baseline and fails now fails the gate, even when
   the rate is unchanged.

``flaky`` cases are reported, never gated. The cases run as pytest items; their results reach
this check through the session outcome.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from gatekeeper.checks.base import CheckContext
from gatekeeper.config import Option
from gatekeeper.evals import casebaseline as baselines
from gatekeeper.evals import dataset as datasets
from gatekeeper.evals.results import CaseResult, EvalOutcome
from gatekeeper.model import CheckResult, Finding, Severity, Status

RULES = (
    "per case: at least must_pass of repeats runs pass; per dataset: pass rate >= threshold; "
    "no case that passed in the baseline fails now"
)


class EvalsCheck:
    name = "evals"
    description = "golden datasets of scenarios (evals)"
    needs_session = True

    def options(self) -> Sequence[Option]:
        return ()

    def run(self, context: CheckContext) -> CheckResult:
        settings = context.settings
        paths = settings.strings("evals.paths")
        if not datasets.discover(context.root, paths):
            shown = ", ".join(paths) or "(none)"
            return CheckResult(
                self.name,
                Status.SKIPPED,
                f"no eval datasets (*.yaml) under {shown}; [tool.gatekeeper.evals] paths "
                "names where they live",
                rule="a project without datasets has nothing to judge",
            )
        if context.session is None:
            return CheckResult(
                self.name, Status.ERROR, "no test session ran; use `gatekeeper run` or pytest"
            )
        shown = settings.text("evals.baseline")
        recorded = baselines.read(context.root / shown, shown)
        return judge(context.session.evals or EvalOutcome(), recorded, shown)


@dataclass(frozen=True, slots=True)
class Rate:
    """One dataset's pass rate over its non-flaky cases that ran."""

    dataset: str
    passed: int
    gated: int
    threshold: float
    ran: int
    total: int

    @property
    def value(self) -> float:
        return self.passed / self.gated if self.gated else 1.0

    @property
    def low(self) -> bool:
        return self.gated > 0 and self.value < self.threshold

    def describe(self) -> str:
        partial = f", {self.ran} of {self.total} cases ran" if self.ran < self.total else ""
        return (
            f"{self.dataset} {self.passed}/{self.gated} = {self.value:.3g} "
            f"(threshold {self.threshold:g}{partial})"
        )


def judge(
    outcome: EvalOutcome, recorded: baselines.Baseline | None, baseline_name: str
) -> CheckResult:
    """The verdict on a session's eval results against the ``recorded`` baseline (if any)."""
    if outcome.problems:
        return CheckResult(
            "evals",
            Status.ERROR,
            f"{len(outcome.problems)} dataset(s) could not be loaded: {outcome.problems[0]}",
            rule="every dataset must load",
        )
    if not outcome.cases:
        return CheckResult(
            "evals",
            Status.FAILED,
            "datasets exist but no eval case ran (filtered out or not collected); an empty "
            "eval run is not a pass",
            rule="at least one eval case runs",
        )
    if outcome.not_run:
        return _not_run(outcome)
    errors = [c for c in outcome.cases if c.verdict == "error"]
    if errors:
        return CheckResult(
            "evals",
            Status.ERROR,
            f"{len(errors)} case(s) could not be judged; first {errors[0].nodeid}: "
            f"{errors[0].explanation}",
            rule="every eval case must be judged",
            findings=tuple(_finding(c, "EVAL-ERROR", c.explanation) for c in errors),
        )
    return _gates(outcome.cases, recorded, baseline_name)


def _not_run(outcome: EvalOutcome) -> CheckResult:
    """A session that stopped before all its collected eval cases ran judged only some: the
    cases it skipped may be the ones that regressed, so it is no pass."""
    missing = outcome.not_run
    total = len(missing) + len({c.nodeid for c in outcome.cases})
    return CheckResult(
        "evals",
        Status.FAILED,
        f"{len(missing)} of {total} collected eval case(s) did not run (the session stopped "
        f"early: -x/--maxfail, or their setup failed), first {missing[0]}; the evals gate "
        "judges only complete runs: run without -x/--maxfail",
        rule="every collected eval case runs",
    )


def rates(cases: Sequence[CaseResult]) -> list[Rate]:
    """The pass rate of every dataset that ran, in dataset order."""
    by_dataset: dict[str, list[CaseResult]] = defaultdict(list)
    for case in cases:
        by_dataset[case.dataset].append(case)
    found = []
    for name, ran in sorted(by_dataset.items()):
        gated = [c for c in ran if not c.flaky]
        passed = sum(1 for c in gated if c.passed)
        found.append(
            Rate(name, passed, len(gated), ran[0].threshold, len(ran), ran[0].dataset_cases)
        )
    return found


def _gates(
    cases: Sequence[CaseResult], recorded: baselines.Baseline | None, baseline_name: str
) -> CheckResult:
    measured = rates(cases)
    low = [rate for rate in measured if rate.low]
    comparison = baselines.compare(recorded or baselines.Baseline(), cases)
    decided = _deciding_rules(low, comparison)
    findings = _findings(cases, {r.dataset for r in low}, comparison)
    # A failing check leads with the rule that decided it: the terminal shows the summary.
    summary = "; ".join(decided or [r.describe() for r in measured])
    summary += _baseline_note(recorded, comparison, baseline_name)
    return CheckResult(
        "evals",
        Status.FAILED if decided else Status.PASSED,
        summary,
        rule="; ".join(decided) if decided else RULES,
        findings=findings,
        metrics=_metrics(cases, comparison, len(measured)),
    )


def _metrics(
    cases: Sequence[CaseResult], comparison: baselines.Comparison, datasets_ran: int
) -> dict[str, float | int | str]:
    return {
        "cases": len(cases),
        "passed": sum(1 for c in cases if c.passed),
        "flaky": sum(1 for c in cases if c.flaky),
        "regressed": len(comparison.regressed),
        "fixed": len(comparison.fixed),
        "stale": len(comparison.stale),
        "datasets": datasets_ran,
    }


def _deciding_rules(low: Sequence[Rate], comparison: baselines.Comparison) -> list[str]:
    rules = [f"pass rate must be >= threshold: {rate.describe()}" for rate in low]
    if comparison.regressed:
        names = ", ".join(result.nodeid for result, _ in comparison.regressed)
        rules.append(f"no case that passed in the baseline may fail now: {names} regressed")
    return rules


def _baseline_note(
    recorded: baselines.Baseline | None, comparison: baselines.Comparison, name: str
) -> str:
    if recorded is None:
        return f"; no baseline at {name} (record one with `gatekeeper evals baseline`)"
    parts = [f"{len(comparison.regressed)} regressed", f"{len(comparison.fixed)} fixed"]
    if comparison.stale:
        parts.append(f"{len(comparison.stale)} stale (case or scorer changed since recorded)")
    if comparison.unrecorded:
        parts.append(f"{len(comparison.unrecorded)} not in the baseline")
    return f"; against {name}: " + ", ".join(parts)


def _findings(
    cases: Sequence[CaseResult], low: set[str], comparison: baselines.Comparison
) -> tuple[Finding, ...]:
    regressed = {result.nodeid for result, _ in comparison.regressed}
    found = [
        _finding(result, "EVAL-REGRESSED", f"passed in the baseline, fails now: {_shown(result)}")
        for result, _ in comparison.regressed
    ]
    for case in cases:
        if case.passed or case.nodeid in regressed:
            continue
        if case.flaky:
            found.append(
                _finding(case, "EVAL-FLAKY", f"flaky, not gated: {_shown(case)}", warn=True)
            )
        else:
            found.append(_finding(case, "EVAL-FAILED", _shown(case), warn=case.dataset not in low))
    found.extend(
        _finding(
            result,
            "EVAL-FIXED",
            f"failed in the baseline (expected {entry.expected}, actual {entry.actual}), "
            "passes now",
            warn=True,
        )
        for result, entry in comparison.fixed
    )
    return tuple(found)


def _shown(case: CaseResult) -> str:
    why = f" ({case.explanation})" if case.explanation else ""
    return f"expected {case.expected}, actual {case.actual}{why}"


def _finding(case: CaseResult, code: str, message: str, *, warn: bool = False) -> Finding:
    return Finding(
        check="evals",
        path=case.source,
        line=case.line,
        column=1,
        code=code,
        message=f"{case.nodeid}: {message}",
        severity=Severity.WARNING if warn else Severity.ERROR,
    )
