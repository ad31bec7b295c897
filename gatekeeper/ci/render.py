"""``gatekeeper ci init``: render the workflow and composite action into a project.

The templates live in ``gatekeeper/ci/templates`` (``ci-templates/`` links there). Values are
detected from the project (Python version, install command, dependency files for the cache) and
can be given explicitly; existing files are never overwritten without ``force``.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Final

from gatekeeper import config
from gatekeeper.errors import UsageError

WORKFLOW: Final = Path(".github/workflows/gatekeeper.yml")
ACTION: Final = Path(".github/actions/gatekeeper/action.yml")
TEMPLATES: Final = {WORKFLOW: "gatekeeper.yml", ACTION: "action/action.yml"}
# GitHub runs at most 256 jobs from one matrix.
MAX_SHARDS: Final = 256
_LOWER_BOUND: Final = re.compile(r">=?\s*(3\.\d+)")
_BRANCH: Final = re.compile(r"^[A-Za-z0-9._/-]+$")
# A durations path goes into a cache key's path and a command line: plain relative paths only.
_RELATIVE: Final = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]+$")


@dataclass(frozen=True, slots=True)
class Values:
    """What the rendered workflow is filled with."""

    python_version: str
    install: str
    cache_path: str
    branch: str = "main"
    sarif: bool = True
    # One gate job (1), or a matrix of this many shards and a job combining them.
    shards: int = 1
    # Where the sharded runs read the per-test durations and the combine job writes them.
    durations: str = str(config.Table().by_key()["shard.durations"].default)


def template_dir() -> Path:
    """The templates, shipped inside the package (``ci-templates/`` links to them)."""
    packaged = Path(str(resources.files("gatekeeper.ci") / "templates"))
    if packaged.is_dir():
        return packaged
    raise UsageError(  # pragma: no cover - a broken installation
        "the workflow templates are missing from this installation of pytest-gatekeeper; "
        "reinstall it."
    )


def detect_python(root: Path) -> str:
    """``.python-version``, else the lower bound of ``requires-python``, else this Python."""
    pinned = root / ".python-version"
    if pinned.is_file():
        first = pinned.read_text(encoding="utf-8").strip().splitlines()
        if first and re.fullmatch(r"3\.\d+(\.\d+)?", first[0].strip()):
            return first[0].strip()
    requires = _project(root).get("requires-python")
    found = _LOWER_BOUND.search(requires) if isinstance(requires, str) else None
    if found:
        return found.group(1)
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def detect_install(root: Path) -> tuple[str, str]:
    """The command that installs the project (gatekeeper is added by the caller, pinned) and
    the files keying the pip cache, from what the project has."""
    project = _project(root)
    extras = project.get("optional-dependencies")
    if isinstance(extras, dict) and "dev" in extras:
        command, cache = "python -m pip install -e '.[dev]'", "pyproject.toml"
    elif (root / "requirements-dev.txt").is_file():
        command = "python -m pip install -r requirements-dev.txt"
        command += " -e ." if (root / "pyproject.toml").is_file() else ""
        cache = "requirements-dev.txt"
    elif (root / "requirements.txt").is_file():
        command, cache = "python -m pip install -r requirements.txt", "requirements.txt"
    else:
        command, cache = "python -m pip install -e .", "pyproject.toml"
    return command, cache


def detect_durations(root: Path) -> str:
    """The durations file the project names (``[tool.gatekeeper.shard] durations``), else the
    default: the sharded workflow keeps that file in the Actions cache."""
    table, _ = config.read_pyproject(root)
    return str(config.written(table, "shard.durations"))


def mentions_gatekeeper(root: Path) -> bool:
    """Whether the project's own dependency files already name pytest-gatekeeper (or it is
    pytest-gatekeeper): then they decide which one CI installs."""
    if _project(root).get("name") == "pytest-gatekeeper":
        return True
    names = ("pyproject.toml", "requirements-dev.txt", "requirements.txt")
    return any(
        "pytest-gatekeeper" in (root / name).read_text(encoding="utf-8", errors="replace")
        for name in names
        if (root / name).is_file()
    )


def _project(root: Path) -> dict[str, object]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: cannot read it as TOML ({error}). Fix the file.") from None
    return project if isinstance(project, dict) else {}


def render(template: str, values: Values) -> str:
    """Fill ``template``: the SARIF upload is kept only when ``values.sarif``, the sharded jobs
    only when ``values.shards`` is above 1 (else the one gate job)."""
    _check(values)
    sharded = values.shards > 1
    text = _blocks(template, {"sarif": values.sarif, "sharded": sharded, "unsharded": not sharded})
    return (
        text.replace("__PYTHON_VERSION__", values.python_version)
        .replace('"__INSTALL__"', json.dumps(values.install))
        .replace('"__CACHE_PATH__"', json.dumps(values.cache_path))
        .replace("__BRANCH__", values.branch)
        .replace("__SHARD_LIST__", ", ".join(str(i) for i in range(1, values.shards + 1)))
        .replace("__SHARDS__", str(values.shards))
        .replace("__DURATIONS_DIR__", str(PurePosixPath(values.durations).parent))
        .replace("__DURATIONS__", values.durations)
        .replace("__REPORTING_JOB__", "combine" if sharded else "gate")
        .replace("__PARTS__", "durations, gate, combine" if sharded else "gate")
    )


def _check(values: Values) -> None:
    if "${{" in values.install or "\n" in values.install:
        raise UsageError(
            "the install command must be one line without '${{': it is written into the "
            "workflow as plain text."
        )
    if not _BRANCH.match(values.branch):
        raise UsageError(f"--branch {values.branch!r} is not a branch name.")
    if not 1 <= values.shards <= MAX_SHARDS:
        raise UsageError(
            f"--shards {values.shards}: the gate splits into 1 to {MAX_SHARDS} shards (GitHub "
            "runs at most 256 jobs from one matrix); 1 renders the one gate job."
        )
    if values.shards > 1 and not _RELATIVE.match(values.durations):
        raise UsageError(
            f"[tool.gatekeeper.shard] durations = {values.durations!r}: the sharded workflow "
            "caches this file, so it must be a plain path inside the repository (letters, "
            "digits, '.', '_', '-', '/'; no '..')."
        )


def _blocks(template: str, keep: dict[str, bool]) -> str:
    """``template`` with each ``#>>> NAME`` ... ``#<<< NAME`` block kept (markers dropped) or
    removed whole, as ``keep[NAME]`` says."""
    for name, kept in keep.items():
        if kept:
            template = re.sub(rf"^#(>>>|<<<) {name}\n", "", template, flags=re.MULTILINE)
        else:
            block = rf"^#>>> {name}\n.*?^#<<< {name}\n"
            template = re.sub(block, "", template, flags=re.MULTILINE | re.DOTALL)
    return template


def write(root: Path, values: Values, *, force: bool = False) -> list[Path]:
    """Render every template under ``root``; refuses to overwrite unless ``force``."""
    targets = {root / target: name for target, name in TEMPLATES.items()}
    existing = [str(t.relative_to(root)) for t in targets if t.exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(existing)} already exist(s) in {root}; gatekeeper will not overwrite "
            "it. Pass --force to replace it, or compare it with `gatekeeper ci init --print`."
        )
    for target, name in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(_read(name), values), encoding="utf-8")
    return list(targets)


def _read(name: str) -> str:
    return (template_dir() / name).read_text(encoding="utf-8")


def rendered(values: Values) -> dict[Path, str]:
    """Every rendered file by its path in the project, without writing anything."""
    return {target: render(_read(name), values) for target, name in TEMPLATES.items()}
