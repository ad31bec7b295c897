"""The gate at its edges: interrupted, hung or misbehaving checks, overrides, stale reports."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from gatekeeper.checks.base import CheckContext
from gatekeeper.checks.tools import run_tool
from gatekeeper.config import Option
from gatekeeper.gate import Gate, load_setup, run_check
from gatekeeper.model import CheckResult, Status
from tests.conftest import ProjectFactory, make_project
from tests.gate_runs import NO_COVERAGE, run_gate, run_module


class Returning:
    name = "odd"
    description = "returns something that is not a result"
    needs_session = False

    def options(self) -> list[Option]:
        return []

    def run(self, context: CheckContext) -> CheckResult:
        return None  # type: ignore[return-value]


def test_a_check_returning_no_result_is_an_error(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project()
    result = run_check(Returning(), Gate(load_setup(pytester.path)).context())
    assert result.status is Status.ERROR
    assert "returned None, not a CheckResult" in result.summary


SLOW_PLUGIN = """\
import sys
import time

import gatekeeper
from gatekeeper.checks.tools import run_tool


class Hangs:
    name = "hangs"
    description = "sleeps in-process"
    needs_session = False

    def options(self):
        return []

    def run(self, context):
        time.sleep(60)


class SlowTool:
    name = "slowtool"
    description = "a tool that sleeps"
    needs_session = False

    def options(self):
        return []

    def run(self, context):
        run_tool([sys.executable, "-c", "import time; time.sleep(60)"], context.root, None)


@gatekeeper.hookimpl
def gatekeeper_checks():
    return [Hangs(), SlowTool()]
"""


def test_an_in_process_check_past_its_timeout_is_an_error(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    gate_config = (
        '\n[tool.gatekeeper]\nplugins = ["slowplugin"]\nchecks = ["hangs"]\n'
        "[tool.gatekeeper.hangs]\ntimeout = 0.5\n"
    )
    project({"slowplugin.py": SLOW_PLUGIN}, gatekeeper=gate_config)
    pytester.syspathinsert()
    setup = load_setup(pytester.path)
    gate = Gate(setup)
    gate.start()
    # The gate waits the timeout plus a grace from its start: pretend both have passed.
    gate.started -= 60
    report = gate.finish(None)
    (result,) = report.checks
    assert result.status is Status.ERROR
    assert "did not finish within its timeout of 0.5 s" in result.summary


def test_stopping_the_gate_kills_running_tools(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    gate_config = '\n[tool.gatekeeper]\nplugins = ["slowplugin"]\nchecks = ["slowtool"]\n'
    project({"slowplugin.py": SLOW_PLUGIN}, gatekeeper=gate_config)
    pytester.syspathinsert()
    gate = Gate(load_setup(pytester.path))
    gate.start()
    deadline = time.monotonic() + 10
    while gate.stop() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # the tool may not have started yet
    started = time.monotonic()
    (result,) = gate.finish(None).checks
    assert time.monotonic() - started < 30  # stopped, not slept out (the tool sleeps 60 s)
    assert result.status is Status.ERROR
    assert "was stopped" in result.summary


def test_run_tool_reports_a_killed_tool(tmp_path: Path) -> None:
    from gatekeeper.checks.tools import RUNNING
    from gatekeeper.errors import ToolError

    def kill_soon() -> None:
        while RUNNING.stop_all() == 0:
            time.sleep(0.02)

    killer = threading.Thread(target=kill_soon, daemon=True)
    killer.start()
    with pytest.raises(ToolError, match="was stopped"):
        run_tool([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, None)
    killer.join(5)


def test_plugins_given_on_the_command_line_are_loaded(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    from tests.test_plugins import PLUGIN

    project({"docplugin.py": PLUGIN, "pkg/bare.py": "X = 1\n"}, gatekeeper=NO_COVERAGE)
    pytester.syspathinsert()
    run = run_gate(
        pytester,
        "--gatekeeper-plugins",
        "docplugin",
        "--gatekeeper-checks",
        "tests,docstrings",
    )
    assert run.status("docstrings") == "failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gatekeeper-checks", "tests,lnt"], "command line --gatekeeper-checks: unknown check"),
        (["--gatekeeper-paths", "nope"], "command line --gatekeeper-paths names 'nope'"),
        (["--gatekeeper-checks", "lint,lint"], "names lint more than once"),
    ],
)
def test_command_line_mistakes_name_the_option(
    pytester: pytest.Pytester, project: ProjectFactory, args: list[str], message: str
) -> None:
    project()
    result = pytester.runpytest_inprocess("--gatekeeper", *args)
    assert result.ret == 4
    assert message in result.stderr.str()


# --maxfail alone is no inspecting option, nor is its value: the option named is the one that is.
ADDOPTS = "-q --maxfail 5 %s"
INI_ADDOPTS = f'[tool.pytest.ini_options]\naddopts = "{ADDOPTS}"\n'


@pytest.mark.parametrize("option", ["--co", "--collect-only", "--fixtures"])
@pytest.mark.parametrize("where", ["PYTEST_ADDOPTS", "addopts"])
def test_an_inspecting_option_from_addopts_is_a_usage_error(
    pytester: pytest.Pytester,
    project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    option: str,
) -> None:
    # Such a run only inspects the suite: no gate, no verdict, and exit status 0, from an option
    # nobody typed. `gatekeeper run` already fails it for want of a verdict; pytest must too.
    root = project(gatekeeper=NO_COVERAGE)
    if where == "PYTEST_ADDOPTS":
        monkeypatch.setenv("PYTEST_ADDOPTS", ADDOPTS % option)
    else:
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text()
        pyproject.write_text(text.replace("[tool.pytest.ini_options]\n", INI_ADDOPTS % option))
    result = pytester.runpytest_inprocess("--gatekeeper")
    assert result.ret == 4, result.stdout.str()
    error = result.stderr.str()
    source = "PYTEST_ADDOPTS" if where == "PYTEST_ADDOPTS" else f"addopts in {root}/pyproject.toml"
    assert f"{option} comes from {source}, not from the command line" in error
    assert error.count("ERROR:") == 1 and "Traceback" not in error
    assert not (root / ".gatekeeper" / "report.json").exists()


@pytest.mark.parametrize("option", ["--co", "--collect-only"])
def test_an_inspecting_option_on_the_command_line_only_inspects(
    pytester: pytest.Pytester, project: ProjectFactory, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    root = project(gatekeeper=NO_COVERAGE)
    monkeypatch.setenv("PYTEST_ADDOPTS", "--collect-only")  # typed too: it still only inspects
    result = pytester.runpytest_inprocess("--gatekeeper", option, "-q")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "tests/test_add.py::test_add" in result.stdout.str()
    assert not (root / ".gatekeeper" / "report.json").exists()  # no gate ran


def test_a_missing_complexity_path_is_a_usage_error(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper='\n[tool.gatekeeper.complexity]\npaths = ["nope"]\n')
    result = pytester.runpytest_inprocess("--gatekeeper")
    assert result.ret == 4
    assert "[tool.gatekeeper.complexity] paths names 'nope'" in result.stderr.str()


def test_a_stale_report_never_survives_a_broken_run(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper=NO_COVERAGE)
    assert run_gate(pytester).verdict == "passed"
    report = pytester.path / ".gatekeeper" / "report.json"
    result = pytester.runpytest_inprocess("--gatekeeper", "--gatekeeper-complexity-max", "x")
    assert result.ret == 4
    assert not report.exists()


def test_the_report_shows_detected_paths_and_working_files_are_ignored(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper=NO_COVERAGE)
    run = run_gate(pytester)
    assert run.report["config"]["paths"] == ["pkg"]
    assert run.report["config"]["types"]["paths"] == ["pkg"]
    ignore = (pytester.path / ".gatekeeper" / ".gitignore").read_text()
    assert "!baseline.json" in ignore


def test_a_failure_message_is_one_line(pytester: pytest.Pytester, project: ProjectFactory) -> None:
    failing = (
        "from pkg import add\n\n\ndef test_bad() -> None:\n"
        "    assert add(1, 1) == add(2, 2) + add(0, 0)\n"
    )
    project({"tests/test_bad.py": failing}, gatekeeper=NO_COVERAGE)
    run = run_gate(pytester)
    (finding,) = run.check("tests")["findings"]
    assert "\n" not in finding["message"]
    assert finding["message"].startswith("tests/test_bad.py::test_bad: assert 2 == (4 + 0)")


@pytest.mark.parametrize("key", ["fail-under", "diff-fail-under"])
def test_fail_under_above_100_is_a_usage_error_before_any_test_runs(
    pytester: pytest.Pytester, project: ProjectFactory, key: str
) -> None:
    project(gatekeeper=f"\n[tool.gatekeeper.coverage]\n{key} = 150\n")
    result = pytester.runpytest_subprocess("--gatekeeper", "-p", "no:cacheprovider")
    assert result.ret == 4  # like every other configuration error, not 1 after the suite
    result.stderr.fnmatch_lines(
        [
            f"*pyproject.toml: [[]tool.gatekeeper.coverage[]] {key} is 150, above 100, which no "
            "run can reach; use a value from 0 to 100.*"
        ]
    )
    assert "passed" not in result.stdout.str()  # no test ran
    assert not (pytester.path / ".gatekeeper" / "report.json").exists()


def test_pytest_cov_in_use_is_a_usage_error_not_a_crash(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project()
    result = pytester.runpytest_subprocess("--gatekeeper", "--cov=pkg")
    assert result.ret == 4
    assert "pytest-cov is measuring this session" in result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_report_that_cannot_be_written_is_a_usage_error(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper=NO_COVERAGE)
    (pytester.path / "blocker").write_text("a file, not a directory")
    result = pytester.runpytest_inprocess(
        "--gatekeeper", "--gatekeeper-report", "blocker/report.json"
    )
    assert result.ret == 4
    assert "which cannot be written (Not a directory)" in result.stderr.str()


def test_a_report_path_that_is_a_directory_is_a_usage_error(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper=NO_COVERAGE)
    (pytester.path / "out").mkdir()
    result = pytester.runpytest_inprocess("--gatekeeper", "--gatekeeper-report", "out")
    assert result.ret == 4
    assert "which cannot be written (it is a directory)" in result.stderr.str()


# -- exits that skip the verdict -----------------------------------------------------------


def test_pytest_exit_with_status_0_fails_the_tests_check(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    exiting = (
        "import pytest\n\n\ndef test_stop() -> None:\n"
        '    pytest.exit("stop here", returncode=0)\n\n\ndef test_after() -> None:\n'
        "    pass\n"
    )
    project(
        {"tests/test_zz_exit.py": exiting}, gatekeeper='\n[tool.gatekeeper]\nchecks = ["tests"]\n'
    )
    for _ in range(2):  # nothing was stored: the second run runs and fails again
        run = run_gate(pytester)
        assert run.result.ret == 1
        assert run.status("tests") == "failed"
        assert not run.check("tests")["cached"]
        summary = run.check("tests")["summary"]
        assert "2 collected test(s) did not run: pytest.exit() ended the session (stop here)" in (
            summary
        )


EXITING_PLUGIN = """\
import sys

import gatekeeper


class Exits:
    name = "exits"
    description = "calls a tool's main(), which calls sys.exit"
    needs_session = False

    def options(self):
        return []

    def run(self, context):
        sys.exit(0)


@gatekeeper.hookimpl
def gatekeeper_checks():
    return [Exits()]
"""


def test_a_check_calling_sys_exit_fails_the_gate(tmp_path: Path, child_env: dict[str, str]) -> None:
    config = '\n[tool.gatekeeper]\nplugins = ["exitplugin"]\nchecks = ["tests", "exits"]\n'
    root = make_project(tmp_path / "p", {"exitplugin.py": EXITING_PLUGIN}, gatekeeper=config)
    for command in (["gatekeeper", "run"], ["pytest", "--gatekeeper"]):
        done = run_module(root, child_env, *command, "-q", "-p", "no:cacheprovider")
        assert done.returncode == 1, done.stdout + done.stderr
        report = json.loads((root / ".gatekeeper" / "report.json").read_text())
        assert report["verdict"] == "failed"
        (exits,) = (c for c in report["checks"] if c["name"] == "exits")
        assert exits["status"] == "error"
        assert "SystemExit: 0 (it called sys.exit()" in exits["summary"]
