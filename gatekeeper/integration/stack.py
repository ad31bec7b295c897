"""Several branches onto one base, as merge queues do: a cumulative stack (base+A, base+A+B,
...) gated at its top; when the top fails it is retried once (a flaky test is not a break),
then bisection over the steps names the first branch whose addition breaks it, in at most
ceil(log2 n) + 2 gate runs. Branches that conflict (with the base, with another branch or with
the stack) leave the stack and are reported with their files; a pairwise conflict matrix says
which branches cannot merge with which.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gatekeeper.git import repository
from gatekeeper.integration.mergetree import merge, verify
from gatekeeper.integration.outcome import Branch, Conflict, Integration, Step, StepVerdict
from gatekeeper.integration.workspace import Workspace
from gatekeeper.integration.worktreegate import Verdict

GateFunction = Callable[[str, str], Verdict]
"""Gates a commit (its id, and a short name for its scratch space) and returns the verdict."""


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """Whether commit ``older`` is reachable from commit ``newer``."""
    done = repository.git(repo, "merge-base", "--is-ancestor", older, newer, check=False)
    return done.returncode == 0


def tree_of(repo: Path, commit: str) -> str:
    return repository.git(repo, "rev-parse", f"{commit}^{{tree}}").stdout.strip()


def private_name(label: str) -> str:
    """A valid ref name component for ``label``, which may be any revision expression
    (``rename~0``, ``HEAD^``, ``@{u}``): only safe characters kept, plus a hash of the whole
    label so that two labels never share a name."""
    digest = hashlib.sha256(label.encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-")[:80]
    return f"{safe}-{digest}"


@dataclass(slots=True)
class Builder:
    """Merges each branch onto what is stacked so far, committing results in ``space``."""

    space: Workspace
    base: str
    base_commit: str

    def onto(self, current: str, branch: Branch, label: str) -> tuple[str, str] | Conflict:
        """``branch`` merged onto commit ``current``: (commit, tree), or the conflict."""
        repo = self.space.repo
        if is_ancestor(repo, current, branch.commit):
            return branch.commit, tree_of(repo, branch.commit)  # a fast-forward: no new commit
        result = merge(repo, current, branch.commit)
        if not result.clean:
            return Conflict(branch.name, label, result.conflicts)
        # As git words it: "into main", not the full ref `land` verifies ("refs/heads/main").
        shown = self.base.removeprefix("refs/heads/").removeprefix("refs/remotes/")
        message = f"Merge branch '{branch.name}' into {shown}"
        name = private_name(f"{label}+{branch.name}")
        return self.space.commit(name, result.tree, (current, branch.commit), message), result.tree


def integrate(space: Workspace, base: str, names: Sequence[str], gate: GateFunction) -> Integration:
    """Stack ``names`` onto ``base`` in the order given, gate the stack and judge every branch.

    Raises :class:`UsageError` when a name is not a commit.
    """
    repo = space.repo
    base_commit = verify(repo, base)
    branches = tuple(Branch(name, verify(repo, name)) for name in dict.fromkeys(names))
    done = tuple(b.name for b in branches if is_ancestor(repo, b.commit, base_commit))
    todo = [b for b in branches if b.name not in done]
    builder = Builder(space, base, base_commit)
    conflicts, pairwise, onto = conflict_matrix(builder, todo)
    steps, stack_conflicts = _stack(builder, [b for b in todo if b.name in onto], pairwise)
    result = Integration(
        base, base_commit, branches, tuple(steps), (*conflicts, *stack_conflicts), pairwise
    )
    result = replace(result, already_in_base=done)
    return _gate_stack(result, gate) if steps else result


def conflict_matrix(
    builder: Builder, branches: Sequence[Branch]
) -> tuple[list[Conflict], tuple[Conflict, ...], dict[str, str]]:
    """Each branch onto the base, then every pair of those merged with each other: the
    conflicts with the base, the pairwise conflicts, and each clean branch's merge commit."""
    conflicts: list[Conflict] = []
    onto: dict[str, str] = {}
    for branch in branches:
        found = builder.onto(builder.base_commit, branch, builder.base)
        if isinstance(found, Conflict):
            conflicts.append(found)
        else:
            onto[branch.name] = found[0]
    pairwise = []
    for first, second in itertools.combinations([b for b in branches if b.name in onto], 2):
        # Both contain the base, so the base is their merge-base: only their own changes meet.
        result = merge(builder.space.repo, onto[first.name], onto[second.name])
        if not result.clean:
            pairwise.append(Conflict(second.name, first.name, result.conflicts))
    return conflicts, tuple(pairwise), onto


def _stack(
    builder: Builder, branches: Sequence[Branch], pairwise: Sequence[Conflict]
) -> tuple[list[Step], list[Conflict]]:
    """The cumulative steps; a branch conflicting with one already stacked leaves the stack."""
    steps: list[Step] = []
    conflicts: list[Conflict] = []
    current = builder.base_commit
    stacked: tuple[str, ...] = ()
    for branch in branches:
        clash = [c for c in pairwise if c.branch == branch.name and c.other in stacked]
        if clash:
            conflicts.extend(clash)
            continue
        label = "+".join((builder.base, *stacked))
        found = builder.onto(current, branch, label)
        if isinstance(found, Conflict):
            conflicts.append(found)  # clean in pairs, not all together
            continue
        current, tree = found
        stacked = (*stacked, branch.name)
        steps.append(Step(stacked, current, tree))
    return steps, conflicts


@dataclass(slots=True)
class _Runner:
    """Gates steps, counting runs; a tree that passed once in this run is not gated again."""

    gate: GateFunction
    steps: list[Step]
    runs: int = 0

    def judge(self, index: int) -> bool:
        step = self.steps[index]
        earlier = [s for s in self.steps if s.tree == step.tree and s.verdict is StepVerdict.PASSED]
        if earlier:
            self.steps[index] = replace(step, verdict=StepVerdict.PASSED, cached=True)
            return True
        verdict = self.gate(step.commit, f"step{index + 1}-run{step.runs + 1}")
        if verdict.accepted:  # a stored pass of this tree: nothing ran, nothing to count
            self.steps[index] = replace(step, verdict=StepVerdict.PASSED, cached=True)
            return True
        self.runs += 1
        outcome = StepVerdict.PASSED if verdict.passed else StepVerdict.FAILED
        if step.verdict is StepVerdict.FAILED and verdict.passed:
            outcome = StepVerdict.FLAKY
        explanation = verdict.explanation or step.explanation
        self.steps[index] = replace(
            step,
            verdict=outcome,
            runs=step.runs + 1,
            cached=verdict.cached,
            explanation=explanation,
        )
        return verdict.passed

    def judge_base(self, commit: str) -> bool:
        """Gate the base itself (served from the cache when it passed before)."""
        verdict = self.gate(commit, "base-run1")
        self.runs += 0 if verdict.accepted else 1
        return verdict.passed


def _gate_stack(result: Integration, gate: GateFunction) -> Integration:
    """Gate the top; on failure retry it once, then bisect for the first breaking step."""
    runner = _Runner(gate, list(result.steps))
    top = len(runner.steps) - 1
    culprit = None
    if not runner.judge(top) and not runner.judge(top):
        good, bad = -1, top  # step -1 is the base itself, checked only if step 0 fails
        while bad - good > 1:
            middle = (good + bad) // 2
            if runner.judge(middle):
                good = middle
            else:
                bad = middle
        culprit = runner.steps[bad].added
        if bad == 0 and not runner.judge_base(result.base_commit):
            culprit = None  # the first branch is not to blame for a base that fails alone
            result = replace(result, base_fails=True)
    return replace(result, steps=tuple(runner.steps), culprit=culprit, gate_runs=runner.runs)
