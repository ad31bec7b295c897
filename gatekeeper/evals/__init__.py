"""Golden-dataset evals: datasets of scenarios, scorers, per-case results and the baseline."""

from gatekeeper.evals.results import CaseResult, EvalOutcome
from gatekeeper.evals.scorers import Score, Scorer

__all__ = ["CaseResult", "EvalOutcome", "Score", "Scorer"]
