"""Entry point (``pytest11``) of the gatekeeper plugin.

Plain ``pytest`` pays only for the option definitions: the gate is imported and started only
when ``--gatekeeper`` is given.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

import pytest

from pytest_gatekeeper import options

SESSION_PLUGIN = "gatekeeper-session"
WORKER_PLUGIN = "gatekeeper-worker"
# Why --gatekeeper cannot run here (an inspect-only option nobody typed), found while pytest's
# parser is at hand; the gate is started later for a pytest run inside an xdist worker.
UNSEEN_INSPECTION = pytest.StashKey[str | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser) -> None:
    early_config.stash[UNSEEN_INSPECTION] = _unseen_inspection(early_config, parser)
    if getattr(early_config.known_args_namespace, "gatekeeper", False):
        from pytest_gatekeeper import selection

        selection.remember_given(early_config, parser)
    # As early as possible, so coverage sees the project's modules imported by conftest files.
    from gatekeeper.checks.measure import Plan

    plan = Plan.from_env(os.environ)
    if plan is not None:
        # An xdist worker of a gated session: measure coverage, nothing else. The variable is
        # consumed so a nested pytest in this process does not measure again.
        os.environ.pop("GATEKEEPER_COVERAGE", None)
        from pytest_gatekeeper.worker import WorkerCoverage

        early_config.pluginmanager.register(WorkerCoverage(plan), WORKER_PLUGIN)
        return
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Perhaps an xdist worker (they get the controller's arguments, --gatekeeper too), perhaps
        # a pytest started by a test inside one. Only pytest_configure can tell them apart.
        return
    _start_gate(early_config)


def _start_gate(config: pytest.Config) -> None:
    """Start the gate for this session when --gatekeeper asks for it (once per session)."""
    namespace = config.known_args_namespace
    if not getattr(namespace, "gatekeeper", False):
        return
    if options.inspects(namespace):
        unseen = config.stash.get(UNSEEN_INSPECTION, None)
        if unseen is not None:
            raise pytest.UsageError(unseen)
        return  # asked for on the command line: the run only inspects, as plain pytest's does
    if config.pluginmanager.has_plugin(SESSION_PLUGIN):
        return
    from pytest_gatekeeper.session import FEATURES, GateSession

    for name in (SESSION_PLUGIN, *FEATURES):
        _refuse_blocked(config, name)
    start = Path(config.invocation_params.dir)
    session = GateSession.create(config, start, namespace)
    config.pluginmanager.register(session, SESSION_PLUGIN)
    session.start()


def _refuse_blocked(config: pytest.Config, name: str) -> None:
    """A usage error when ``-p no:NAME`` switched off the gate's session or one of its parts."""
    if not config.pluginmanager.is_blocked(name):
        return
    what = "the gate's session" if name == SESSION_PLUGIN else "a part of the gate's session"
    raise pytest.UsageError(
        f"--gatekeeper with -p no:{name} (on the command line, in addopts or in "
        f"PYTEST_ADDOPTS): that switches off {what}, so no verdict could be "
        f"reached. Remove -p no:{name}, or run plain pytest without --gatekeeper."
    )


def _unseen_inspection(config: pytest.Config, parser: pytest.Parser) -> str | None:
    """The usage error for ``--gatekeeper`` with an option that only inspects the suite (which
    leaves the gate off: no verdict, yet exit status 0) taken from addopts or PYTEST_ADDOPTS
    rather than the command line. None without one, or when it was typed on the command line."""
    namespace = config.known_args_namespace
    if not getattr(namespace, "gatekeeper", False) or not options.inspects(namespace):
        return None
    if options.inspects(parser.parse_known_args(list(config.invocation_params.args))):
        return None
    flag, where = _where_from(config, parser)
    return (
        f"{flag} comes from {where}, not from the command line: with it pytest only inspects "
        "the suite (or prints help), so no gate would run and no verdict be reached, yet the "
        f"exit status would be 0. Remove it from {where} for gated runs, or type it on the "
        "command line to inspect without the gate."
    )


def _where_from(config: pytest.Config, parser: pytest.Parser) -> tuple[str, str]:
    """The inspect-only option as written, and where it was found."""
    flag = _inspecting_arg(parser, shlex.split(os.environ.get("PYTEST_ADDOPTS", "")))
    if flag is not None:
        return flag, "PYTEST_ADDOPTS"
    flag = _inspecting_arg(parser, config.getini("addopts"))
    if flag is not None:
        return flag, f"addopts in {config.inipath}"
    return "an option that only inspects the suite", "addopts or PYTEST_ADDOPTS"


def _inspecting_arg(parser: pytest.Parser, args: Sequence[str]) -> str | None:
    """The first of ``args`` that alone asks pytest only to inspect, as it was written."""
    for arg in (a for a in args if a.startswith("-")):
        try:
            if options.inspects(parser.parse_known_args([arg])):
                return arg
        except pytest.UsageError:  # an option that needs its value: not one of those
            continue
    return None


# -- isolation: identity, ports, databases and basetemp per worker (issue: isolation) --------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # tryfirst: the basetemp must be chosen before pytest's tmp_path factory reads it.
    from pytest_gatekeeper import fixtures, prepareddatabases
    from pytest_gatekeeper.isolation import Isolation

    isolation = Isolation.install(config)
    config.pluginmanager.register(fixtures, "gatekeeper-fixtures")
    prepareddatabases.install(config, isolation)
    if os.environ.get("PYTEST_XDIST_WORKER") and not hasattr(config, "workerinput"):
        _start_gate(config)  # not a worker after all: a pytest run inside a worker's test
    if config.getoption("gatekeeper", False):
        from pytest_gatekeeper import evalitems

        evalitems.include_datasets(config)


# -- end isolation ------------------------------------------------------------------------------
# -- evals: dataset files become items; the gate also collects them when testpaths point away --
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # Only YAML files pay for the import; everything else returns here.
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    from pytest_gatekeeper import evalfiles

    return evalfiles.collect_file(file_path, parent)


# -- end evals --
