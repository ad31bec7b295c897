"""The ``gatekeeper`` command line: run, check, and the one error handler."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gatekeeper.cli import main
from tests.conftest import ProjectFactory
from tests.gate_runs import NO_COVERAGE


def test_check_runs_one_check_alone(
    pytester: pytest.Pytester, project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    project({"pkg/extra.py": "import os\n"})
    assert main(["check", "lint"]) == 1
    out = capsys.readouterr().out
    assert "FAILED   lint" in out
    assert "pkg/extra.py:1:8: F401" in out
    assert main(["check", "complexity"]) == 0


def test_check_refuses_session_checks_and_unknown_names(
    pytester: pytest.Pytester, project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    project()
    assert main(["check", "tests"]) == 4
    assert "judges a test session; run `gatekeeper run`" in capsys.readouterr().err
    assert main(["check", "lnt"]) == 4
    err = capsys.readouterr().err
    assert "no check named 'lnt'" in err
    assert "lint, types, complexity" in err


def test_run_is_the_same_gate_as_pytest(pytester: pytest.Pytester, project: ProjectFactory) -> None:
    project({"pkg/extra.py": "import os\n"}, gatekeeper=NO_COVERAGE)
    assert main(["run", "-p", "no:cacheprovider", "-q"]) == 1
    report = json.loads((pytester.path / ".gatekeeper" / "report.json").read_text())
    assert report["verdict"] == "failed"
    assert [c["status"] for c in report["checks"]] == ["passed", "failed", "passed", "passed"]


def test_configuration_errors_exit_4_with_one_paragraph(
    pytester: pytest.Pytester, project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    project(gatekeeper="\n[tool.gatekeeper.complexity]\nmax = 'x'\n")
    assert main(["check", "lint"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("gatekeeper check: error: ")
    assert "[tool.gatekeeper.complexity] max must be a whole number" in err
    assert "Traceback" not in err


def test_unknown_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check", "lint", "--bogus"])
    assert caught.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_the_console_script_is_installed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("gatekeeper ")
