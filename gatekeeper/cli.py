"""The ``gatekeeper`` command: parses arguments and dispatches. Commands live in
:mod:`gatekeeper.commands`, one module each, each returning an exit status."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from gatekeeper import childgroup
from gatekeeper.commands import COMMANDS
from gatekeeper.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, GatekeeperError
from gatekeeper.version import installed_version


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments, but 2 means "interrupted" here (as in pytest): every
    usage error exits 4. Subcommand parsers inherit this class through ``add_subparsers``."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    """The argument parser: ``--help`` and ``--version`` exit 0, bad arguments exit 4."""
    top = _Parser(
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
        with childgroup.sigterm_interrupts():
            return int(command.run(args, rest))
    except GatekeeperError as error:
        print(f"gatekeeper {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"gatekeeper {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # anything else is a bug: one paragraph, never a traceback
        print(internal_error(args.command, error), file=sys.stderr)
        return EXIT_INTERNAL


def internal_error(command: str, error: Exception) -> str:
    """The one-paragraph message for an exception no code raised on purpose."""
    detail = " ".join("".join(traceback.format_exception_only(error)).split())
    return (
        f"gatekeeper {command}: internal error: {detail}. This is a bug in gatekeeper or in one "
        f"of its plugins, not a problem with your project: please report it, with the command "
        f"you ran (gatekeeper {command}) and this message."
    )


def console() -> None:  # pragma: no cover - the console-script shim
    raise SystemExit(main())
