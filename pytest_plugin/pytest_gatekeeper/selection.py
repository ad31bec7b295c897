"""Whether a pytest run is the whole suite: only whole-suite runs read or write cached results.

A selection (node ids or paths other than ``testpaths``, ``-k``, ``-m``, ``--lf``, ``--sw``,
``--sw-skip``, ``--deselect``, ``--ignore``, or a run from a directory other than the rootdir,
where pytest collects only that directory) judges only part of the suite, so its pass says
nothing about the whole, and a stored whole-suite pass says nothing about it. What the command
line cannot show (a plugin or conftest that deselects items) is caught at run time: the session
reports any ``pytest_deselected`` to the gate, which then stores nothing.

A ``-m``, ``-k``, ``--ignore``, ``--ignore-glob`` or ``--deselect`` in the project's own
``addopts`` is not a selection: it is in the tree, and every run of it (the hook's, CI's)
selects the same, so it defines the suite (``addopts = "-m 'not stress'"``). Only one given on
the command line or in ``PYTEST_ADDOPTS`` narrows a run, and pytest's own deselection by marks,
keywords and ``--deselect`` (:func:`by_marks`) is then no sign of a plugin's. ``--lf`` and
``--sw`` count wherever they come from: they select by pytest's cache, which is not keyed.
:func:`selected` names what made a run a selection, for "tests ran again: ...".
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import types
from pathlib import Path
from typing import Final

import pytest

from gatekeeper.project import discovery

# Option destinations (and their flags) that narrow the set of tests that run, given anywhere.
_SELECTING: Final = {"lf": "--lf", "stepwise": "--sw", "stepwise_skip": "--sw-skip"}
# ... and those that narrow it only when given on the command line or in PYTEST_ADDOPTS.
_GIVEN_SELECTING: Final = {
    "keyword": "-k",
    "markexpr": "-m",
    "deselect": "--deselect",
    "ignore": "--ignore",
    "ignore_glob": "--ignore-glob",
}
# pytest's own selection by -m and -k (in _pytest/mark) and by --deselect (in _pytest/main),
# which report what they deselect.
_MARK_SELECTION: Final = frozenset({"deselect_by_keyword", "deselect_by_mark"})
_OPTION_SELECTION: Final = "pytest_collection_modifyitems"
_GIVEN_WHERE: Final = "on the command line or in PYTEST_ADDOPTS"
GIVEN = pytest.StashKey[argparse.Namespace | None]()


def remember_given(config: pytest.Config, parser: pytest.Parser) -> None:
    """Keep what the command line and ``PYTEST_ADDOPTS`` alone ask for (``addopts`` left out),
    for :func:`whole_suite`; nothing when they cannot be parsed alone (then every selecting
    option counts, wherever it comes from)."""
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    try:
        config.stash[GIVEN] = parser.parse_known_args(args)
    except (pytest.UsageError, ValueError):
        config.stash[GIVEN] = None


def whole_suite(config: pytest.Config) -> str | None:
    """The run's identity for cache keys when it runs the whole suite; None for a selection.

    Called while the initial conftests load, so it reads the early (known) arguments. The
    identity is the exact command line: options such as ``-W error`` or ``-p no:x`` can change
    outcomes without changing the tree (``addopts`` in the project's files are in the tree
    already, ``PYTEST_ADDOPTS`` in the cache's environment facts).
    """
    if selected(config) is not None:
        return None
    # A temporary worktree's gate pins pytest's search to its root (gatekeeper.project.discovery):
    # from the rootdir, with the file pytest takes from there, that is what a run without the pins
    # does too, so the pins do not make another run.
    pins = set(discovery.pytest_args(config.rootpath))
    args = [arg for arg in config.invocation_params.args if arg not in pins]
    return json.dumps({"args": args})


def selected(config: pytest.Config) -> str | None:
    """What selects part of the suite (an option and where it came from, paths other than
    ``testpaths``, a run from below the rootdir); None for a run of the whole suite."""
    here = Path(config.invocation_params.dir)
    if here.resolve() != config.rootpath.resolve():
        # pytest collects the invocation directory only, not ``testpaths``
        return f"a run from {here}, below the rootdir {config.rootpath}"
    namespace = config.known_args_namespace
    stashed = config.stash.get(GIVEN, None)
    given = stashed or namespace
    for name, flag in _SELECTING.items():
        if getattr(namespace, name, None):
            return f"{flag} {_where(stashed, getattr(given, name, None))}"
    for name, flag in _GIVEN_SELECTING.items():
        if getattr(given, name, None):
            return f"{flag} {_where(stashed, True)}"
    paths = list(getattr(namespace, "file_or_dir", None) or [])
    if paths and not _is_testpaths(config, paths):
        return f"the paths or node ids {' '.join(paths)} on the command line"
    return None


def _where(stashed: argparse.Namespace | None, given: object) -> str:
    """Where a selecting option came from; when the command line could not be parsed alone,
    it may come from ``addopts`` as well (and still counts: fail closed)."""
    if stashed is None:
        return "in pytest's options"
    return _GIVEN_WHERE if given else "in the project's addopts"


def _is_testpaths(config: pytest.Config, given: list[str]) -> bool:
    """Positional arguments that name exactly the configured ``testpaths`` (in any order)."""
    here = Path(config.invocation_params.dir)
    testpaths = config.getini("testpaths") or ["."]
    wanted = {(config.rootpath / path).resolve() for path in testpaths}
    return {(here / arg).resolve() for arg in given} == wanted


def by_marks() -> bool:
    """Whether the caller is reporting pytest's own deselection by ``-m``, ``-k`` or
    ``--deselect``: a ``pytest_deselected`` call made from inside it (those options decide
    whether the run is a selection, :func:`selected`). Anything else (a plugin, a conftest) is
    not, nor is anything when pytest's code is not recognised."""
    import _pytest.main
    import _pytest.mark

    own = {(_pytest.mark.__file__, name) for name in _MARK_SELECTION} | {
        (_pytest.main.__file__, _OPTION_SELECTION)
    }
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if (code.co_filename, code.co_name) in own:
            return True
        frame = frame.f_back
    return False
