"""The gate's command-line options, and the setup they load once per pytest process.

Imported with the plugin module, so plain ``pytest`` pays only for the option table: the gate's
library is imported when :func:`setup` is first called.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gatekeeper.config import CORE_OPTIONS, Option, find_project_root, given_options

if TYPE_CHECKING:
    from gatekeeper.gate import Setup

# The first sys.path entry of the command that started pytest (its script's folder, or the
# working directory under `python -m`), taken before anything can change it: a restart with
# coverage started first (gatekeeper/checks/earlycoverage.py) puts it back. None under -P. Taken
# when the plugin module imports this one, as pytest loads its plugins.
FIRST_PATH = None if sys.flags.safe_path or not sys.path else sys.path[0]
# Runs that only inspect the suite or print help: no gate and no basetemp of ours for these.
INSPECT_ONLY = (
    "help",
    "version",
    "collectonly",
    "showfixtures",
    "show_fixtures_per_test",
    "markers",
)
_SETUPS = pytest.StashKey[dict[tuple[Path, str], "Setup"]]()
_LOADING = threading.Lock()  # the databases made ahead ask from a thread of their own


def add_options(parser: pytest.Parser) -> None:
    """``--gatekeeper`` and one ``--gatekeeper-*`` option per configuration key."""
    group = parser.getgroup("gatekeeper", "quality gate (pytest-gatekeeper)")
    group.addoption(
        "--gatekeeper",
        action="store_true",
        default=False,
        help="Run the quality gate: tests, coverage, lint, types and complexity, one verdict.",
    )
    group.addoption(
        "--gatekeeper-shard",
        dest="gatekeeper_shard",
        default=None,
        metavar="I/N",
        help="Run only the I-th of N shares of the tests and eval cases and write a partial "
        "result; `gatekeeper combine` gives the verdict.",
    )
    for option in CORE_OPTIONS:
        _add(group, option)


def _add(group: pytest.OptionGroup, option: Option) -> None:
    if option.kind == "bool":
        group.addoption(option.flag, action="store_true", dest=option.dest, help=option.help)
        return
    metavar = {"list": "A,B", "int": "N", "float": "N", "str": "VALUE"}[option.kind]
    group.addoption(option.flag, dest=option.dest, default=None, metavar=metavar, help=option.help)


def inspects(namespace: object) -> bool:
    """Whether the options in ``namespace`` ask pytest only to inspect the suite or print help."""
    return any(getattr(namespace, name, False) for name in INSPECT_ONLY)


def setup(config: pytest.Config, start: Path, namespace: argparse.Namespace | None = None) -> Setup:
    """The setup of the project at or above ``start``, with the ``--gatekeeper-*`` options of
    ``namespace`` (default: ``config.option``).

    Loaded once per pytest process and kept on the config's stash, so the plugins are loaded
    (and the installed distributions scanned for entry points) once, whoever asks: the session,
    the eval datasets, the isolation fixtures, the databases made ahead. A setup that cannot be
    loaded is not kept: each caller gets the :class:`~gatekeeper.errors.GatekeeperError`.
    """
    given = given_options(config.option if namespace is None else namespace)
    key = (find_project_root(start), json.dumps(given, sort_keys=True, default=str))
    with _LOADING:
        loaded = config.stash.setdefault(_SETUPS, {})
        if key not in loaded:
            from gatekeeper.gate import load_setup

            loaded[key] = load_setup(start, given)
        return loaded[key]
