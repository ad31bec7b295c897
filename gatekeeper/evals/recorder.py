"""Gathering eval case results from test reports, for whichever adapter drives pytest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Protocol

from gatekeeper.evals.results import PROPERTY, CaseResult, EvalOutcome, from_properties

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
        self.collected: set[str] = set()  # eval cases selected to run, by node id
        self.deselected = False  # some item was deselected at collection (-k, a conftest)

    def take(self, report: CaseReport) -> bool:
        """Record ``report`` if it is an eval case's call report; returns whether it was."""
        if not carries_case(report):
            return False
        result = from_properties(report.user_properties)
        assert result is not None
        self.cases.append(result)
        self.failed_items += int(report.failed)
        return True

    def take_collect(self, report: FileReport) -> None:
        """Record a dataset file that could not be collected (its message names the cause)."""
        if report.failed and report.nodeid.endswith(DATASET_SUFFIXES):
            self.problems.append(str(report.longrepr).strip())

    def take_collected(self, nodeids: Iterable[str]) -> None:
        """Note the eval cases among the items collected to run (after any deselection); under
        pytest-xdist every worker reports the same set."""
        self.collected.update(n for n in nodeids if is_case(n))

    def not_run(self) -> tuple[str, ...]:
        """Collected eval cases that produced no result: the session stopped before them
        (``-x``, ``--maxfail``) or their setup failed."""
        ran = {case.nodeid for case in self.cases}
        return tuple(sorted(self.collected - ran))

    def outcome(self) -> EvalOutcome:
        return EvalOutcome(tuple(self.cases), tuple(self.problems), self.not_run())


def carries_case(report: CaseReport) -> bool:
    """Whether ``report`` is an eval case's call report, carrying the case's result: such a
    report is the evals check's to judge, never a test's."""
    if report.when != "call":
        return False
    return any(n == PROPERTY and isinstance(v, tuple | list) for n, v in report.user_properties)


def is_case(nodeid: str) -> bool:
    """Whether ``nodeid`` names an eval case (``evals/double.yaml::c7``)."""
    path, separator, _ = nodeid.partition("::")
    return bool(separator) and path.endswith(DATASET_SUFFIXES)
