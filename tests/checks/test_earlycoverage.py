"""Code imported before the gate starts measuring is measured whole all the same.

pytest imports its plugins (``-p`` in addopts, entry points) and their imports before any plugin
hook runs: a project that such a plugin imports (pluggy, imported by pytest itself, is the real
case) had its module-level lines run unmeasured and read lower than ``coverage run -m pytest``.
The gate now starts the command again with coverage started first
(gatekeeper/checks/earlycoverage.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.checks import earlycoverage
from tests.conftest import git, make_project

# The package under measurement is imported by a plugin that pytest loads at start-up.
FILES = {
    "pkg/__init__.py": (
        "VALUE = 1\nTABLE = {'a': 1}\nNAMES = ['x', 'y']\n\n\n"
        "def add(a: int, b: int) -> int:\n    return a + b\n"
    ),
    "pkg/plugin.py": "import pkg  # noqa: F401\n",
}
CONFIG = """
[tool.gatekeeper]
checks = ["tests", "coverage"]
paths = ["pkg"]
"""
ADDOPTS = 'pythonpath = ["."]\naddopts = "-p pkg.plugin"\nfilterwarnings = ["error"]\n'
BIN = Path(sys.executable).parent


def _project(root: Path) -> Path:
    make_project(root, FILES, gatekeeper=CONFIG)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('pythonpath = ["."]\n', ADDOPTS))
    return root


def _run(root: Path, env: dict[str, str], *argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(word) for word in argv], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def _coverage(root: Path) -> dict[str, Any]:
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    found: dict[str, Any] = next(c for c in report["checks"] if c["name"] == "coverage")
    return found


def _reference(root: Path, env: dict[str, str]) -> float:
    """coverage.py's own figure: measuring starts before pytest is imported."""
    run = [sys.executable, "-m", "coverage", "run", "--source=pkg", "-m", "pytest", "-q"]
    done = _run(root, env, *run, "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout + done.stderr
    data = root / "reference.json"
    done = _run(root, env, sys.executable, "-m", "coverage", "json", "-o", data)
    assert done.returncode == 0, done.stdout + done.stderr
    percent: float = json.loads(data.read_text())["totals"]["percent_covered"]
    (root / ".coverage").unlink()
    return percent


ENTRY_POINTS = {
    "pytest": (BIN / "pytest", "--gatekeeper"),
    "python -m pytest": (sys.executable, "-m", "pytest", "--gatekeeper"),
    "pytest -n 2": (BIN / "pytest", "--gatekeeper", "-n", "2"),
    "gatekeeper run": (sys.executable, "-m", "gatekeeper", "run"),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_a_project_a_plugin_imports_at_start_up_is_measured_whole(
    tmp_path: Path, child_env: dict[str, str], entry: str
) -> None:
    root = _project(tmp_path / "p")
    env = {**child_env, "PYTHONPATH": str(root)}
    reference = _reference(root, env)
    assert reference == 100.0

    argv = (*ENTRY_POINTS[entry], "-q", "-p", "no:cacheprovider", "--gatekeeper-no-cache")
    done = _run(root, env, *argv)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "gatekeeper passed" in done.stdout  # the new process's output reaches the caller
    coverage = _coverage(root)
    assert coverage["metrics"]["percent"] == reference  # was 30% (import-time lines missed)
    assert "imported before" not in coverage["summary"]


def test_python_m_pytest_keeps_the_working_directory_on_the_path(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # `python -m pytest` puts the working directory first on sys.path, which is how `-p
    # pkg.plugin` finds pkg here: the restarted command must have it too.
    root = _project(tmp_path / "p")
    argv = (sys.executable, "-m", "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider")
    done = _run(root, child_env, *argv)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _coverage(root)["metrics"]["percent"] == 100.0


def test_a_failing_test_still_fails_after_the_restart(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    root = _project(tmp_path / "p")
    (root / "tests" / "test_add.py").write_text(
        "from pkg import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 4\n"
    )
    env = {**child_env, "PYTHONPATH": str(root)}
    done = _run(root, env, BIN / "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "gatekeeper failed" in done.stdout


PROGRAM = """\
import sys

import pytest

status = pytest.main(["--gatekeeper", "-q", "-p", "no:cacheprovider"])
print(f"the program goes on after pytest: {int(status)}")
sys.exit(0)
"""


def test_pytest_main_inside_a_program_is_not_replaced_and_says_what_it_missed(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # A program that calls pytest.main() must keep running after it: no restart there. The
    # coverage result says why its figure is low instead of reporting it silently.
    root = _project(tmp_path / "p")
    (root / "run_tests.py").write_text(PROGRAM)
    env = {**child_env, "PYTHONPATH": str(root)}
    done = _run(root, env, sys.executable, "run_tests.py")
    assert "the program goes on after pytest: 0" in done.stdout, done.stdout + done.stderr
    coverage = _coverage(root)
    assert coverage["metrics"]["percent"] < 100.0
    assert (
        "measured module(s) were imported before measuring started (pkg, pkg.plugin)"
        in (coverage["summary"])
    )


def test_a_restarted_run_is_keyed_as_the_command_the_user_typed(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # The restart hands its plan over in a variable of gatekeeper's own: were it keyed like a
    # user's variable, no rerun would ever be reused, and no pass would answer a push.
    root = _project(tmp_path / "p")
    env = {**child_env, "PYTHONPATH": str(root)}
    argv = (BIN / "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider")
    first = _run(root, env, *argv)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "GATEKEEPER_EARLY_COVERAGE" not in first.stdout
    again = _run(root, env, *argv)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "the whole suite passed before on exactly this content" in again.stdout


FLAGS_TEST = """\
import sys


def test_the_interpreter_runs_with_the_options_it_was_given() -> None:
    assert sys.flags.warn_default_encoding == 1
    assert sys._xoptions.get("warn_default_encoding") is True
    assert sys._xoptions.get("int_max_str_digits") == "1000"
    assert sys.flags.int_max_str_digits == 1000
    assert sys.__stdout__ is not None and sys.__stdout__.write_through  # -u
    assert not sys.flags.safe_path  # the command had no -P, nor will the processes it starts
"""


def test_a_restarted_command_keeps_the_interpreter_options_it_was_given(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # The new interpreter is started with the options the command had, and without -P.
    root = _project(tmp_path / "p")
    (root / "tests" / "test_flags.py").write_text(FLAGS_TEST, encoding="utf-8")
    options = ("-X", "warn_default_encoding", "-X", "int_max_str_digits=1000", "-u")
    argv = (
        sys.executable,
        *options,
        "-m",
        "pytest",
        "--gatekeeper",
        "-q",
        "-p",
        "no:cacheprovider",
    )
    done = _run(root, child_env, *argv)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert _coverage(root)["metrics"]["percent"] == 100.0  # measured from the start: restarted


@pytest.mark.parametrize(
    ("words", "options"),
    [
        (["-m", "pytest", "-x"], []),
        (["-mpytest"], []),
        (["-u", "-X", "dev", "-W", "error", "-m", "pytest"], ["-u", "-X", "dev", "-W", "error"]),
        (["-Wd", "-Xdev", "-Bum", "pytest"], ["-Wd", "-Xdev", "-Bu"]),
        (["-uW", "ignore", "-c", "print()"], ["-uW", "ignore"]),
        (["-I", "/venv/bin/pytest", "-W", "error"], ["-I"]),
        (
            ["--check-hash-based-pycs", "always", "-P", "-m", "pytest"],
            ["--check-hash-based-pycs", "always", "-P"],
        ),
        (["-X", "-m"], ["-X", "-m"]),
    ],
)
def test_the_interpreter_options_are_those_before_what_runs(
    words: list[str], options: list[str]
) -> None:
    assert earlycoverage.interpreter_options(words) == options


def test_a_run_measuring_subprocesses_is_reused(tmp_path: Path, child_env: dict[str, str]) -> None:
    # With patch = ["subprocess"], coverage.py hands its configuration to the processes it
    # measures in a variable of its own, set as measuring starts: in a restarted command that
    # is before the key is taken, and its per-run value must not make every run a new one.
    root = _project(tmp_path / "p")
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") + '\n[tool.coverage.run]\npatch = ["subprocess"]\n'
    pyproject.write_text(text, encoding="utf-8")
    git(root, "commit", "-qam", "measure subprocesses")
    env = {**child_env, "PYTHONPATH": str(root)}
    argv = (BIN / "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider")
    first = _run(root, env, *argv)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _coverage(root)["metrics"]["percent"] == 100.0  # restarted, measured from the start
    again = _run(root, env, *argv)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "the whole suite passed before on exactly this content" in again.stdout


REUSED_AFTER_THE_RESTART = """\
import json
import os
import sys
from pathlib import Path

import coverage

from gatekeeper.checks import earlycoverage
from gatekeeper.resources.coveragedata import claim_data_dir
from pytest_gatekeeper import sessioncoverage

root = Path(sys.argv[1])
folder = claim_data_dir(root)
data_file = str(folder.path / ".coverage")
earlycoverage.start(earlycoverage.new_coverage(data_file, [str(root / "pkg")]))
plan = {"data_file": data_file, "source": [str(root / "pkg")], "lock_fd": folder.held.fd,
        "pid": os.getpid(), "argv": [], "path0": None}
os.environ[earlycoverage.ENV] = json.dumps(plan)
sessioncoverage.drop_early()
print(json.dumps({
    "measuring": coverage.Coverage.current() is not None,
    "plan left": earlycoverage.ENV in os.environ,
    "data left": folder.path.exists() or folder.held.path.exists(),
}))
"""


def test_a_restarted_session_that_is_reused_drops_the_collector_it_was_started_with(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # A run stored meanwhile answers the restarted session: nothing is measured, so the
    # collector started first stops, and neither its plan nor its data is left behind.
    root = _project(tmp_path / "p")
    (root / "drop.py").write_text(REUSED_AFTER_THE_RESTART, encoding="utf-8")
    # Without the suite's own measuring of its child processes: its collector would be the
    # one running there.
    env = {k: v for k, v in child_env.items() if not k.startswith("COVERAGE_PROCESS_")}
    done = _run(root, env, sys.executable, "drop.py", root)
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"measuring": False, "plan left": False, "data left": False}
