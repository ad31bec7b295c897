"""One module per subcommand; each has ``HELP``, ``configure(parser)`` and ``run(args, rest)``."""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import Protocol

from gatekeeper.commands import baseline as baseline_command  # scope, baseline, cache
from gatekeeper.commands import check, ci, evals, hook, port, run, sweep
from gatekeeper.commands import integrate as integrate_command  # integration
from gatekeeper.commands import land as land_command  # integration
from gatekeeper.commands import worktree as worktree_command  # worktrees


class Command(Protocol):
    HELP: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, rest: list[str]) -> int: ...


COMMANDS: dict[str, ModuleType] = {
    "run": run,
    "check": check,
    "baseline": baseline_command,  # scope, baseline, cache
    "port": port,
    "sweep": sweep,
    "hook": hook,
    "ci": ci,
    "evals": evals,
    "integrate": integrate_command,  # integration
    "land": land_command,  # integration
    "worktree": worktree_command,  # worktrees
}
