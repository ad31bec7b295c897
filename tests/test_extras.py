"""Optional dependencies: without httpx (the github and neon extras), what needs it says which
extra to install in one paragraph, and everything else works.

httpx is installed in this environment ([dev]), so each run here is a child interpreter in which
importing httpx fails, as it does where pytest-gatekeeper was installed without those extras.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_project

WITHOUT_HTTPX = """\
import sys

sys.modules["httpx"] = None  # importing it now fails, as where it is not installed
from gatekeeper.cli import main

raise SystemExit(main(sys.argv[1:]))
"""


def without_httpx(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_ci_require_names_the_github_extra(tmp_path: Path, child_env: dict[str, str]) -> None:
    done = without_httpx(
        tmp_path, {**child_env, "GITHUB_TOKEN": "t"}, "ci", "require", "--repo", "o/r"
    )
    assert done.returncode == 4
    assert done.stderr == (
        "gatekeeper ci: error: `gatekeeper ci require` needs httpx, which pytest-gatekeeper "
        "installs only with its `github` extra: install it again with that extra (from a clone: "
        "pip install '/path/to/pytest-gatekeeper[github]'; or add github to the extras of the "
        "install you already use), then run the command again.\n"
    )


def test_the_neon_backend_names_the_neon_extra(tmp_path: Path, child_env: dict[str, str]) -> None:
    config = '\n[tool.gatekeeper.database]\nbackend = "neon"\nneon-project = "p"\n'
    root = make_project(tmp_path / "p", gatekeeper=config)
    done = without_httpx(root, {**child_env, "NEON_API_KEY": "k"}, "sweep", "--dry-run")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "[tool.gatekeeper.database] backend = 'neon' needs httpx" in done.stderr
    assert "its `neon` extra" in done.stderr and "pytest-gatekeeper[neon]" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["ci", "init", "--print", "--gatekeeper-from", "0.1.0"],
        ["run", "-q", "-p", "no:cacheprovider"],
    ],
)
def test_everything_else_works_without_httpx(
    tmp_path: Path, child_env: dict[str, str], args: list[str]
) -> None:
    root = make_project(tmp_path / "p", gatekeeper='\n[tool.gatekeeper]\nchecks = ["tests"]\n')
    done = without_httpx(root, child_env, *args)
    assert done.returncode == 0, done.stdout + done.stderr
