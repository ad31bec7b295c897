"""Counting the scans of every installed distribution's metadata that Python processes make.

A ``sitecustomize`` module first on ``PYTHONPATH`` wraps ``importlib.metadata.distributions``
and ``entry_points`` (each reads the metadata of every installed distribution) in every Python
process started with it, and appends one line per call to the file named by ``LOG_ENV``: the
process, the function, and the module that called it. Shared by the tests and
benchmarks/setup_loading.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.conftest import eval_dataset, eval_target

LOG_ENV: Final = "ENTRY_POINT_SCANS_LOG"
COUNTER: Final = f'''\
"""Counts calls of importlib.metadata's whole-environment scans (tests/entry_point_scans.py)."""

import functools
import importlib.metadata
import os
import sys

_LOG = os.environ.get("{LOG_ENV}")


def _counted(name):
    real = getattr(importlib.metadata, name)

    @functools.wraps(real)
    def call(*args, **kwargs):
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__", "").startswith("importlib"):
            frame = frame.f_back  # entry_points() calls distributions() itself: not a caller
        caller = "" if frame is None else frame.f_globals.get("__name__", "?")
        if _LOG and caller:
            with open(_LOG, "a") as log:
                log.write(f"{{os.getpid()}}\\t{{name}}\\t{{caller}}\\n")
        return real(*args, **kwargs)

    setattr(importlib.metadata, name, call)


for _name in ("distributions", "entry_points"):
    _counted(_name)
'''

DATABASE_TEST: Final = """\
from gatekeeper.resources.databases import Database


def test_database(gatekeeper_database: Database) -> None:
    assert gatekeeper_database.url
"""
# Files added to the sample project so that every part of the pytest adapter that reads the
# setup does, besides the gate's session: the eval datasets (collected when the project sets
# testpaths too), the database fixture (its settings, and the plugins that fill the template).
EVERY_READER: Final = {
    "tests/test_db.py": DATABASE_TEST,
    "pkg/target.py": eval_target(set()),
    "evals/double.yaml": eval_dataset(),
}


@dataclass(frozen=True)
class Scan:
    """One call: which process made it, of which function, from which module."""

    pid: int
    function: str
    caller: str


def install(folder: Path) -> Path:
    """Write the counting ``sitecustomize`` into ``folder`` (to put first on ``PYTHONPATH``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(COUNTER)
    return folder


def read(log: Path) -> list[Scan]:
    """The scans logged to ``log`` (none when no process wrote to it)."""
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [Scan(int(pid), function, caller) for pid, function, caller in map(_fields, lines)]


def _fields(line: str) -> tuple[str, str, str]:
    pid, function, caller = line.split("\t")
    return pid, function, caller
