"""The session's coverage measures the tests, never gatekeeper's own background checks.

coverage.py, in whichever traced thread first meets a new file after ``sys.path`` changed, runs a
block that removes from ``sys.modules`` every module imported meanwhile, by any thread. A check
thread it traces can so remove a module the session is importing (on click:
``KeyError: 'click._compat'`` while loading its conftest), and a check thread that imports while
the session's thread runs that block loses its module. So the check threads run untraced, and
import nothing while the session is measured.
"""

from __future__ import annotations

import pytest

from tests.conftest import ProjectFactory
from tests.gate_runs import run_gate

SPY_PLUGIN = '''\
"""Checks that say how the gate runs its background checks."""

import sys
import threading

import gatekeeper
from gatekeeper.model import CheckResult, Status

IMPORTED = []


def _measuring():
    coverage = sys.modules.get("coverage")
    return coverage is not None and coverage.Coverage.current() is not None


def _audit(event, args):
    thread = threading.current_thread().name
    if event == "import" and thread.startswith("gatekeeper-") and _measuring():
        IMPORTED.append(f"{args[0]} (in {thread})")


sys.addaudithook(_audit)


class Untraced:
    name = "untraced"
    description = "passes when its own thread runs without a trace function"
    needs_session = False

    def options(self):
        return []

    def run(self, context):
        tracer = sys.gettrace()
        if tracer is None:
            return CheckResult(self.name, Status.PASSED, "not traced")
        return CheckResult(self.name, Status.FAILED, f"traced by {tracer!r}")


class NoImports:
    name = "noimports"
    description = "passes when no background check imported a module while coverage measured"
    needs_session = True

    def options(self):
        return []

    def run(self, context):
        if IMPORTED:
            return CheckResult(self.name, Status.FAILED, ", ".join(IMPORTED))
        return CheckResult(self.name, Status.PASSED, "nothing imported")


@gatekeeper.hookimpl
def gatekeeper_checks():
    return [Untraced(), NoImports()]
'''

# The source named as a package, as click names its own; noimports last, so every background
# check has finished when it is judged.
SPIED = """
[tool.gatekeeper]
plugins = ["spyplugin"]
checks = ["tests", "coverage", "lint", "types", "complexity", "untraced", "noimports"]

[tool.coverage.run]
source = ["pkg"]
"""


# A plugin that pytest loads at start-up imports the measured package, so the command starts
# again with coverage already running when the session (and its check threads) start.
EARLY = {"pkg/early.py": "import pkg  # noqa: F401\n"}
EARLY_ADDOPTS = 'pythonpath = ["."]\naddopts = "-p pkg.early"\n'


@pytest.mark.parametrize("restarted", [False, True], ids=["measuring-starts-later", "restarted"])
def test_background_checks_run_untraced_and_import_nothing_while_coverage_measures(
    pytester: pytest.Pytester,
    project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    restarted: bool,
) -> None:
    # Only the session's own coverage in the child, not the one that measures this suite.
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)
    root = project({"spyplugin.py": SPY_PLUGIN, **(EARLY if restarted else {})}, gatekeeper=SPIED)
    if restarted:
        monkeypatch.setenv("PYTHONPATH", str(root))
        pyproject = root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('pythonpath = ["."]\n', EARLY_ADDOPTS))
    run = run_gate(pytester, subprocess=True)
    assert run.status("coverage") == "passed", run.result.stdout.str()
    assert "imported before" not in run.check("coverage")["summary"]  # measured from the start
    assert run.status("untraced") == "passed", run.check("untraced")["summary"]
    assert run.status("noimports") == "passed", run.check("noimports")["summary"]
