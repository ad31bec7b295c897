"""The ``gatekeeper`` command: parses arguments and dispatches. Commands live in
:mod:`gatekeeper.commands`, one module each, each returning an exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gatekeeper.commands import COMMANDS
from gatekeeper.errors import EXIT_INTERRUPTED, GatekeeperError
from gatekeeper.version import installed_version


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="gatekeeper",
        description="One quality gate for parallel git worktrees.",
    )
    top.add_argument("--version", action="version", version=f"gatekeeper {installed_version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.configure(sub.add_parser(name, help=command.HELP, description=command.HELP))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and getattr(COMMANDS.get(argv[0]), "PASSTHROUGH", False):
        # Everything after a pass-through command belongs to it (pytest's own options).
        args, rest = argparse.Namespace(command=argv[0]), argv[1:]
    else:
        args, rest = parser().parse_args(argv), []
    command = COMMANDS[args.command]
    try:
        return int(command.run(args, rest))
    except GatekeeperError as error:
        print(f"gatekeeper {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"gatekeeper {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def console() -> None:  # pragma: no cover - the console-script shim
    raise SystemExit(main())
