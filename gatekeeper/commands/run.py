"""``gatekeeper run [pytest args...]``: the whole gate, exactly as ``pytest --gatekeeper``."""

from __future__ import annotations

import argparse

HELP = "Run the whole gate (same as `pytest --gatekeeper`); extra arguments go to pytest."
PASSTHROUGH = True


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pytest_args", nargs="*", help="arguments passed to pytest unchanged")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    return int(pytest.main(["--gatekeeper", *rest]))
