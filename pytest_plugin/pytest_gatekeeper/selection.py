"""Whether a pytest run is the whole suite: only whole-suite runs read or write cached results.

A selection (node ids or paths other than ``testpaths``, ``-k``, ``-m``, ``--lf``, ``--sw``,
``--sw-skip``, ``--deselect``, ``--ignore``, or a run from a directory other than the rootdir,
where pytest collects only that directory) judges only part of the suite, so its pass says
nothing about the whole, and a stored whole-suite pass says nothing about it. What the command
line cannot show (a plugin or conftest that deselects items) is caught at run time: the session
reports any ``pytest_deselected`` to the gate, which then stores nothing.

A ``-m`` or ``-k`` in the project's own ``addopts`` is not a selection: it is in the tree, and
every run of it (the hook's, CI's) selects the same, so it defines the suite (click's
``addopts = "-m 'not stress'"``). Only one given on the command line or in ``PYTEST_ADDOPTS``
narrows a run, and pytest's own deselection by marks and keywords (:func:`by_marks`) is then
no sign of a plugin's. Every other selecting option counts wherever it comes from: ``--lf`` and
``--sw`` select by pytest's cache, which is not keyed.
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

from gatekeeper import discovery

# Option destinations that narrow the set of tests that run, given anywhere.
_SELECTING = (
    "lf",
    "stepwise",
    "stepwise_skip",
    "deselect",
    "ignore",
    "ignore_glob",
)
# ... and those that narrow it only when given on the command line or in PYTEST_ADDOPTS.
_GIVEN_SELECTING: Final = ("keyword", "markexpr")
# pytest's own selection by -m and -k (in _pytest/mark), which reports what it deselects.
_MARK_SELECTION: Final = frozenset({"deselect_by_keyword", "deselect_by_mark"})
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
    if Path(config.invocation_params.dir).resolve() != config.rootpath.resolve():
        return None  # pytest collects the invocation directory only, not ``testpaths``
    if _selecting(config):
        return None
    # A temporary worktree's gate pins pytest's search to its root (gatekeeper.discovery): from
    # the rootdir, with the file pytest takes from there, that is what a run without the pins
    # does too, so the pins do not make another run.
    pins = set(discovery.pytest_args(config.rootpath))
    args = [arg for arg in config.invocation_params.args if arg not in pins]
    return json.dumps({"args": args})


def _selecting(config: pytest.Config) -> bool:
    """Whether an option, or a path other than ``testpaths``, selects part of the suite."""
    namespace = config.known_args_namespace
    given = config.stash.get(GIVEN, None) or namespace
    if any(getattr(namespace, name, None) for name in _SELECTING):
        return True
    if any(getattr(given, name, None) for name in _GIVEN_SELECTING):
        return True
    paths = list(getattr(namespace, "file_or_dir", None) or [])
    return bool(paths) and not _is_testpaths(config, paths)


def _is_testpaths(config: pytest.Config, given: list[str]) -> bool:
    """Positional arguments that name exactly the configured ``testpaths`` (in any order)."""
    here = Path(config.invocation_params.dir)
    testpaths = config.getini("testpaths") or ["."]
    wanted = {(config.rootpath / path).resolve() for path in testpaths}
    return {(here / arg).resolve() for arg in given} == wanted


def by_marks() -> bool:
    """Whether the caller is reporting pytest's own deselection by ``-m`` or ``-k``: a
    ``pytest_deselected`` call made from inside it. Anything else (a plugin, a conftest,
    ``--deselect``) is not, nor is anything when pytest's code is not recognised."""
    import _pytest.mark

    origin = _pytest.mark.__file__
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_filename == origin and code.co_name in _MARK_SELECTION:
            return True
        frame = frame.f_back
    return False
