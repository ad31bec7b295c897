"""The ``gatekeeper`` command: parses arguments and dispatches. Commands live in
:mod:`gatekeeper.commands`, one module each, each returning an exit status."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from gatekeeper.commands import COMMANDS, load
from gatekeeper.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, GatekeeperError
from gatekeeper.git import childgroup


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments, but 2 means "interrupted" here (as in pytest): every
    usage error exits 4. Subcommand parsers inherit this class through ``add_subparsers``."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: ``--help`` and ``--version`` exit 0, bad arguments exit 4.

    ``only`` names the one command to configure (its module alone is imported); None configures
    them all, for the full ``--help``.
    """
    from gatekeeper.version import installed_version  # scans metadata: only when parsing

    top = _Parser(
        prog="gatekeeper",
        description="One quality gate for parallel git worktrees.",
    )
    top.add_argument("--version", action="version", version=f"gatekeeper {installed_version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        command = load(name)
        command.configure(sub.add_parser(name, help=command.HELP, description=command.HELP))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    A reader that closed the pipe (``gatekeeper ci init --print | head -3``) ends the command
    quietly with exit status 2, "interrupted": what was cut short is no verdict.
    """
    try:
        try:
            return _dispatch(argv)
        finally:
            # Here, not at interpreter exit: a closed pipe must surface inside this handler.
            sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_INTERRUPTED


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush at exit does not
    fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # no file descriptor (captured output): nothing will be flushed to the pipe


def _dispatch(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    named = argv[0] if argv and argv[0] in COMMANDS else None
    if named is not None and getattr(load(named), "PASSTHROUGH", False):
        # Everything after a pass-through command belongs to it (pytest's own options).
        args, rest = argparse.Namespace(command=named), argv[1:]
    else:
        args, rest = parser(named).parse_args(argv), []
    command = load(args.command)
    try:
        with childgroup.sigterm_interrupts():
            return int(command.run(args, rest))
    except GatekeeperError as error:
        print(f"gatekeeper {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"gatekeeper {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise  # the reader went away: handled quietly by main()
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
