"""Configuration discovery that stops at the project's root.

pytest (rootdir, ini file and ``conftest.py`` files), ruff and mypy each search the ancestors of
where they run for their configuration when the project's root holds none of theirs. Above a
temporary worktree, or a checkout under a shared folder, that search reaches folders other
people can write to (a ``pytest.ini`` or ``conftest.py`` planted there runs code as the person
pushing and can rig the verdict), and folders such as the user's main checkout whose
uncommitted files are not what is judged. A clean checkout in CI finds nothing above its root,
so these arguments make every run judge as that checkout would: with the root's own
configuration, or with none.

The names below mirror each tool's own search order (pytest 9's ``CONFIG_LOADERS_BY_NAME`` and
ruff's ``.ruff.toml``/``ruff.toml``/``pyproject.toml``; mypy's is in
:mod:`gatekeeper.checks.types`); a file is only named when the tool itself would take it from
that folder.
"""

from __future__ import annotations

import configparser
import functools
import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from gatekeeper.config import PYPROJECT, read_toml
from gatekeeper.errors import UsageError

_PYTEST_TOML: Final = ("pytest.toml", ".pytest.toml")
_PYTEST_INI: Final = ("pytest.ini", ".pytest.ini")
_RUFF_CONFIGS: Final = (".ruff.toml", "ruff.toml", PYPROJECT)


def pytest_args(root: Path) -> list[str]:
    """pytest's arguments for a run in ``root``: rootdir, configuration file and the
    ``conftest.py`` search all pinned to ``root``.

    Every path is relative to ``root`` (the run's working directory), so the command line is
    the same in every temporary worktree of a repository.
    """
    return ["--rootdir=.", "--confcutdir=.", f"--config-file={_pytest_config(root)}"]


def refuse_outside(worktree: Path, inifile: Path | None, rootdir: Path) -> None:
    """Raise :class:`UsageError` when pytest's configuration file or rootdir lies outside the git
    worktree ``worktree``: found in a folder above a project that has none of its own (or named
    so on purpose), it is not part of what is judged, and a clean checkout does not have it.
    ``os.devnull`` (``-c /dev/null``, no configuration) is no file."""
    top = worktree.resolve()
    if inifile is not None and str(inifile) != os.devnull and not _inside(inifile, top):
        raise UsageError(
            f"gatekeeper: pytest took its configuration from {inifile}, outside the git "
            f"worktree {worktree}. A file there is not part of what is judged and a clean "
            "checkout does not have it, yet it sets pytest's options and rootdir and decides "
            "which conftest.py files load, so it could change the verdict; pytest finds one "
            "above a project that has no pytest configuration of its own. Give the project its "
            "own (a [tool.pytest.ini_options] table in pyproject.toml, or a pytest.ini at its "
            "root), or remove that file."
        )
    if not _inside(rootdir, top):
        raise UsageError(
            f"gatekeeper: pytest's rootdir is {rootdir}, outside the git worktree {worktree}. "
            "conftest.py files up to the rootdir load, and none outside the worktree is part "
            "of what is judged or in a clean checkout, so they could change the verdict. Give "
            "the project its own pytest configuration at its root, run from inside the "
            "worktree, and pass no --rootdir outside it."
        )


def _inside(path: Path, top: Path) -> bool:
    return path.resolve().is_relative_to(top)


def _pytest_config(root: Path) -> str:
    """The file pytest would take from ``root`` itself; ``os.devnull`` (no configuration, as
    pytest documents it) when ``root`` holds none."""
    for name in (*_pytest_toml(), *_PYTEST_INI):
        if (root / name).is_file():
            return name
    if "pytest" in _tool(root / PYPROJECT):
        return PYPROJECT
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        if _ini_has(root / name, section):
            return name
    # pytest's last resort is the first pyproject.toml it passed, even without its table.
    return PYPROJECT if (root / PYPROJECT).is_file() else os.devnull


@functools.cache
def _pytest_toml() -> tuple[str, ...]:
    """pytest 9 reads ``pytest.toml`` first; pytest 8 does not know it and takes the next."""
    from importlib.metadata import version

    return _PYTEST_TOML if int(version("pytest").split(".")[0]) >= 9 else ()


def ruff_tables(root: Path) -> Iterator[dict[str, object]]:
    """The ruff configuration in ``root`` itself, as ruff reads it: the first of
    ``.ruff.toml``, ``ruff.toml`` and ``pyproject.toml``'s ``[tool.ruff]`` that exists."""
    for name in _RUFF_CONFIGS:
        if not (root / name).is_file():
            continue
        document = _tool(root / name).get("ruff") if name == PYPROJECT else read_toml(root / name)
        if isinstance(document, dict) and (document or name != PYPROJECT):
            yield document


def ruff_args(root: Path, given: Sequence[str] = ()) -> list[str]:
    """ruff's arguments for a run in ``root``: none when ``root`` holds ruff's configuration
    (ruff's search ends at the nearest one) or ``given`` names one; else ``--isolated``, ruff's
    defaults, as a checkout with no configuration of its own gets in CI."""
    if _names_file(given) or any(True for _ in ruff_tables(root)):
        return []
    return ["--isolated"]


def _names_file(given: Sequence[str]) -> bool:
    """Whether ``given`` passes ruff a configuration file (``--config X.toml``), which ruff
    refuses beside ``--isolated``; ``--config KEY=VALUE`` overrides are fine with it."""
    values = [b for a, b in itertools.pairwise(given) if a == "--config"]
    values += [a.removeprefix("--config=") for a in given if a.startswith("--config=")]
    return any(value.endswith(".toml") for value in values)


def _tool(path: Path) -> dict[str, object]:
    """The ``[tool]`` table of a TOML file; empty when it is missing or unreadable (the tool
    reports that itself)."""
    tool = read_toml(path).get("tool")
    return tool if isinstance(tool, dict) else {}


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
