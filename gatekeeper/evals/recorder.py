"""Gathering eval case results from test reports, for whichever adapter drives pytest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from gatekeeper.evals.results import CaseResult, EvalOutcome, from_properties

DATASET_SUFFIXES: Final = (".yaml", ".yml")


class CaseReport(Protocol):
    """What is read from a pytest test report."""

    @property
    def when(self) -> str: ...
    @property
    def failed(self) -> bool: ...
    @property
    def user_properties(self) -> Sequence[tuple[str, object]]: ...


class FileReport(Protocol):
    """What is read from a pytest collect report."""

    @property
    def failed(self) -> bool: ...
    @property
    def nodeid(self) -> str: ...
    @property
    def longrepr(self) -> object: ...


class Recorder:
    """Eval case results from reports (under xdist too), and datasets that failed to load."""

    def __init__(self) -> None:
        self.cases: list[CaseResult] = []
        self.problems: list[str] = []
        self.failed_items = 0

    def take(self, report: CaseReport) -> bool:
        """Record ``report`` if it is an eval case's call report; returns whether it was."""
        if report.when != "call":
            return False
        result = from_properties(report.user_properties)
        if result is None:
            return False
        self.cases.append(result)
        self.failed_items += int(report.failed)
        return True

    def take_collect(self, report: FileReport) -> None:
        """Record a dataset file that could not be collected (its message names the cause)."""
        if report.failed and report.nodeid.endswith(DATASET_SUFFIXES):
            self.problems.append(str(report.longrepr).strip())

    def outcome(self) -> EvalOutcome:
        return EvalOutcome(tuple(self.cases), tuple(self.problems))
