"""The ``gatekeeper`` command line: run, check, and the one error handler."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper.cli import main
from tests.conftest import ProjectFactory, make_project
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


CRASHING_PLUGIN = """\
import gatekeeper


@gatekeeper.hookimpl
def gatekeeper_checks() -> list[object]:
    raise RuntimeError("the plugin fell over")
"""


def test_an_unexpected_exception_exits_3_as_a_bug_to_report(
    pytester: pytest.Pytester, project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    project(
        {"crashplugin.py": CRASHING_PLUGIN},
        gatekeeper='\n[tool.gatekeeper]\nplugins = ["crashplugin"]\n',
    )
    pytester.syspathinsert()
    assert main(["check", "lint"]) == 3
    err = capsys.readouterr().err
    assert err == (
        "gatekeeper check: internal error: RuntimeError: the plugin fell over. This is a bug in "
        "gatekeeper or in one of its plugins, not a problem with your project: please report it, "
        "with the command you ran (gatekeeper check) and this message.\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "lint", "--bogus"], "gatekeeper: error: unrecognized arguments: --bogus"),
        (["chek"], "gatekeeper: error: argument COMMAND: invalid choice: 'chek'"),
        ([], "gatekeeper: error: the following arguments are required: COMMAND"),
    ],
)
def test_argument_errors_exit_4_like_every_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 4
    assert message in capsys.readouterr().err


def test_the_full_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from gatekeeper.commands import COMMANDS

    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    assert all(re.search(rf"^    {name}\b", listed, re.MULTILINE) for name in COMMANDS)


# All that `gatekeeper run` needs of its own before it starts pytest.
LIGHT_FOR_RUN = ("cli", "git", "git.childgroup", "commands", "commands.run", "errors", "receipt")
SEEN_BY_RUN = """\
import json, sys
import gatekeeper.cli
from gatekeeper.commands import load

load("run")
print(json.dumps(sorted(sys.modules)))
"""


def test_gatekeeper_run_imports_nothing_heavy_before_pytest_starts() -> None:
    # Commands are imported only when they run: `gatekeeper run` starts pytest in a fresh
    # interpreter and must not spend time on (or pre-load) the gate, httpx or PyYAML.
    # Without the variables by which coverage.py measures child processes (the suite's own gate
    # sets them): they would import coverage at start-up, before the command does anything.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}
    done = subprocess.run(
        [sys.executable, "-c", SEEN_BY_RUN], env=env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert "gatekeeper.commands.run" in loaded
    heavy = {"httpx", "yaml", "coverage", "pytest", "_pytest", "pluggy", "git"}
    assert not {m for m in loaded if m.split(".")[0] in heavy}
    ours = {m for m in loaded if m.startswith("gatekeeper.")}
    assert ours <= {f"gatekeeper.{m}" for m in LIGHT_FOR_RUN}


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["--version"]])
def test_help_and_version_exit_0(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith(("usage: gatekeeper", "gatekeeper "))


GATEKEEPER_SCRIPT = Path(sys.executable).parent / "gatekeeper"


def test_the_console_script_is_installed() -> None:
    version = subprocess.run(
        [GATEKEEPER_SCRIPT, "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0
    assert version.stdout.startswith("gatekeeper ")
    bad = subprocess.run(
        [GATEKEEPER_SCRIPT, "check", "lint", "--bogus"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 4
    assert "unrecognized arguments: --bogus" in bad.stderr


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    # `gatekeeper ci init --print | head -3`: the reader is gone before the command writes.
    # Closing the read end first makes that certain, with no race against the reader.
    make_project(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [GATEKEEPER_SCRIPT, "ci", "init", "--print", "--gatekeeper-from", "0.1.0"],
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 2  # interrupted: what was cut short is no verdict
