"""The environments a real project runs in.

A dependency environment per project (its test dependencies and build backend, gatekeeper's
dependencies with every extra, pytest-xdist) is made once and kept in the cache, keyed by
everything that was asked of pip. It is never changed afterwards: each checkout gets a small
overlay venv that sees the dependency environment's site-packages through a ``.pth`` file and
holds what differs per run, this checkout's gatekeeper (a wheel of the working tree) and the
project itself, installed in editable mode from the checkout as its developers do.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from tests.realprojects.cache import cache_root, locked
from tests.realprojects.catalog import Project
from tests.realprojects.steps import PreparationError, step

# This repository: gatekeeper's dependencies are read from it and its wheel is built from it.
ROOT = Path(__file__).resolve().parents[2]
READY = "gatekeeper-tests-ready.json"
# Development tools the tests drive beside the project's own (`pytest -n 2`).
EXTRA = ("pytest-xdist",)


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def site_packages(venv: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return venv / "lib" / version / "site-packages"


def requirements(project: Project, source: Path) -> list[str]:
    """What the dependency environment of ``project`` (unpacked at ``source``) is made of:
    gatekeeper with every extra (the most it can import), pytest-xdist, the project's build
    backend and its test dependencies."""
    ours = _pyproject(ROOT)["project"]
    theirs = _pyproject(source)
    optional = ours["optional-dependencies"]
    extras = (spec for group, specs in optional.items() if group != "dev" for spec in specs)
    wanted = [
        *ours["dependencies"],
        *extras,
        *(spec for spec in optional["dev"] if Requirement(spec).name in EXTRA),
        *theirs["build-system"]["requires"],
        *_group(theirs.get("dependency-groups", {}), project.test_group),
    ]
    return sorted(dict.fromkeys(wanted))


def _pyproject(folder: Path) -> dict[str, Any]:
    return tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))


def _group(groups: Mapping[str, list[Any]], name: str) -> list[str]:
    """A dependency group's requirements, with its ``{include-group = ...}`` entries expanded."""
    if name not in groups:
        raise PreparationError(f"pyproject.toml has no dependency group {name!r}: {list(groups)}")
    found: list[str] = []
    for entry in groups[name]:
        found += _group(groups, entry["include-group"]) if isinstance(entry, dict) else [entry]
    return found


def dependencies(project: Project, source: Path, cache: Path | None = None) -> Path:
    """The cached dependency environment for ``project`` (unpacked at ``source``)."""
    wanted = requirements(project, source)
    identity = {"python": sys.version, "base": sys.base_prefix, "requirements": wanted}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    venv = (cache or cache_root()) / "venvs" / f"{project.name}-{project.version}-{key}"
    with locked(venv.with_name(venv.name + ".lock")):
        if not (venv / READY).is_file():
            _build(project, venv, wanted)
            (venv / READY).write_text(json.dumps(identity, indent=2), encoding="utf-8")
    return venv


def _build(project: Project, venv: Path, wanted: Sequence[str]) -> None:
    shutil.rmtree(venv, ignore_errors=True)  # what an interrupted build left
    step([sys.executable, "-m", "venv", venv])
    python = python_of(venv)
    step([python, "-m", "pip", "install", "--quiet", "--upgrade", *wanted])
    # Some dependency may pull in a released copy of the project (pytest needs pluggy): the
    # project must come from the checkout under test, never from here.
    step([python, "-m", "pip", "uninstall", "--quiet", "--yes", project.name])


def wheel(destination: Path) -> Path:
    """A wheel of this repository's working tree, built once into ``destination``."""
    with locked(destination.with_name(destination.name + ".lock")):
        if not destination.is_dir():
            scratch = destination.with_name(destination.name + ".partial")
            shutil.rmtree(scratch, ignore_errors=True)
            pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
            step([*pip, "--wheel-dir", scratch, ROOT])
            scratch.replace(destination)
    (built,) = destination.glob("pytest_gatekeeper-*.whl")
    return built


def overlay(base: Path, venv: Path, installs: Sequence[str | Path], env: Mapping[str, str]) -> Path:
    """A venv at ``venv`` that sees ``base``'s packages and has ``installs`` of its own
    (pip arguments, offline, without dependencies). Returns its interpreter."""
    step([sys.executable, "-m", "venv", "--without-pip", venv])
    link = site_packages(venv) / "_gatekeeper_tests_base.pth"
    link.write_text(f"import site; site.addsitedir({str(site_packages(base))!r})\n")
    python = python_of(venv)
    pip: list[str | Path] = [python, "-m", "pip", "install", "--quiet", "--no-deps"]
    step([*pip, "--no-index", "--no-build-isolation", *installs], env=env)
    return python
