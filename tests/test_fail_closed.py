"""Fail closed: a check that could not judge is an error, and an error fails the gate."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from gatekeeper.checks.base import CheckContext, TestOutcome
from gatekeeper.checks.complexity import main as complexity_main
from gatekeeper.checks.lint import parse_ruff
from gatekeeper.checks.tools import require_module, run_tool
from gatekeeper.checks.types import parse_mypy
from gatekeeper.config import Option
from gatekeeper.errors import ToolError
from gatekeeper.gate import Gate, load_setup, run_check
from gatekeeper.model import CheckResult, Status
from gatekeeper.process import Completed
from tests.conftest import ProjectFactory


def completed(returncode: int, stdout: str = "", stderr: str = "") -> Completed:
    return Completed("tool --json", returncode, stdout, stderr, 0.1)


def test_a_missing_tool_is_named_with_the_install_command() -> None:
    with pytest.raises(ToolError, match=r"no_such_tool_pkg is not installed for .*pip install"):
        require_module("no_such_tool_module", "no_such_tool_pkg")


def test_a_command_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="could not start"):
        run_tool(["/nonexistent/tool"], tmp_path, None)


def test_a_timeout_stops_the_tool_and_says_which_key_to_raise(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"did not finish within 0.2 s.*`timeout`"):
        run_tool([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, 0.2)


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (completed(2, stderr="invalid config"), "could not run .exit status 2.: invalid config"),
        (completed(1, stdout="not json"), "not ruff's JSON"),
        (completed(1, stdout="[]"), "exited 1 without reporting a finding"),
        (completed(0, stdout='[{"code": "X"}]'), "not ruff's JSON"),
    ],
)
def test_ruff_output_that_cannot_be_trusted_is_an_error(run: Completed, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        parse_ruff(run, Path.cwd(), "lint")


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (completed(2, stdout='{"file": "pyproject.toml", "severity": "error"}'), "exit status 2"),
        (completed(1, stdout="mypy 1.0 (compiled: yes)"), "not mypy's JSON"),
        (completed(1, stdout=""), "exited 1 without reporting an error"),
        (completed(0, stdout='{"severity": "error"}'), "not mypy's JSON"),
        # Only a note on its configuration file is plain text mypy may print among the JSON.
        (completed(0, stdout="pkg/a.py: note: unused section(s): [mypy-foo]"), "not mypy's JSON"),
        (completed(0, stdout="setup.cfg: error: unused section(s)"), "not mypy's JSON"),
        (
            completed(1, stdout="setup.cfg: note: unused section(s): [mypy-foo]"),
            "without reporting",
        ),
    ],
)
def test_mypy_output_that_cannot_be_trusted_is_an_error(run: Completed, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        parse_mypy(run, Path.cwd())


def test_mypy_notes_are_not_findings(tmp_path: Path) -> None:
    note = {"file": "a.py", "line": 2, "column": 0, "message": "Revealed", "code": "misc"}
    error = {**note, "line": 1, "message": "bad", "code": "arg-type", "severity": "error"}
    lines = json.dumps({**note, "severity": "note"}) + "\n" + json.dumps(error) + "\n"
    findings = parse_mypy(completed(1, stdout=lines), tmp_path)
    assert [(f.code, f.line, f.column) for f in findings] == [("arg-type", 1, 1)]


def context_for(root: Path) -> CheckContext:
    setup = load_setup(root)
    return Gate(setup).context(TestOutcome(exitstatus=0, passed=1))


class Exploding:
    name = "exploding"
    description = "raises"
    needs_session = False

    def options(self) -> list[Option]:
        return []

    def run(self, context: CheckContext) -> CheckResult:
        raise RuntimeError("boom")


def test_a_crashing_check_is_an_error_not_a_pass(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project()
    result = run_check(Exploding(), context_for(pytester.path))
    assert result.status is Status.ERROR
    assert "the check crashed: RuntimeError: boom" in result.summary


class Raising:
    name = "raising"
    description = "raises what it is given"
    needs_session = False

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def options(self) -> list[Option]:
        return []

    def run(self, context: CheckContext) -> CheckResult:
        raise self.error


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (SystemExit(0), "SystemExit: 0 (it called sys.exit()"),
        (GeneratorExit(), "GeneratorExit"),
        (KeyboardInterrupt(), "KeyboardInterrupt"),  # raised in a thread: the check's own
    ],
)
def test_a_check_raising_any_base_exception_is_an_error(
    pytester: pytest.Pytester, project: ProjectFactory, error: BaseException, shown: str
) -> None:
    project()
    context = context_for(pytester.path)
    found: list[CheckResult] = []
    thread = threading.Thread(target=lambda: found.append(run_check(Raising(error), context)))
    thread.start()
    thread.join()
    (result,) = found
    assert result.status is Status.ERROR
    assert f"the check crashed: {shown}" in result.summary


def test_a_real_ctrl_c_interrupts_the_run(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    # In the main thread, where a signal's KeyboardInterrupt arrives, it is never judged.
    project()
    with pytest.raises(KeyboardInterrupt):
        run_check(Raising(KeyboardInterrupt()), context_for(pytester.path))


def test_a_lint_timeout_fails_the_gate(pytester: pytest.Pytester, project: ProjectFactory) -> None:
    project(gatekeeper="\n[tool.gatekeeper.lint]\ntimeout = 0.001\n")
    setup = load_setup(pytester.path)
    result = run_check(setup.checks["lint"], Gate(setup).context())
    assert result.status is Status.ERROR
    assert "did not finish within" in result.summary


def test_unparsable_mypy_output_fails_the_gate(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper='\n[tool.gatekeeper.types]\nargs = ["--version"]\n')
    setup = load_setup(pytester.path)
    result = run_check(setup.checks["types"], Gate(setup).context())
    assert result.status is Status.ERROR


def test_a_syntax_error_is_an_error_for_complexity(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project({"pkg/broken.py": "def f(:\n"})
    setup = load_setup(pytester.path)
    result = run_check(setup.checks["complexity"], Gate(setup).context())
    assert result.status is Status.ERROR
    assert "could not parse pkg/broken.py" in result.summary


def test_the_complexity_child_prints_every_function(
    pytester: pytest.Pytester, project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    nested = "class A:\n    def m(self) -> None:\n        def inner() -> None:\n            pass\n"
    project({"pkg/nested.py": nested})
    assert complexity_main(["pkg"]) == 0
    measured = json.loads(capsys.readouterr().out)
    names = [row[2] for row in measured["blocks"]]
    assert names == ["add", "A.m", "A.m.inner"]
    assert measured["unparsable"] == []


def test_a_coverage_check_without_measurement_is_an_error(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project()
    setup = load_setup(pytester.path)
    result = run_check(setup.checks["coverage"], Gate(setup).context())
    assert result.status is Status.ERROR
    assert "coverage was not measured" in result.summary
