"""``gatekeeper sweep [--dry-run]``: remove what dead owners left behind.

Exits 1 when any leftover could not be removed; every other leftover is removed all the same."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatekeeper.errors import EXIT_FAILED, EXIT_OK
from gatekeeper.gate import load_setup
from gatekeeper.git import repository
from gatekeeper.resources.databases.base import Backend, Leftover, open_backend
from gatekeeper.resources.sweep import SweepError, describe_failure, sweep
from gatekeeper.worktrees import locations

HELP = (
    "Remove port reservations, temp dirs, coverage data, owner locks and databases whose owner "
    "is dead or expired (only gatekeeper's own)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="list, remove nothing")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    settings = load_setup(Path.cwd()).settings
    backends: list[Backend] = [open_backend(settings)]
    failures: list[tuple[Leftover, str]] = []
    try:
        found = sweep(backends, dry_run=args.dry_run, worktrees=_worktrees(settings.root))
    except SweepError as error:
        found, failures = error.found, error.failures
    finally:
        for backend in backends:
            backend.close()
    _report(found, failures, dry_run=args.dry_run)
    return EXIT_FAILED if failures else EXIT_OK


def _worktrees(root: Path) -> list[Path]:
    """Every worktree of the repository around ``root`` (their coverage data is swept too);
    ``root`` alone outside git."""
    if repository.worktree_root(root) is None:
        return [root]
    return [entry.path for entry in locations.listed(root)]


def _report(found: list[Leftover], failures: list[tuple[Leftover, str]], *, dry_run: bool) -> None:
    verb = "would remove" if dry_run else "removed"
    left = [leftover for leftover, _ in failures]
    done = [leftover for leftover in found if leftover not in left]
    for leftover in done:
        print(f"{verb} {leftover.backend} {leftover.name} ({leftover.reason})")
    for leftover, why in failures:
        print(f"gatekeeper sweep: {describe_failure(leftover, why)}", file=sys.stderr)
    if left:
        print(f"{len(done)} leftover(s) {verb}; {len(left)} left in place", file=sys.stderr)
    else:
        print(f"{len(done)} leftover(s) {verb}" if done else "nothing to sweep")
