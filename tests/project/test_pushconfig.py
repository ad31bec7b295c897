"""The push keys, read from the pushed commit's pyproject.toml (real git repositories)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper.errors import ConfigError
from gatekeeper.project import pushconfig
from tests.conftest import git, make_project


def test_push_keys_are_read_from_the_pushed_commit(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo", gatekeeper='\n[tool.gatekeeper]\nbase = "trunk"\n')
    first = git(repo, "rev-parse", "HEAD")
    assert pushconfig.read(repo, first) == pushconfig.PushSettings(True, "trunk")
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "push-merge = false\n")
    git(repo, "commit", "-q", "-am", "alone")
    assert pushconfig.read(repo, git(repo, "rev-parse", "HEAD")).merge is False
    # An uncommitted edit is not what is pushed.
    pyproject.write_text("not toml [")
    assert pushconfig.read(repo, first).merge is True


def test_push_keys_of_wrong_type_or_broken_toml_fail_closed(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo", gatekeeper='\n[tool.gatekeeper]\npush-merge = "no"\n')
    with pytest.raises(ConfigError, match=r"\[tool.gatekeeper\] push-merge must be true or false"):
        pushconfig.read(repo, git(repo, "rev-parse", "HEAD"))
    (repo / "pyproject.toml").write_text("[tool.gatekeeper\n")
    git(repo, "commit", "-q", "-am", "broken")
    with pytest.raises(ConfigError, match=r"pyproject\.toml of the pushed commit \w+: cannot read"):
        pushconfig.read(repo, git(repo, "rev-parse", "HEAD"))


def test_a_commit_without_pyproject_gets_the_defaults(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    git(repo, "rm", "-q", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "no pyproject")
    assert pushconfig.read(repo, git(repo, "rev-parse", "HEAD")) == pushconfig.PushSettings()


def test_pass_env_is_read_from_the_pushed_commit_and_must_list_names(tmp_path: Path) -> None:
    gate = '\n[tool.gatekeeper]\npass-env = ["DATABASE_URL", "SERVICE_TOKEN"]\n'
    repo = make_project(tmp_path / "repo", gatekeeper=gate)
    head = git(repo, "rev-parse", "HEAD")
    assert pushconfig.read(repo, head).pass_env == ("DATABASE_URL", "SERVICE_TOKEN")
    (repo / "pyproject.toml").write_text('[tool.gatekeeper]\npass-env = "DATABASE_URL"\n')
    git(repo, "commit", "-q", "-am", "a string, not a list")
    with pytest.raises(ConfigError, match=r"pass-env must be a list of strings, got 'DATA"):
        pushconfig.read(repo, git(repo, "rev-parse", "HEAD"))


@pytest.mark.parametrize(
    "name", ["PYTEST_ADDOPTS", "PYTHONPATH", "COVERAGE_RCFILE", "GATEKEEPER_X"]
)
def test_pass_env_refuses_a_variable_that_steers_what_the_gate_runs(
    tmp_path: Path, name: str
) -> None:
    gate = f'\n[tool.gatekeeper]\npass-env = ["DATABASE_URL", "{name}"]\n'
    repo = make_project(tmp_path / "repo", gatekeeper=gate)
    with pytest.raises(ConfigError, match=rf"\[tool.gatekeeper\] pass-env lists {name}, which"):
        pushconfig.read(repo, git(repo, "rev-parse", "HEAD"))

    checked = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "check", "lint"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 4, checked.stdout + checked.stderr
    assert f"[tool.gatekeeper] pass-env lists {name}, which" in checked.stderr
    assert "Traceback" not in checked.stderr
