"""Configuration discovery that stops at the project's root.

pytest (rootdir, ini file and ``conftest.py`` files), ruff and mypy each search the ancestors of
where they run for their configuration when the project's root holds none of theirs. Above a
temporary worktree, or a checkout under a shared folder, that search reaches folders other
people can write to (a ``pytest.ini`` or ``conftest.py`` planted there runs code as the person
pushing and can rig the verdict), and folders such as the user's main checkout whose
uncommitted files are not what is judged. A clean checkout in CI finds nothing above its root,
so these arguments make every run judge as that checkout would: with the root's own
configuration, or with none.

The names below mirror each tool's own search order (pytest 9's ``CONFIG_LOADERS_BY_NAME``,
ruff's ``.ruff.toml``/``ruff.toml``/``pyproject.toml`` and mypy's ``defaults.CONFIG_NAMES``); a
file is only named when the tool itself would take it from that folder.
"""

from __future__ import annotations

import configparser
import functools
import itertools
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Final

_PYTEST_TOML: Final = ("pytest.toml", ".pytest.toml")
_PYTEST_INI: Final = ("pytest.ini", ".pytest.ini")
_RUFF_FILES: Final = (".ruff.toml", "ruff.toml")
_MYPY_FILES: Final = ("mypy.ini", ".mypy.ini")
PROJECT_FILE: Final = "pyproject.toml"


def pytest_args(root: Path) -> list[str]:
    """pytest's arguments for a run in ``root``: rootdir, configuration file and the
    ``conftest.py`` search all pinned to ``root``.

    Every path is relative to ``root`` (the run's working directory), so the command line is
    the same in every temporary worktree of a repository.
    """
    return ["--rootdir=.", "--confcutdir=.", f"--config-file={_pytest_config(root)}"]


def _pytest_config(root: Path) -> str:
    """The file pytest would take from ``root`` itself; ``os.devnull`` (no configuration, as
    pytest documents it) when ``root`` holds none."""
    for name in (*_pytest_toml(), *_PYTEST_INI):
        if (root / name).is_file():
            return name
    project = root / PROJECT_FILE
    if project.is_file() and "pytest" in _tool_tables(project):
        return PROJECT_FILE
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        if _ini_has(root / name, section):
            return name
    # pytest's last resort is the first pyproject.toml it passed, even without its table.
    return PROJECT_FILE if project.is_file() else os.devnull


@functools.cache
def _pytest_toml() -> tuple[str, ...]:
    """pytest 9 reads ``pytest.toml`` first; pytest 8 does not know it and takes the next."""
    from importlib.metadata import version

    return _PYTEST_TOML if int(version("pytest").split(".")[0]) >= 9 else ()


def ruff_args(root: Path, given: Sequence[str] = ()) -> list[str]:
    """ruff's arguments for a run in ``root``: none when ``root`` holds ruff's configuration
    (ruff's search ends at the nearest one) or ``given`` names one; else ``--isolated``, ruff's
    defaults, as a checkout with no configuration of its own gets in CI."""
    if _names_file(given) or any((root / name).is_file() for name in _RUFF_FILES):
        return []
    project = root / PROJECT_FILE
    if project.is_file() and "ruff" in _tool_tables(project):
        return []
    return ["--isolated"]


def mypy_args(root: Path) -> list[str]:
    """mypy's arguments for a run in ``root``: the configuration file mypy would take from
    ``root``, else one that holds no configuration; never one above ``root`` or the user's own
    (``~/.config/mypy/config``), which a clean checkout in CI does not have."""
    for name in _MYPY_FILES:
        if (root / name).is_file():
            return ["--config-file", name]
    project = root / PROJECT_FILE
    if project.is_file() and "mypy" in _tool_tables(project):
        return ["--config-file", PROJECT_FILE]
    if _ini_has(root / "setup.cfg", "mypy"):
        return ["--config-file", "setup.cfg"]
    # A file without mypy's table is no configuration; mypy says nothing for pyproject.toml and
    # notes "No [mypy] section" for any other.
    return ["--config-file", PROJECT_FILE if project.is_file() else os.devnull]


def _names_file(given: Sequence[str]) -> bool:
    """Whether ``given`` passes ruff a configuration file (``--config X.toml``), which ruff
    refuses beside ``--isolated``; ``--config KEY=VALUE`` overrides are fine with it."""
    values = [b for a, b in itertools.pairwise(given) if a == "--config"]
    values += [a.removeprefix("--config=") for a in given if a.startswith("--config=")]
    return any(value.endswith(".toml") for value in values)


def _tool_tables(path: Path) -> set[str]:
    """The ``[tool.*]`` tables of a TOML file; every name when it cannot be read, so the tool
    is pointed at the file and reports the problem itself."""
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {"pytest", "ruff", "mypy"}
    return set(tool) if isinstance(tool, dict) else set()


def _ini_has(path: Path, section: str) -> bool:
    """Whether the INI file at ``path`` has ``section``; True when it exists but cannot be
    parsed (the tool then reports it, rather than a file above being read instead)."""
    if not path.is_file():
        return False
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return True
    return parser.has_section(section)
