"""``gatekeeper hook install|uninstall|run``: the pre-push gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatekeeper.githooks import active, prepush
from gatekeeper.githooks import install as installer

HELP = "Install, uninstall, check or run the pre-push hook that gates every pushed ref."


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("install", help="install the pre-push hook (keeps an existing one)")
    actions.add_parser("uninstall", help="remove it and restore the hook it replaced")
    actions.add_parser(
        "status", help="say, for every worktree, whether git runs the gate on a push from it"
    )
    run = actions.add_parser("run", help="what the hook runs: reads git's pre-push lines")
    run.add_argument("--hook-dir", type=Path, default=None, help=argparse.SUPPRESS)
    run.add_argument("remote", nargs="?", default="", help="the remote's name (from git)")
    run.add_argument("url", nargs="?", default="", help="the remote's URL (from git)")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    actions = {"run": _run, "status": _status, "install": _install, "uninstall": _uninstall}
    return actions[args.action](args, Path.cwd())


def _run(args: argparse.Namespace, start: Path) -> int:
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    hook_args = [a for a in (args.remote, args.url) if a]
    return prepush.run(start, hook_args, stdin, args.hook_dir)


def _install(args: argparse.Namespace, start: Path) -> int:
    """Install; then warn about every worktree whose pushes git would still not gate."""
    print(installer.install(start).message)
    for found in active.survey(start):
        if not found.gated:
            print(f"gatekeeper hook install: warning: {found.describe()}", file=sys.stderr)
    return 0


def _uninstall(args: argparse.Namespace, start: Path) -> int:
    print(installer.uninstall(start).message)
    return 0


def _status(args: argparse.Namespace, start: Path) -> int:
    """Each worktree's state; 0 only when a push from every one of them runs the gate."""
    found = active.survey(start)
    for each in found:
        print(each.describe())
    return 0 if found and all(each.gated for each in found) else 1
