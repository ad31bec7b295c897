"""Running the whole gate on a sample project and reading its JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class GateRun:
    result: pytest.RunResult
    report: dict[str, Any]

    @property
    def verdict(self) -> str:
        return str(self.report["verdict"])

    def check(self, name: str) -> dict[str, Any]:
        found = [c for c in self.report["checks"] if c["name"] == name]
        assert found, f"no check {name!r} in {[c['name'] for c in self.report['checks']]}"
        check: dict[str, Any] = found[0]
        return check

    def status(self, name: str) -> str:
        return str(self.check(name)["status"])

    def codes(self, name: str) -> list[str]:
        return [str(f["code"]) for f in self.check(name)["findings"]]


def run_gate(pytester: pytest.Pytester, *args: str, subprocess: bool = False) -> GateRun:
    """``pytest --gatekeeper args`` in pytester's directory; in-process unless ``subprocess``.

    Runs that measure coverage go to a subprocess: a second coverage collector in this process
    would pause the one measuring this test suite.
    """
    runner = pytester.runpytest_subprocess if subprocess else pytester.runpytest_inprocess
    result = runner("--gatekeeper", "-p", "no:cacheprovider", *args)
    path = pytester.path / ".gatekeeper" / "report.json"
    assert path.is_file(), result.stdout.str() + result.stderr.str()
    return GateRun(result, json.loads(path.read_text()))


NO_COVERAGE = '\n[tool.gatekeeper]\nchecks = ["tests", "lint", "types", "complexity"]\n'


def run_module(root: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m ARGV`` in ``root`` with exactly ``env``, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
