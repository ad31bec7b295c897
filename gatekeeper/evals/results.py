"""Eval results: what one case did, and how it travels from a pytest item to the gate.

A case's result rides on its test report's ``user_properties`` as a tuple of plain values, so
it reaches the controlling process unchanged under pytest-xdist too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

PROPERTY: Final = "gatekeeper_eval"
PASSED: Final = "passed"
FAILED: Final = "failed"
ERROR: Final = "error"
SHOWN_CHARS: Final = 300


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case's verdict after its ``runs``: it passed when ``passes >= must_pass``.

    ``verdict`` is ``passed``, ``failed`` or ``error`` (the case could not be judged: its scorer
    raised). ``expected`` and ``actual`` are shortened ``repr`` strings for reports.
    """

    dataset: str
    case: str
    verdict: str
    passes: int
    runs: int
    must_pass: int
    score: float
    expected: str
    actual: str
    explanation: str
    source: str
    line: int
    flaky: bool
    threshold: float
    dataset_cases: int
    dataset_digest: str
    case_digest: str
    scorer_digest: str

    @property
    def passed(self) -> bool:
        return self.verdict == PASSED

    @property
    def nodeid(self) -> str:
        return f"{self.dataset}::{self.case}"

    def to_property(self) -> tuple[object, ...]:
        """The fields in order, for a test report's ``user_properties``.

        A tuple of plain values crosses pytest-xdist's report serialisation unchanged, and
        costs a fraction of a JSON text to build and read back, once per case.
        """
        return tuple([getattr(self, name) for name in self.__slots__])

    @classmethod
    def from_property(cls, value: Sequence[object]) -> CaseResult:
        """Rebuild a result; raises ``ValueError`` when ``value`` is not one."""
        if len(value) != len(cls.__slots__):
            raise ValueError(f"not an eval case result: {len(value)} fields")
        return cls(*value)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class EvalOutcome:
    """Every eval case result of a session, datasets that could not be loaded, and eval cases
    that were collected but never ran (the session stopped early: ``-x``, ``--maxfail``)."""

    cases: tuple[CaseResult, ...] = ()
    problems: tuple[str, ...] = ()
    not_run: tuple[str, ...] = ()


def from_properties(properties: Iterable[tuple[str, object]]) -> CaseResult | None:
    """The case result carried by a test report's ``user_properties``, if it has one."""
    for name, value in properties:
        if name == PROPERTY and isinstance(value, tuple | list):
            return CaseResult.from_property(value)
    return None


def shorten(value: object) -> str:
    """``repr(value)`` cut to a length reports can show."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."
