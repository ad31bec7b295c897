"""Shared fixtures: real git repositories holding small real projects."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CLEAN_PACKAGE = '''\
"""A tiny package the gate must pass."""


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b
'''

CLEAN_TEST = """\
from pkg import add


def test_add() -> None:
    assert add(1, 2) == 3
"""

PYPROJECT = """\
[project]
name = "sample"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]
"""


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` (hooks off, identity set) and return its stripped output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_project(root: Path, files: dict[str, str] | None = None, gatekeeper: str = "") -> Path:
    """A committed git repository holding the clean sample project plus ``files``."""
    contents = {
        "pyproject.toml": PYPROJECT + gatekeeper,
        "pkg/__init__.py": CLEAN_PACKAGE,
        "tests/test_add.py": CLEAN_TEST,
        ".gitignore": ".gatekeeper/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n.pytest_cache/\n",
        **(files or {}),
    }
    for name, text in contents.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


ProjectFactory = Callable[..., Path]


@pytest.fixture
def project(pytester: pytest.Pytester) -> ProjectFactory:
    """Factory: ``project(files={...}, gatekeeper="[tool.gatekeeper]...")`` in pytester's dir."""

    def create(files: dict[str, str] | None = None, gatekeeper: str = "") -> Path:
        return make_project(pytester.path, files, gatekeeper)

    return create


# -- scope, baseline, cache: the helpers above as fixtures, so tests need not import conftest --


@pytest.fixture
def make_repo() -> Callable[..., Path]:
    """:func:`make_project` anywhere: ``make_repo(root, files=None, gatekeeper="")``."""
    return make_project


@pytest.fixture
def run_git() -> Callable[..., str]:
    """:func:`git`: ``run_git(cwd, *args)`` returns the stripped output."""
    return git
