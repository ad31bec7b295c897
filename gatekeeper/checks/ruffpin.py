"""The ruff version a project pins, and how the lint check keeps to it with another ruff.

A project states its ruff in one of these places, read in this order (the first pin found wins):
``[tool.gatekeeper.lint] ruff-version``, the ``rev`` of the ruff hook in
``.pre-commit-config.yaml``, a lock file (``uv.lock``, ``poetry.lock``, ``pdm.lock``,
``pylock.toml``), an exact ``ruff==X`` in ``pyproject.toml``'s optional dependencies or
dependency groups, or in a requirements file (``requirements*.txt``, ``requirements/*.txt``).

The gate judges with the ruff installed beside it, and always says which version that was. When
it differs from the pin, one difference is known to fail projects that never asked for it: ruff
0.16 began formatting the Python code blocks of Markdown files (0.15 did so only in preview). A
project pinned below 0.16 has never had them formatted, so ``ruff format --check`` leaves
Markdown out for it, unless its ruff configuration turns preview on. Every other difference
between the two versions is named in the result, with the command that installs the pin.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from gatekeeper.config import read_toml
from gatekeeper.errors import ConfigError
from gatekeeper.project.discovery import ruff_tables

# The first release whose `ruff format` formats Markdown code blocks by default.
FORMATS_MARKDOWN: Final = (0, 16, 0)
MARKDOWN: Final = ("*.md", "*.markdown")
_VERSION: Final = re.compile(r"v?(\d+(?:\.\d+)*)")
_REQUIREMENT: Final = re.compile(
    r"^\s*ruff\s*(?:\[[^\]]*\])?\s*===?\s*v?(\d+(?:\.\d+)*)\s*(?:[;#].*)?$", re.IGNORECASE
)
_LOCK_FILES: Final = ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml")


@dataclass(frozen=True, slots=True)
class Pin:
    """A pinned ruff version and where it was stated, for messages."""

    version: str
    source: str


@dataclass(frozen=True, slots=True)
class Judge:
    """The ruff that judges, the project's pin, and what follows from the two."""

    installed: str | None
    pin: Pin | None
    markdown_left_out: bool

    def format_args(self) -> tuple[str, ...]:
        """Extra arguments of ``ruff format --check``."""
        if not self.markdown_left_out:
            return ()
        return tuple(arg for pattern in MARKDOWN for arg in ("--extend-exclude", pattern))

    def note(self) -> str:
        """Which ruff judged, and what differs from the project's pin, for the summary."""
        judged = f"ruff {self.installed or '(version unknown)'}"
        if self.pin is None or self.pin.version == self.installed:
            return judged
        left_out = ", Markdown not format-checked" if self.markdown_left_out else ""
        return (
            f"{judged}; the project pins {self.pin.version} in {self.pin.source}{left_out}; "
            f"`pip install ruff=={self.pin.version}` beside gatekeeper judges exactly as it does"
        )


def judge(root: Path, configured: str) -> Judge:
    """What the lint check runs with in the project at ``root``; ``configured`` is
    ``[tool.gatekeeper.lint] ruff-version`` ('' when unset)."""
    installed = installed_version()
    pin = find(root, configured)
    older = pin is not None and release(pin.version) < FORMATS_MARKDOWN
    newer = installed is not None and release(installed) >= FORMATS_MARKDOWN
    return Judge(installed, pin, older and newer and not previews_formatting(root))


def installed_version() -> str | None:
    """The version of the ruff distribution this interpreter runs (``python -m ruff``)."""
    try:
        return importlib.metadata.version("ruff")
    except importlib.metadata.PackageNotFoundError:
        return None


def release(version: str) -> tuple[int, ...]:
    """The release numbers a version starts with: ``"v0.15.9"`` and ``"0.15.9rc1"`` are
    ``(0, 15, 9)``; ``()`` for a version that starts with none (it then compares as oldest)."""
    found = _VERSION.match(version.strip())
    return tuple(int(part) for part in found.group(1).split(".")) if found else ()


def find(root: Path, configured: str) -> Pin | None:
    """The project's pin, or None when it states none that can be read."""
    if configured:
        version = _version(configured)
        if version is None:
            raise ConfigError(
                f"[tool.gatekeeper.lint] ruff-version must be a version such as 0.15.9, got "
                f"{configured!r}."
            )
        return Pin(version, "[tool.gatekeeper.lint] ruff-version")
    finders: tuple[Callable[[Path], Pin | None], ...] = (
        _pre_commit,
        _lock_file,
        _pyproject,
        _requirements,
    )
    for finder in finders:
        found = finder(root)
        if found is not None:
            return found
    return None


def _pre_commit(root: Path) -> Pin | None:
    """The ``rev`` of the ruff hook's repository (``astral-sh/ruff-pre-commit``). A rev that is
    not a version (a commit id) says nothing we can compare."""
    path = root / ".pre-commit-config.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    repos = document.get("repos") if isinstance(document, dict) else None
    for repo in repos if isinstance(repos, list) else ():
        if not isinstance(repo, dict) or "ruff-pre-commit" not in str(repo.get("repo", "")):
            continue
        version = _version(str(repo.get("rev", "")))
        if version is not None:
            return Pin(version, path.name)
    return None


def _lock_file(root: Path) -> Pin | None:
    for name in _LOCK_FILES:
        document = read_toml(root / name)
        packages = document.get("package", document.get("packages", []))
        for package in packages if isinstance(packages, list) else ():
            if isinstance(package, dict) and str(package.get("name", "")).lower() == "ruff":
                version = _version(str(package.get("version", "")))
                if version is not None:
                    return Pin(version, name)
    return None


def _pyproject(root: Path) -> Pin | None:
    document = read_toml(root / "pyproject.toml")
    project = document.get("project")
    groups = [
        project.get("optional-dependencies") if isinstance(project, dict) else None,
        document.get("dependency-groups"),
    ]
    for group in groups:
        for requirements in group.values() if isinstance(group, dict) else ():
            version = _pinned(requirements if isinstance(requirements, list) else [])
            if version is not None:
                return Pin(version, "pyproject.toml")
    return None


def _requirements(root: Path) -> Pin | None:
    for path in sorted([*root.glob("requirements*.txt"), *root.glob("requirements/*.txt")]):
        with contextlib.suppress(OSError):
            version = _pinned(path.read_text(encoding="utf-8").splitlines())
            if version is not None:
                return Pin(version, path.relative_to(root).as_posix())
    return None


def _pinned(lines: Sequence[object]) -> str | None:
    """The version of an exact ``ruff==X`` among requirement strings."""
    for line in lines:
        found = _REQUIREMENT.match(str(line))
        if found:
            return found.group(1)
    return None


def _version(text: str) -> str | None:
    found = _VERSION.fullmatch(text.strip())
    return found.group(1) if found else None


def previews_formatting(root: Path) -> bool:
    """Whether the project's ruff configuration (the first of ``.ruff.toml``, ``ruff.toml``
    and ``pyproject.toml``'s ``[tool.ruff]`` that exists, as ruff reads them) turns preview on
    for the formatter, which formatted Markdown before 0.16 as well."""
    for table in ruff_tables(root):
        format_table = table.get("format")
        in_format = isinstance(format_table, dict) and format_table.get("preview") is True
        return in_format or table.get("preview") is True
    return False
