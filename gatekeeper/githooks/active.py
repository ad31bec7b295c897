"""Which pre-push hook git runs for each worktree, and whether it runs the gate.

The hook is installed once, in the hooks directory every worktree shares. Git runs it only where
``core.hooksPath`` is unset: set later (by another hook manager, often for the whole repository),
or set for one worktree alone (``git config --worktree``), it sends git to another directory, and
pushes from there would go out ungated without a word. The hook cannot say so itself (it does
not run), so ``gatekeeper hook install`` and ``gatekeeper hook status`` look at every worktree,
and each gate run (``pytest --gatekeeper``, ``gatekeeper run``) warns about its own.

A hook "runs the gate" when it is gatekeeper's, or calls ``gatekeeper hook run`` (the line the
install message suggests for another manager's hook), or is pre-commit's with the ``gatekeeper``
hook in the worktree's ``.pre-commit-config.yaml``; and git may execute it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.git import repository
from gatekeeper.githooks.install import HOOK, hooks_path_setting, is_ours

_CHAINED: Final = "gatekeeper hook run"
_PRE_COMMIT: Final = ".pre-commit-config.yaml"


@dataclass(frozen=True, slots=True)
class HookState:
    """What a push from ``worktree`` runs: ``hook`` (the file git looks for), whether that runs
    the gate, and a sentence saying why not."""

    worktree: Path
    hook: Path
    gated: bool
    reason: str = ""

    def describe(self) -> str:
        if self.gated:
            return f"gated: pushes from {self.worktree} run {self.hook}"
        return f"NOT gated: pushes from {self.worktree}: {self.reason}"


def hook_for(worktree: Path, configured: str | None) -> Path:
    """The pre-push hook git runs for a push from ``worktree`` (which may not exist), given
    ``core.hooksPath`` as git reads it there (``--worktree`` scope included).

    A relative ``core.hooksPath`` is relative to the worktree's root, where git runs hooks.
    """
    if configured is None:
        common = repository.common_dir(worktree)
        return (common or worktree / ".git") / "hooks" / HOOK
    folder = Path(configured).expanduser()
    return (folder if folder.is_absolute() else worktree / folder) / HOOK


def state(worktree: Path) -> HookState:
    """Whether a push from ``worktree`` is gated, and why not."""
    configured = hooks_path_setting(worktree)
    hook = hook_for(worktree, configured)
    sent = (
        ""
        if configured is None
        else f"core.hooksPath = {configured!r} sends git to {hook.parent}, "
    )
    if not hook.is_file():
        missing = f"{sent}where there is no {HOOK} hook" if sent else f"there is no {hook}"
        return HookState(worktree, hook, False, _advice(missing))
    if not os.access(hook, os.X_OK):
        return HookState(worktree, hook, False, _advice(f"{sent}{hook} is not executable"))
    if not _runs_gate(hook, worktree):
        return HookState(worktree, hook, False, _advice(f"{sent}{hook} does not run the gate"))
    return HookState(worktree, hook, True)


def _runs_gate(hook: Path, worktree: Path) -> bool:
    if is_ours(hook):
        return True
    text = _read(hook)
    if _CHAINED in text:
        return True
    return "pre-commit" in text and "gatekeeper" in _read(worktree / _PRE_COMMIT)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _advice(why: str) -> str:
    return (
        f'{why}. Add the line `{_CHAINED} -- "$@"` to the hook git runs, or unset '
        "core.hooksPath and run `gatekeeper hook install`."
    )


def survey(start: Path) -> list[HookState]:
    """The state of every worktree of the repository holding ``start``: not a bare
    repository's entry, a worktree whose folder is gone, or gatekeeper's temporary ones."""
    common = repository.common_dir(start)
    private = (common or start) / "gatekeeper"
    return [state(path) for path in _worktrees(start) if not path.is_relative_to(private)]


def _worktrees(start: Path) -> list[Path]:
    return [path for path in repository.worktrees(start) if path.is_dir()]


def warning(worktree: Path) -> str | None:
    """For a gate run in ``worktree``: a warning when gatekeeper's hook is installed but git
    will not run the gate for a push from here; None otherwise (also when never installed)."""
    common = repository.common_dir(worktree)
    if common is None or not is_ours(common / "hooks" / HOOK):
        return None
    found = state(worktree)
    if found.gated:
        return None
    return (
        f"gatekeeper: warning: the pre-push hook is installed, but pushes from {worktree} are "
        f"not gated: {found.reason}"
    )
