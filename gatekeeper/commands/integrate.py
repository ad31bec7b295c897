"""``gatekeeper integrate [BRANCH ...] [--onto REF]``: gate the merge result of branches."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from gatekeeper.errors import EXIT_FAILED, EXIT_OK
from gatekeeper.gate import load_setup
from gatekeeper.integration import outcome
from gatekeeper.integration.gating import current_branch, gate_branches, resolve_base
from gatekeeper.integration.report import write
from gatekeeper.project import workfolder

HELP = (
    "Gate the merge of branches onto a base (default: the current branch onto the base branch); "
    "several branches form a stack, and the breaking one is named."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("branches", nargs="*", metavar="BRANCH", help="branches, in stack order")
    parser.add_argument("--onto", metavar="REF", help="the base (default: `base`, else detected)")
    parser.add_argument(
        "--report", type=Path, help="JSON report path (default: .gatekeeper/integration.json)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show each gate's output")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    setup = load_setup(Path.cwd())
    worktree = setup.worktree
    base = args.onto or resolve_base(worktree, setup.settings.get("base"))
    names = args.branches or [current_branch(worktree)]
    print(f"gatekeeper integrate: {', '.join(names)} onto {base}", file=sys.stderr, flush=True)
    result = gate_branches(
        setup.settings, worktree, base, names, None if args.verbose else subprocess.DEVNULL
    )
    for line in outcome.lines(result):
        print(line)
    write(result, args.report or workfolder.prepare(worktree) / "integration.json")
    return EXIT_OK if result.passed else EXIT_FAILED
