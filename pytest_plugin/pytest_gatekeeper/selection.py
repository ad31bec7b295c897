"""Whether a pytest run is the whole suite: only whole-suite runs read or write cached results.

A selection (node ids or paths other than ``testpaths``, ``-k``, ``-m``, ``--lf``, ``--sw``,
``--sw-skip``, ``--deselect``, ``--ignore``, or a run from a directory other than the rootdir,
where pytest collects only that directory) judges only part of the suite, so its pass says
nothing about the whole, and a stored whole-suite pass says nothing about it. What the command
line cannot show (a plugin or conftest that deselects items) is caught at run time: the session
reports any ``pytest_deselected`` to the gate, which then stores nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper import discovery

# Option destinations that narrow the set of tests that run.
_SELECTING = (
    "keyword",
    "markexpr",
    "lf",
    "stepwise",
    "stepwise_skip",
    "deselect",
    "ignore",
    "ignore_glob",
)


def whole_suite(config: pytest.Config) -> str | None:
    """The run's identity for cache keys when it runs the whole suite; None for a selection.

    Called while the initial conftests load, so it reads the early (known) arguments. The
    identity is the exact command line: options such as ``-W error`` or ``-p no:x`` can change
    outcomes without changing the tree (``addopts`` in the project's files are in the tree
    already, ``PYTEST_ADDOPTS`` in the cache's environment facts).
    """
    namespace = config.known_args_namespace
    if Path(config.invocation_params.dir).resolve() != config.rootpath.resolve():
        return None  # pytest collects the invocation directory only, not ``testpaths``
    if any(getattr(namespace, name, None) for name in _SELECTING):
        return None
    given = list(getattr(namespace, "file_or_dir", None) or [])
    if given and not _is_testpaths(config, given):
        return None
    # A temporary worktree's gate pins pytest's search to its root (gatekeeper.discovery): from
    # the rootdir, with the file pytest takes from there, that is what a run without the pins
    # does too, so the pins do not make another run.
    pins = set(discovery.pytest_args(config.rootpath))
    args = [arg for arg in config.invocation_params.args if arg not in pins]
    return json.dumps({"args": args})


def _is_testpaths(config: pytest.Config, given: list[str]) -> bool:
    """Positional arguments that name exactly the configured ``testpaths`` (in any order)."""
    here = Path(config.invocation_params.dir)
    testpaths = config.getini("testpaths") or ["."]
    wanted = {(config.rootpath / path).resolve() for path in testpaths}
    return {(here / arg).resolve() for arg in given} == wanted
