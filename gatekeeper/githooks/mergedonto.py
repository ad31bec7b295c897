"""Gate a pushed commit as it will land: merged onto the remote's base.

A commit that already contains the base's tip lands as it is, so it is gated as itself. Any
other commit is merged onto the base with ``git merge-tree --write-tree``
(:mod:`gatekeeper.integration.mergetree`: objects only, no working tree, index or branch of the
user touched), committed under a private ref of an integration workspace
(:mod:`gatekeeper.integration.workspace`: ``refs/gatekeeper/integrate/<run>/``, removed with its
temporary worktree however the run ends) and the merge result is gated, or accepted from the
cache when the whole gate already passed on exactly that tree. A textual conflict is a failure
naming the files. When the merge fails the gate, the commit alone is judged too, so the user
learns whether the fault is the commit's own or only appears together with the base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from gatekeeper.cache import gatepasses
from gatekeeper.githooks.pushbase import Base
from gatekeeper.history import accepted
from gatekeeper.integration.mergetree import merge
from gatekeeper.integration.stack import is_ancestor
from gatekeeper.integration.workspace import Workspace
from gatekeeper.integration.worktreegate import Verdict

GateAlone = Callable[[str], Verdict]
"""Judges a commit as itself (the cache first, else a temporary worktree)."""
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Judgement:
    """The hook's answer for one pushed commit.

    ``base`` is set when the merge onto it was judged (``None``: the commit was gated alone);
    ``conflicts`` names the files a textual conflict left; ``alone`` is the commit's own
    verdict, judged only when its merge failed the gate.
    """

    verdict: Verdict
    base: Base | None = None
    conflicts: tuple[str, ...] = ()
    alone: Verdict | None = None

    @property
    def passed(self) -> bool:
        return self.verdict.passed and not self.conflicts


def judge(
    start: Path, label: str, commit: str, base: Base, alone: GateAlone, say: Say
) -> Judgement:
    """Judge ``commit`` (shown as ``label``) as it lands on ``base``; see the module docstring."""
    if is_ancestor(start, base.commit, commit):
        say(f"gatekeeper: {label} contains the tip of {base.name}: gating it as itself")
        return Judgement(alone(commit))
    if is_ancestor(start, commit, base.commit):
        say(f"gatekeeper: {label} is already in {base.name}: nothing to merge, gating it as itself")
        return Judgement(alone(commit))
    found = gate_merge(start, label, commit, base, say)
    if found.passed or found.conflicts:
        return found
    say(f"gatekeeper: gating {label} alone, to tell whether it fails on its own ...")
    return replace(found, alone=alone(commit))


def gate_merge(start: Path, label: str, commit: str, base: Base, say: Say) -> Judgement:
    """Gate the merge of ``commit`` onto ``base``; a conflict is a failure naming its files."""
    result = merge(start, base.commit, commit)
    if not result.clean:
        say(f"gatekeeper: {label} conflicts with {base.name} in {', '.join(result.conflicts)}")
        return Judgement(Verdict(False), base, result.conflicts)
    with Workspace.open(start, "hook") as space:
        message = f"Merge {commit[:12]} onto {base.name} (gatekeeper pre-push)"
        merged = space.commit("push", result.tree, (base.commit, commit), message)
        if gatepasses.accepts(start, merged):
            say(
                f"gatekeeper: {label} merged onto {base.name} passed the gate before on exactly "
                "this content: accepted from the cache (no worktree, no tests run)"
            )
            accepted.record(start, "hook", merged, base.commit, settings=None)
            return Judgement(Verdict(True, cached=True), base)
        say(f"gatekeeper: gating {label} merged onto {base.name} in a temporary worktree ...")
        return Judgement(space.gate(merged, "push", None), base)
