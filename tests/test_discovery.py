"""Configuration discovery stops at the project's root: a configuration file above it (in a
shared folder, or the user's own) never decides a check. Real ruff and mypy on real projects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gatekeeper import discovery
from gatekeeper.gate import Gate, load_setup
from gatekeeper.model import CheckResult
from tests.conftest import make_project

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
