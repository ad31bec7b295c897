"""``gatekeeper check NAME``: run one non-test check alone and print its result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatekeeper.errors import EXIT_FAILED, EXIT_OK, UsageError
from gatekeeper.gate import Gate, load_setup
from gatekeeper.reports import terminal

HELP = "Run one check that needs no test session (lint, types, complexity, ...) and print it."

_COLOURS = {"green": "\x1b[32m", "red": "\x1b[31m", "yellow": "\x1b[33m"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the check to run, e.g. lint")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    setup = load_setup(Path.cwd())
    check = setup.checks.get(args.name)
    if check is None:
        known = ", ".join(n for n, c in setup.checks.items() if not c.needs_session)
        raise UsageError(f"no check named {args.name!r}. Checks that run alone: {known}.")
    if check.needs_session:
        raise UsageError(
            f"the {args.name} check judges a test session; run `gatekeeper run` or "
            "`pytest --gatekeeper` instead."
        )
    gate = Gate(setup)
    result = gate.judge(check, gate.context())
    report = gate.report((result,))
    terminal.emit(terminal.render(report), _write)
    return EXIT_OK if report.passed else EXIT_FAILED


def _write(text: str, colour: str | None) -> None:
    if colour and sys.stdout.isatty():
        text = f"{_COLOURS[colour]}{text}\x1b[0m"
    print(text)
