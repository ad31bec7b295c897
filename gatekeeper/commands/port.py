"""``gatekeeper port [NAME] [--release]``: a port reserved for this worktree and NAME."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatekeeper.errors import EXIT_OK, UsageError
from gatekeeper.gate import load_setup
from gatekeeper.git import repository
from gatekeeper.resources import ports

HELP = "Print a port reserved for this worktree and NAME (the same one until --release)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", default="dev", help="what the port is for (dev)")
    parser.add_argument("--release", action="store_true", help="give the port back")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    worktree = repository.worktree_root(Path.cwd())
    if worktree is None:
        raise UsageError("`gatekeeper port` reserves ports per git worktree; run it inside one.")
    if args.release:
        port = ports.release_named(worktree, args.name)
        print(f"released {port}" if port else f"no port was reserved for {args.name!r}")
        return EXIT_OK
    settings = load_setup(Path.cwd()).settings
    span = ports.PortRange(settings.integer("ports.first"), settings.integer("ports.last"))
    print(ports.reserve_named(worktree, args.name, span))
    return EXIT_OK
