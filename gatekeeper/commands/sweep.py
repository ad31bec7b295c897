"""``gatekeeper sweep [--dry-run]``: remove what dead owners left behind."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatekeeper.errors import EXIT_OK
from gatekeeper.gate import load_setup
from gatekeeper.resources.databases.base import Backend, open_backend
from gatekeeper.resources.sweep import sweep

HELP = (
    "Remove port reservations, temp dirs and databases whose owner is dead or expired "
    "(only gatekeeper's own)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    settings = load_setup(Path.cwd()).settings
    backends: list[Backend] = [open_backend(settings)]
    try:
        found = sweep(backends, dry_run=args.dry_run)
    finally:
        for backend in backends:
            backend.close()
    verb = "would remove" if args.dry_run else "removed"
    for leftover in found:
        print(f"{verb} {leftover.backend} {leftover.name} ({leftover.reason})")
    print(f"{len(found)} leftover(s) {verb}" if found else "nothing to sweep")
    return EXIT_OK
