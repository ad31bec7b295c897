"""Source paths: detecting them, listing their Python files, and naming files in reports."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from gatekeeper.errors import ConfigError
from gatekeeper.git import repository

# Directories no source walk should enter, whatever the project's ignore files say.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "build",
        "dist",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".gatekeeper",
        "site-packages",
    }
)
NOT_SOURCE = frozenset({"tests", "test", "testing", "docs", "doc", "benchmarks", "examples"})
# Ignored folders that tools write as they run: never inputs a test can depend on, never work
# of the user's that removing a worktree could lose.
TOOL_CACHES = frozenset(
    {".gatekeeper", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"}
)


def is_tool_cache(relative: str) -> bool:
    """Whether the path ``relative`` (POSIX, from a worktree's root) is a tool's cache: inside
    one of :data:`TOOL_CACHES`, bytecode, or coverage.py's data files."""
    parts = PurePosixPath(relative).parts
    name = parts[-1] if parts else relative
    return bool(set(parts) & TOOL_CACHES) or name.endswith(".pyc") or name.startswith(".coverage")


def is_environment(path: Path) -> bool:
    """Whether the folder ``path`` is a Python environment (a virtual environment's
    ``pyvenv.cfg``, a conda environment's ``conda-meta/``): what it holds is installed code,
    keyed by name and version, not the project's own."""
    return (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form; absolute when it lies outside."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def detect_source_paths(root: Path) -> list[str]:
    """The packages under ``src/``, else the top-level packages and modules; ``.`` if none."""
    in_src = [f"src/{p.name}" for p in _packages(root / "src")]
    if in_src:
        return in_src
    packages = [p.name for p in _packages(root) if _is_source(p.name)]
    modules = [p.name for p in sorted(root.glob("*.py")) if _is_source(p.name)]
    return packages + modules or ["."]


def _packages(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return [p for p in sorted(directory.iterdir()) if _is_package(p)]


def _is_source(name: str) -> bool:
    tooling = ("setup.py", "conftest.py", "noxfile.py")
    return not (name in NOT_SOURCE or name in tooling or name.startswith((".", "test")))


def _is_package(path: Path) -> bool:
    return path.is_dir() and path.name not in SKIP_DIRS and (path / "__init__.py").is_file()


def resolve_paths(root: Path, configured: Iterable[str], key: str) -> tuple[str, ...]:
    """Configured paths, each checked to exist under ``root``; detection when none configured."""
    chosen = list(configured) or detect_source_paths(root)
    for entry in chosen:
        if not (root / entry).exists():
            raise ConfigError(
                f"{key} names {entry!r}, which does not exist under {root}. "
                "Fix the path or remove it."
            )
    return tuple(chosen)


def contained(root: Path, entry: str, key: str) -> None:
    """Refuse ``entry`` (a file of the project's, such as a baseline) when it resolves outside
    ``root``: a link out of the project names a file a clean clone does not have, whose content
    no key holds."""
    target = (root / entry).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ConfigError(
            f"{key} is {entry!r}, which leads to {target}, outside the project; it must be a "
            "file inside the project (a clean checkout has nothing outside it)."
        )


def python_files(root: Path, paths: Iterable[str]) -> list[Path]:
    """The ``.py`` files under ``paths`` that git does not ignore (every one outside git)."""
    files: list[Path] = []
    for entry in paths:
        target = (root / entry).resolve()
        if target.is_file():
            files.append(target)
            continue
        listed = _git_listed(target)
        files.extend(listed if listed is not None else _walk(target))
    return sorted(set(files))


def _git_listed(directory: Path) -> list[Path] | None:
    names = repository.ls_files(
        directory, "--cached", "--others", "--exclude-standard", "--", "*.py"
    )
    if names is None:
        return None
    return [directory / name for name in names if (directory / name).is_file()]


def _walk(directory: Path) -> Iterator[Path]:
    for current, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in names:
            if name.endswith(".py"):
                yield Path(current, name)
