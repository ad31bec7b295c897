"""One module per subcommand; each has ``HELP``, ``configure(parser)`` and ``run(args, rest)``.

A command's module is imported only when that command runs (all of them only for the full
``gatekeeper --help``): ``gatekeeper run`` starts pytest in a fresh interpreter and must neither
pay for nor pre-load what the other commands import (the gate, httpx, PyYAML).
"""

from __future__ import annotations

import argparse
import importlib
from typing import Final, Protocol, cast


class Command(Protocol):
    HELP: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, rest: list[str]) -> int: ...


# Command name -> module in this package, in the order ``--help`` lists them.
COMMANDS: Final[dict[str, str]] = {
    "run": "run",
    "combine": "combine",  # sharding: one verdict from the shards
    "check": "check",
    "baseline": "baseline",  # scope, baseline, cache
    "port": "port",
    "sweep": "sweep",
    "hook": "hook",
    "ci": "ci",
    "evals": "evals",
    "integrate": "integrate",  # integration
    "land": "land",  # integration
    "worktree": "worktree",  # worktrees
    "status": "status",  # history: the floor view
}


def load(name: str) -> Command:
    """The module of command ``name`` (a key of :data:`COMMANDS`), imported now."""
    return cast(Command, importlib.import_module(f"{__name__}.{COMMANDS[name]}"))
