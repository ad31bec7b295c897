"""What an integration decided: the result model, its JSON section and its terminal lines.

One model feeds both the ``integration`` section of the JSON report and the command's output;
neither re-runs or re-parses anything.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field


class StepVerdict(enum.StrEnum):
    """How one stack step ended. ``flaky``: failed, then passed on the retry (fails closed)."""

    PASSED = "passed"
    FAILED = "failed"
    FLAKY = "flaky"
    UNTESTED = "untested"


@dataclass(frozen=True, slots=True)
class Branch:
    name: str
    commit: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """``branch`` cannot merge with ``other`` (the base, another branch or the stack)."""

    branch: str
    other: str
    files: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.branch} conflicts with {self.other} in {', '.join(self.files)}"


@dataclass(frozen=True, slots=True)
class Step:
    """The base plus ``branches`` (cumulative), committed as ``commit`` with tree ``tree``."""

    branches: tuple[str, ...]
    commit: str
    tree: str
    verdict: StepVerdict = StepVerdict.UNTESTED
    runs: int = 0
    cached: bool = False
    explanation: tuple[str, ...] = ()

    @property
    def added(self) -> str:
        return self.branches[-1]


@dataclass(frozen=True, slots=True)
class Integration:
    """The whole answer: which branches can land together on ``base`` and which cannot, why."""

    base: str
    base_commit: str
    branches: tuple[Branch, ...]
    steps: tuple[Step, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    pairwise: tuple[Conflict, ...] = ()
    culprit: str | None = None
    gate_runs: int = 0
    already_in_base: tuple[str, ...] = field(default_factory=tuple)
    base_fails: bool = False

    @property
    def stacked(self) -> tuple[str, ...]:
        return self.steps[-1].branches if self.steps else ()

    @property
    def landable(self) -> tuple[str, ...]:
        """The branches whose stack passed the gate: they can land together."""
        passed = [s for s in self.steps if s.verdict is StepVerdict.PASSED]
        return passed[-1].branches if passed else ()

    @property
    def passed(self) -> bool:
        """Every branch merges cleanly and the whole stack passed the gate."""
        named = {b.name for b in self.branches} - set(self.already_in_base)
        return set(self.landable) == named

    @property
    def head(self) -> str | None:
        """The gated commit holding every landable branch (what ``land`` lands)."""
        passed = [s for s in self.steps if s.verdict is StepVerdict.PASSED]
        return passed[-1].commit if passed else None


def to_dict(result: Integration) -> dict[str, object]:
    """The ``integration`` section of the JSON report (``docs/report-schema.md``)."""
    return {
        "verdict": "passed" if result.passed else "failed",
        "base": {"ref": result.base, "commit": result.base_commit},
        "branches": [{"name": b.name, "commit": b.commit} for b in result.branches],
        "already_in_base": list(result.already_in_base),
        "steps": [_step_dict(s) for s in result.steps],
        "conflicts": [_conflict_dict(c) for c in result.conflicts],
        "pairwise_conflicts": [_conflict_dict(c) for c in result.pairwise],
        "culprit": result.culprit,
        "base_fails": result.base_fails,
        "landable": list(result.landable),
        "gate_runs": result.gate_runs,
    }


def _step_dict(step: Step) -> dict[str, object]:
    return {
        "branches": list(step.branches),
        "commit": step.commit,
        "tree": step.tree,
        "verdict": step.verdict.value,
        "runs": step.runs,
        "cached": step.cached,
        "explanation": list(step.explanation),
    }


def _conflict_dict(conflict: Conflict) -> dict[str, object]:
    return {"branch": conflict.branch, "with": conflict.other, "files": list(conflict.files)}


def lines(result: Integration) -> Iterator[str]:
    """The human summary: conflicts, the stack, the culprit, and what can land together."""
    yield f"onto {result.base} ({result.base_commit[:12]})"
    for name in result.already_in_base:
        yield f"  {name}: already in {result.base}, nothing to merge"
    for conflict in result.conflicts:
        yield f"  conflict: {conflict.describe()}"
    for conflict in result.pairwise:
        yield f"  pairwise: {conflict.describe()}"
    for step in result.steps:
        yield from _step_lines(result.base, step)
    yield from _verdict_lines(result)


def _step_lines(base: str, step: Step) -> Iterator[str]:
    note = " (cached)" if step.cached else ""
    if step.cached and not step.runs:
        note = " (cached: this exact tree passed the gate before; no worktree, no tests run)"
    runs = f", {step.runs} gate run(s)" if step.runs else ""
    yield f"  {'+'.join((base, *step.branches))}: {step.verdict.value}{note}{runs}"
    for line in step.explanation if step.verdict is not StepVerdict.PASSED else ():
        yield f"      {line}"


def _verdict_lines(result: Integration) -> Iterator[str]:
    if result.base_fails:
        yield (
            f"the base fails: {result.base} ({result.base_commit[:12]}) fails the gate on its "
            "own; no branch is blamed. Fix the base first."
        )
    if result.culprit is not None:
        yield f"culprit: {result.culprit} breaks the stack (the step that adds it fails the gate)"
    if any(s.verdict is StepVerdict.FLAKY for s in result.steps):
        yield (
            "flaky: the stack failed, then passed on the retry; no branch is blamed. Fix the "
            "flaky test shown above and run again."
        )
    if result.landable:
        yield f"can land together: {', '.join(result.landable)}"
    yield from _blocked_lines(result)
    yield f"{result.gate_runs} gate run(s); verdict: {'passed' if result.passed else 'failed'}"


def _blocked_lines(result: Integration) -> Iterator[str]:
    settled = {*result.landable, *result.already_in_base}
    blocked = [b.name for b in result.branches if b.name not in settled]
    if blocked:
        yield f"cannot land: {', '.join(blocked)} ({_why(result)})"


def _why(result: Integration) -> str:
    reasons = []
    if result.conflicts:
        reasons.append("conflicts above")
    if result.base_fails:
        reasons.append("the base itself fails the gate")
    if result.culprit is not None:
        reasons.append(f"{result.culprit} breaks the gate; later branches were not judged")
    if any(s.verdict is StepVerdict.FLAKY for s in result.steps):
        reasons.append("a flaky gate")
    return "; ".join(reasons) or "see the stack above"
