"""``gatekeeper land [BRANCH] [--onto BASE] [--push REMOTE]``: gate, then land exactly that."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from gatekeeper.errors import EXIT_FAILED, EXIT_OK, GatekeeperError
from gatekeeper.gate import load_setup
from gatekeeper.integration import land, outcome
from gatekeeper.integration.gating import current_branch, gate_branches, resolve_base
from gatekeeper.integration.mergetree import verify
from gatekeeper.integration.report import write
from gatekeeper.project import workfolder

HELP = (
    "Gate the merge of a branch onto the base and, if it passes and the base has not moved, "
    "fast-forward the local base to exactly the gated commit (optionally push it)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("branch", nargs="?", help="the branch to land (default: the current one)")
    parser.add_argument("--onto", metavar="BASE", help="the local base branch (default: `base`)")
    parser.add_argument("--push", metavar="REMOTE", help="also push the base, with a lease")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the gate's output")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    setup = load_setup(Path.cwd())
    repo = setup.worktree
    base = args.onto or resolve_base(repo, setup.settings.get("base"))
    branch = args.branch or current_branch(repo)
    land.require_identity(repo)
    with land.landing_lock(repo):
        ref = land.local_branch(repo, base)
        before = verify(repo, ref)
        output = None if args.verbose else subprocess.DEVNULL
        result = gate_branches(setup.settings, repo, ref, [branch], output, "land")
        for line in outcome.lines(result):
            print(line)
        write(result, workfolder.prepare(repo) / "integration.json")
        if not result.passed or result.head is None:
            done = "already in" if result.already_in_base else "not landed on"
            print(f"gatekeeper land: {branch} {done} {base}", file=sys.stderr)
            return EXIT_OK if result.already_in_base else EXIT_FAILED
        _land(repo, args.push, ref, result.base_commit, result.head, before)
    print(f"gatekeeper land: {base} is now {result.head[:12]}, exactly the gated commit")
    return EXIT_OK


def _land(
    repo: Path, remote: str | None, ref: str, result_base: str, commit: str, before: str
) -> None:
    """Check every local precondition first, so a refused landing never moved the remote; then
    push (when asked) and advance the local base."""
    land.check_gated_against(repo, ref, result_base, commit, before)
    land.check_landing(repo, ref, commit, before)
    if remote is None:
        land.advance(repo, ref, commit, before)
        return
    land.push(repo, remote, ref, commit, before)
    try:
        land.advance(repo, ref, commit, before)
    except GatekeeperError as error:
        raise type(error)(
            f"{remote}'s {ref} WAS updated to {commit[:12]}, but the local landing failed: {error}"
        ) from error
