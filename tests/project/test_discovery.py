"""Configuration discovery stops at the project's root: a configuration file above it (in a
shared folder, or the user's own) never decides a check. Real ruff and mypy on real projects."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gatekeeper.gate import Gate, load_setup
from gatekeeper.model import CheckResult
from gatekeeper.project import discovery
from tests.conftest import make_project
from tests.gate_runs import run_module

UNUSED_IMPORT = '"""A module with an unused import."""\n\nimport os\n'
WRONG_TYPE = '"""A module with a type error."""\n\nX: int = "one"\n'
BARE = '[project]\nname = "sample"\nversion = "0"\n'


def judge(root: Path, name: str) -> CheckResult:
    """Run one check as ``gatekeeper check NAME`` does, never reusing a cached pass."""
    setup = load_setup(root)
    gate = Gate(setup)
    return gate.judge(setup.checks[name], gate.context(), reuse=False)


def test_lint_never_reads_a_ruff_configuration_above_the_project(tmp_path: Path) -> None:
    (tmp_path / "ruff.toml").write_text('[lint]\nignore = ["F401"]\n')  # planted above
    root = make_project(tmp_path / "repo", {"pyproject.toml": BARE, "pkg/extra.py": UNUSED_IMPORT})

    result = judge(root, "lint")

    assert [(f.path, f.code) for f in result.findings] == [("pkg/extra.py", "F401")]
    assert all("--isolated" in ran for ran in result.ran)


def test_lint_keeps_the_projects_own_ruff_configuration(tmp_path: Path) -> None:
    (tmp_path / "ruff.toml").write_text('[lint]\nselect = ["E"]\n')  # planted above
    own = BARE + '\n[tool.ruff.lint]\nignore = ["F401"]\n'
    root = make_project(tmp_path / "repo", {"pyproject.toml": own, "pkg/extra.py": UNUSED_IMPORT})

    result = judge(root, "lint")

    assert result.status.value == "passed", result.findings
    assert not any("--isolated" in ran for ran in result.ran)


def test_types_never_read_the_users_or_a_parents_mypy_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "config-home"
    (home / "mypy").mkdir(parents=True)
    (home / "mypy" / "config").write_text("[mypy]\nignore_errors = True\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    root = make_project(tmp_path / "repo", {"pyproject.toml": BARE, "pkg/extra.py": WRONG_TYPE})

    result = judge(root, "types")

    assert [(f.path, f.code) for f in result.findings] == [("pkg/extra.py", "assignment")]


def test_types_keep_the_projects_own_mypy_configuration(tmp_path: Path) -> None:
    files = {"mypy.ini": "[mypy]\nignore_errors = True\n", "pkg/extra.py": WRONG_TYPE}
    root = make_project(tmp_path / "repo", files)

    result = judge(root, "types")

    assert result.status.value == "passed", result.findings


def test_gatekeepers_own_configuration_is_never_read_above_the_worktree(tmp_path: Path) -> None:
    planted = '[tool.gatekeeper]\nchecks = ["complexity"]\nplugins = ["planted_plugin"]\n'
    (tmp_path / "pyproject.toml").write_text(planted)
    root = make_project(tmp_path / "repo")
    (root / "pyproject.toml").unlink()  # a project configured by pytest.ini alone
    (root / "pytest.ini").write_text("[pytest]\npythonpath = .\n")

    setup = load_setup(root)

    assert setup.settings.source is None
    assert setup.settings.root == root.resolve()
    assert "tests" in setup.settings.strings("checks")


@pytest.mark.parametrize(
    ("files", "chosen"),
    [
        ({"pytest.ini": "", "pyproject.toml": "[tool.pytest.ini_options]\n"}, "pytest.ini"),
        ({"pyproject.toml": "[tool.pytest.ini_options]\n", "tox.ini": "[pytest]\n"}, None),
        ({"pyproject.toml": BARE, "tox.ini": "[pytest]\n"}, "tox.ini"),
        ({"pyproject.toml": BARE, "setup.cfg": "[tool:pytest]\n"}, "setup.cfg"),
        ({"pyproject.toml": BARE}, "pyproject.toml"),
        ({"setup.cfg": "[metadata]\n"}, os.devnull),
    ],
)
def test_pytest_is_pinned_to_the_file_it_would_take_from_the_root(
    tmp_path: Path, files: dict[str, str], chosen: str | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    args = discovery.pytest_args(tmp_path)

    assert args[:2] == ["--rootdir=.", "--confcutdir=."]
    assert args[2] == f"--config-file={chosen or 'pyproject.toml'}"


# A conftest.py that turns every failure into a pass: what a planted configuration can load.
RIGGING_CONFTEST = """\
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report
"""
FAILING_TEST = "def test_fails() -> None:\n    assert 1 + 1 == 3\n"
TESTS_ONLY = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'


def gated(root: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``argv`` run as a developer runs it in ``root``: none of this suite's own variables."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GATEKEEPER_", "GIT_"))
    }
    return run_module(root, env, *argv)


@pytest.mark.parametrize(
    ("argv", "planted"),
    [
        (["pytest", "--gatekeeper"], "pytest.ini"),
        (["gatekeeper", "run"], "pytest.ini"),
        (["pytest", "--gatekeeper", "--rootdir=.."], ""),
    ],
    ids=["pytest-ini", "gatekeeper-run-ini", "rootdir"],
)
def test_a_pytest_configuration_outside_the_worktree_is_a_usage_error(
    tmp_path: Path, argv: list[str], planted: str
) -> None:
    # A checkout of a project with no pytest configuration of its own, in a folder where
    # someone planted one with a conftest.py that passes every test.
    if planted:
        (tmp_path / planted).write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(RIGGING_CONFTEST)
    files = {"pyproject.toml": BARE + TESTS_ONLY, "tests/test_add.py": FAILING_TEST}
    root = make_project(tmp_path / "checkout", files)

    done = gated(root, argv)

    assert done.returncode == 4, done.stdout + done.stderr
    paragraph = done.stderr.strip().splitlines()[-1]
    named = str(tmp_path / planted) if planted else str(tmp_path)
    assert named in paragraph and "outside the git worktree" in paragraph
    assert not list((root / ".git" / "gatekeeper").rglob("*.json"))  # nothing stored
