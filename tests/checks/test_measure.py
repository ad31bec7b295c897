"""Coverage measurement: which processes measure, and combining their data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper.checks.measure import ENV, Plan, combine
from gatekeeper.errors import ToolError


def plan(tmp_path: Path, parent: int) -> Plan:
    return Plan(tmp_path / "data", (str(tmp_path / "pkg"),), parent)


def test_only_an_xdist_worker_of_the_measuring_controller_measures(tmp_path: Path) -> None:
    mine = plan(tmp_path, os.getppid())
    env = {ENV: mine.to_env(), "PYTEST_XDIST_WORKER": "gw0"}
    assert Plan.from_env(env) == mine
    assert Plan.from_env({ENV: mine.to_env()}) is None  # a pytest run by a test, not a worker
    other = {ENV: plan(tmp_path, os.getppid() + 1).to_env(), "PYTEST_XDIST_WORKER": "gw0"}
    assert Plan.from_env(other) is None
    assert Plan.from_env({ENV: "{not json", "PYTEST_XDIST_WORKER": "gw0"}) is None
    assert Plan.from_env({}) is None


def measure_in_child(tmp_path: Path, code: str) -> Path:
    """Run ``code`` under coverage in a child process, writing data like a worker does."""
    pkg = tmp_path / "pkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("def f(x):\n    if x:\n        return 1\n    return 2\n")
    data = tmp_path / "data"
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from gatekeeper.checks.measure import Measurement, Plan;"
        "from pathlib import Path;"
        "m = Measurement(Plan(Path(sys.argv[2]), (sys.argv[3],), 0)); m.start();"
        f"import pkg; {code}; m.stop(); m.stop()"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), str(data), str(pkg)],
        cwd=tmp_path,
        check=True,
    )
    return data


def test_data_from_several_processes_is_combined(tmp_path: Path) -> None:
    measure_in_child(tmp_path, "pkg.f(1)")
    data = measure_in_child(tmp_path, "pkg.f(0)")
    assert len(list(data.glob(".coverage.*"))) == 2
    totals = combine(data, (str(tmp_path / "pkg"),))
    assert totals.percent == 100.0
    assert totals.files == 1
    assert not list(data.glob(".coverage.*"))


def test_nothing_measured_is_an_error_that_says_what_to_check(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with pytest.raises(ToolError, match="Check that the tests import the code under `paths`"):
        combine(tmp_path / "data", (str(tmp_path),))


def test_the_coverage_check_judges_combined_data(tmp_path: Path) -> None:
    from gatekeeper.checks.base import CheckContext, TestOutcome
    from gatekeeper.checks.coverage import CoverageCheck
    from gatekeeper.config import load
    from gatekeeper.model import Status

    (tmp_path / "pyproject.toml").write_text("[tool.gatekeeper.coverage]\nfail-under = 80\n")
    data = measure_in_child(tmp_path, "pkg.f(1)")
    settings = load(tmp_path)
    outcome = TestOutcome(exitstatus=0, passed=1, coverage_dir=data)
    context = CheckContext(settings, tmp_path, tmp_path, (str(tmp_path / "pkg"),), outcome)
    result = CoverageCheck().run(context)
    assert result.status is Status.FAILED
    assert result.metrics["percent"] == 75.0
    assert result.summary == "75% < fail-under 80%"
