"""Running one eval case: call the target ``repeats`` times, score each run, apply k-of-n."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gatekeeper.evals.dataset import Case, Dataset
from gatekeeper.evals.results import ERROR, FAILED, PASSED, CaseResult, shorten
from gatekeeper.evals.scorers import Score, Scorer


@dataclass(frozen=True, slots=True)
class Run:
    """One call of the target and its score."""

    actual: object
    score: Score


class ScorerCrash(Exception):
    """The scorer raised: the case cannot be judged."""


def run_case(
    dataset: Dataset, case: Case, target: Callable[..., Any], scorer: Scorer
) -> CaseResult:
    """Call ``target(case.input)`` ``case.repeats`` times and decide the case.

    A target that raises fails that run (the system under test broke on this input); a scorer
    that raises makes the whole case an ``error``. Never raises for either.
    """
    runs: list[Run] = []
    try:
        for _ in range(case.repeats):
            runs.append(_one_run(case, target, scorer))
    except ScorerCrash as crash:
        return _result(dataset, case, runs, ERROR, str(crash))
    passes = sum(1 for run in runs if run.score.passed)
    verdict = PASSED if passes >= case.must_pass else FAILED
    return _result(dataset, case, runs, verdict, _explain(case, runs, passes, verdict))


def _explain(case: Case, runs: list[Run], passes: int, verdict: str) -> str:
    failing = [run for run in runs if not run.score.passed]
    explanation = failing[0].score.explanation if failing else ""
    if case.repeats > 1 and verdict == FAILED:
        return f"{passes} of {case.repeats} runs passed, {case.must_pass} needed; {explanation}"
    return explanation


def _one_run(case: Case, target: Callable[..., Any], scorer: Scorer) -> Run:
    try:
        actual = target(case.input)
    except Exception as error:  # the target failing on this input is a failed run
        raised = f"the target raised {type(error).__name__}: {error}"
        return Run(f"<{type(error).__name__}>", Score(False, 0.0, raised))
    try:
        score = scorer.score(case.expected, actual, case.scorer.options)
    except Exception as error:  # a scorer that cannot judge must not pass or fail the case
        raise ScorerCrash(
            f"scorer {case.scorer.name!r} raised {type(error).__name__}: {error}"
        ) from None
    return Run(actual, score)


def _result(
    dataset: Dataset, case: Case, runs: list[Run], verdict: str, explanation: str
) -> CaseResult:
    shown = next((run for run in runs if not run.score.passed), runs[-1] if runs else None)
    mean = sum(run.score.value for run in runs) / len(runs) if runs else 0.0
    return CaseResult(
        dataset=dataset.path,
        case=case.id,
        verdict=verdict,
        passes=sum(1 for run in runs if run.score.passed),
        runs=len(runs),
        must_pass=case.must_pass,
        score=mean,
        expected=shorten(case.expected),
        actual=shorten(shown.actual) if shown is not None else "",
        explanation=explanation,
        source=case.source,
        line=case.line,
        flaky=case.flaky,
        threshold=dataset.threshold,
        dataset_cases=len(dataset.cases),
        dataset_digest=dataset.digest,
        case_digest=case.digest,
        scorer_digest=case.scorer.digest,
    )
