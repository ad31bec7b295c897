"""``gatekeeper hook install|uninstall|run``: the pre-push gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatekeeper.hooks import install as installer
from gatekeeper.hooks import prepush

HELP = "Install, uninstall or run the pre-push hook that gates every pushed ref."


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("install", help="install the pre-push hook (keeps an existing one)")
    actions.add_parser("uninstall", help="remove it and restore the hook it replaced")
    run = actions.add_parser("run", help="what the hook runs: reads git's pre-push lines")
    run.add_argument("--hook-dir", type=Path, default=None, help=argparse.SUPPRESS)
    run.add_argument("remote", nargs="?", default="", help="the remote's name (from git)")
    run.add_argument("url", nargs="?", default="", help="the remote's URL (from git)")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    if args.action == "run":
        stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
        hook_args = [a for a in (args.remote, args.url) if a]
        return prepush.run(Path.cwd(), hook_args, stdin, args.hook_dir)
    act = installer.install if args.action == "install" else installer.uninstall
    print(act(Path.cwd()).message)
    return 0
