"""Hold the line: judge lint, types and complexity on new problems only.

A check reports every finding it sees; this policy then marks each one new or baselined
(:mod:`gatekeeper.newcode.baseline`), keeps only those in changed files when ``scope = "changed"``
(:mod:`gatekeeper.git.scope`), and decides the status again from what is left. An ``error`` result
is never touched: a check that could not judge still fails the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError
from gatekeeper.git import scope
from gatekeeper.model import CheckResult, Status
from gatekeeper.newcode import baseline as baselines


@dataclass(frozen=True, slots=True)
class Policy:
    """The baseline in force (if any) and the changes that bound the scope (if ``changed``)."""

    baseline: baselines.Baseline | None = None
    baseline_path: str = ""
    changes: scope.Changes | None = None
    # The merge-base diff coverage judges against (``coverage.diff-fail-under`` set), whatever
    # the scope: the same tree judged against another base may cover other lines.
    diff_base: str | None = None

    @classmethod
    def load(cls, settings: Settings, worktree: Path) -> Policy:
        """Read the baseline file and, for ``scope = changed``, what changed since the base."""
        path = settings.text("baseline")
        found = baselines.load(settings.root / path)
        changes = None
        if settings.text("scope") == "changed":
            base = settings.get("base")
            changes = scope.changes(worktree, base if isinstance(base, str) else None)
        diff_base = None
        if settings.number("coverage.diff-fail-under") is not None:
            diff_base = changes.merge_base if changes else _fork(settings, worktree)
        return cls(found, path, changes, diff_base)

    def token(self) -> str:
        """What of this policy a cached verdict depends on, beyond the tree itself."""
        digest = self.baseline.digest() if self.baseline else "no-baseline"
        fork = self.changes.merge_base if self.changes else "all"
        diff = f":diff={self.diff_base}" if self.diff_base is not None else ""
        return f"{digest}:{fork}{diff}"

    @property
    def base_dependent(self) -> bool:
        """Whether a verdict depends on where the base branch is, not only on the tree."""
        return self.changes is not None or self.diff_base is not None

    def apply(self, result: CheckResult) -> CheckResult:
        """``result`` judged on new findings in scope; other checks and errors pass through."""
        judged = result.name in baselines.BASELINED_CHECKS
        if not judged or result.status not in (Status.PASSED, Status.FAILED):
            return result
        if self.baseline is None and self.changes is None:
            return result
        if self.baseline is not None:
            result = baselines.mark(result, self.baseline)
        if self.changes is not None:
            result = scope.restrict(result, self.changes)
        return self._settle(result)

    def _settle(self, result: CheckResult) -> CheckResult:
        fresh = [f for f in result.findings if f.new is not False]
        metrics = result.metrics
        notes = [f"{metrics['baselined']} baselined"] if metrics.get("baselined") else []
        if metrics.get("outside_scope"):
            notes.append(f"{metrics['outside_scope']} outside the changed files")
        if metrics.get("baseline_fixed"):
            notes.append(
                f"{metrics['baseline_fixed']} baselined fixed: run `gatekeeper baseline --prune`"
            )
        count = f"{len(fresh)} new finding(s)" if self.baseline else f"{len(fresh)} finding(s)"
        summary = count + (f" ({'; '.join(notes)})" if notes else "")
        return replace(
            result,
            status=Status.FAILED if fresh else Status.PASSED,
            summary=summary,
            rule=self._rule(result.rule),
        )

    def _rule(self, rule: str) -> str:
        if self.baseline is not None:
            rule += f"; findings in the baseline {self.baseline_path} are accepted"
        if self.changes is not None:
            rule += f"; only files changed since {self.changes.base} count"
        return rule


def _fork(settings: Settings, worktree: Path) -> str:
    """The merge-base diff coverage will use; a marker when there is none (the check then
    errors, and an error is never cached)."""
    base = settings.get("base")
    try:
        chosen = base if isinstance(base, str) and base else scope.detect_base(worktree)
        return scope.merge_base(worktree, chosen)
    except GatekeeperError as error:
        return f"unresolved: {error}"
