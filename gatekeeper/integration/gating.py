"""The entry points of merge integration: gate branches onto a base (``gatekeeper integrate``,
``gatekeeper land``), and gate the merge result of the current branch after its own gate passed
(``pytest --gatekeeper --gatekeeper-integrate``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO

from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError, UsageError
from gatekeeper.git import repository, scope
from gatekeeper.git.tempworktree import NESTED_ENV
from gatekeeper.integration import outcome
from gatekeeper.integration.mergetree import verify
from gatekeeper.integration.stack import integrate, is_ancestor
from gatekeeper.integration.workspace import Workspace
from gatekeeper.model import Report, Status
from gatekeeper.project import workfolder


def resolve_base(worktree: Path, configured: object) -> str:
    """The base to integrate onto: ``base`` from the configuration, else the detected one."""
    return configured if isinstance(configured, str) and configured else scope.detect_base(worktree)


def current_branch(worktree: Path) -> str:
    """The branch checked out in ``worktree`` (``HEAD``'s commit when detached)."""
    facts = repository.facts(worktree)
    if facts is None or facts.head is None:
        raise UsageError(f"{worktree} is not a git worktree with a commit; nothing to integrate.")
    return facts.branch or facts.head


def gate_branches(
    settings: Settings,
    repo: Path,
    base: str,
    names: Sequence[str],
    output: IO[str] | int | None,
    entry: str = "integrate",
) -> outcome.Integration:
    """Stack ``names`` onto ``base`` and gate the stack in a private workspace, always removed.

    ``settings`` are the caller's loaded setup's; ``output`` receives the output of every gate
    run; ``entry`` names the command the gates are recorded for in the history (``integrate``,
    ``land``).
    """
    with Workspace.open(repo, entry, settings) as space:
        return integrate(space, base, names, lambda commit, name: space.gate(commit, name, output))


def gate_merge_of_head(settings: Settings, worktree: Path, report: Report) -> Report:
    """``report`` (the branch's own passing gate) extended by the gate of its merge onto the
    base, unless the branch already contains the base's tip. The verdict covers both."""
    if not report.passed or os.environ.get(NESTED_ENV) == "1":
        return report  # a failed branch needs no merge gate; a nested gate never recurses
    try:
        base = resolve_base(worktree, settings.get("base"))
        head = current_branch(worktree)
        base_commit, head_commit = verify(worktree, base), verify(worktree, head)
        if is_ancestor(worktree, base_commit, head_commit):
            section = _up_to_date(base, base_commit, head, head_commit)
            return replace(report, integration=section)
        log = workfolder.prepare(worktree) / "integration.log"
        with log.open("w", encoding="utf-8") as stream:
            result = gate_branches(settings, worktree, base, [head], stream)
    except GatekeeperError as error:
        rule = f"the merge result could not be gated: {error}"
        return replace(report, verdict=Status.FAILED, rule=rule)
    return _combined(report, result)


def _up_to_date(base: str, base_commit: str, head: str, commit: str) -> dict[str, object]:
    result = outcome.Integration(base, base_commit, (outcome.Branch(head, commit),))
    section = outcome.to_dict(result)
    section["verdict"] = "passed"
    section["note"] = f"{head} already contains the tip of {base}: the branch gate covers it"
    return section


def _combined(report: Report, result: outcome.Integration) -> Report:
    section = outcome.to_dict(result)
    if result.passed:
        rule = f"{report.rule}; and the merge onto {result.base} ({result.base_commit[:12]}) passed"
        return replace(report, rule=rule, integration=section)
    why = "; ".join(outcome.lines(result))
    rule = f"the branch passed, but its merge onto {result.base} failed: {why}"
    return replace(report, verdict=Status.FAILED, rule=rule, integration=section)
