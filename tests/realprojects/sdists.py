"""Pinned source distributions from the package index, kept in the cache and verified by their
sha256 every time they are used: a changed artifact is an error, never silently replaced."""

from __future__ import annotations

import hashlib
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from tests.realprojects.cache import cache_root, locked
from tests.realprojects.catalog import Project
from tests.realprojects.steps import PreparationError, step


def fetch(project: Project, cache: Path | None = None) -> Path:
    """The project's pinned source distribution, downloaded once into the cache."""
    folder = (cache or cache_root()) / "sdists"
    target = folder / project.sdist
    with locked(folder / f"{project.name}.lock"):
        if not target.exists():
            _download(project, target)
    verify(target, project.sha256)
    return target


def _download(project: Project, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as scratch:
        step(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                scratch,
                project.requirement,
            ]
        )
        found = Path(scratch) / project.sdist
        if not found.is_file():
            names = sorted(p.name for p in Path(scratch).iterdir())
            raise PreparationError(
                f"pip download {project.requirement} gave {names}, not {project.sdist}"
            )
        verify(found, project.sha256)
        found.replace(target)


def verify(path: Path, sha256: str) -> None:
    """Raise unless ``path``'s content has the pinned digest."""
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != sha256:
        raise PreparationError(
            f"{path} has sha256 {actual}, but the tests pin {sha256}. The artifact changed: "
            "find out why before trusting it (a new pin belongs in tests/realprojects/"
            "catalog.py, with the figures its comments state measured again)."
        )


def unpack(archive: Path, destination: Path) -> Path:
    """Extract the archive's single top-level folder as ``destination``."""
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".unpack-") as scratch:
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
        (top,) = Path(scratch).iterdir()
        shutil.move(top, destination)
    return destination
