"""A real project made ready to gate, once per session, and a private checkout of it per test.

Preparing means: the verified source distribution unpacked, committed as the release into a
fresh git repository (with the ignores any checkout of it has), then adopted as the docs say:
the gate's configuration appended to pyproject.toml, ``gatekeeper baseline`` run and the
baseline committed. A checkout is a copy of that repository with a local bare remote holding
the release (as a clone of the project would have) and its own venv, where the project is
installed in editable mode from the copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import git
from tests.realprojects import sdists, venvs
from tests.realprojects.cache import locked
from tests.realprojects.catalog import PROJECTS, Edit, Project
from tests.realprojects.steps import PreparationError, step

# What a checkout of these projects ignores: their source distributions ship no .gitignore
# (click) or one without the tools' caches (pluggy).
IGNORED = """
# build and tool output
__pycache__/
*.egg-info/
.coverage
.coverage.*
.mypy_cache/
.pytest_cache/
.ruff_cache/
"""
# As docs/adopting.md says: reports stay local, the baseline is committed.
GATE_IGNORED = "\n# gatekeeper\n.gatekeeper/*\n!.gatekeeper/baseline.json\n"
# A gate run (a whole test suite, or a push that runs several) that hangs fails the test.
RUN_TIMEOUT = 1200
# Variables of the calling shell that must not reach the project's processes: this suite's
# own pytest, coverage and gatekeeper settings, its git context and its virtualenv.
SCRUBBED = ("PYTEST_", "GATEKEEPER_", "GIT_", "COVERAGE_", "PYTHON", "VIRTUAL_ENV")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A project ready to be checked out: its adopted repository and its environments."""

    project: Project
    template: Path
    dependencies: Path
    wheel: Path
    released: str

    def dump(self) -> str:
        return json.dumps(
            {
                "project": self.project.name,
                "template": str(self.template),
                "dependencies": str(self.dependencies),
                "wheel": str(self.wheel),
                "released": self.released,
            }
        )

    @classmethod
    def load(cls, text: str) -> Prepared:
        data = json.loads(text)
        return cls(
            PROJECTS[data["project"]],
            Path(data["template"]),
            Path(data["dependencies"]),
            Path(data["wheel"]),
            data["released"],
        )


def prepare(project: Project, folder: Path, cache: Path | None = None) -> Prepared:
    """``project`` prepared under ``folder``, once: later callers (other xdist workers too)
    wait for the first and reuse what it made."""
    folder.mkdir(parents=True, exist_ok=True)
    record, failure = folder / f"{project.name}.json", folder / f"{project.name}.failed"
    with locked(folder / f"{project.name}.lock"):
        if failure.is_file():  # the same long wait is not paid again by every test
            earlier = failure.read_text()
            raise PreparationError(f"preparing {project.name} failed earlier: {earlier}")
        if not record.is_file():
            try:
                record.write_text(_prepare(project, folder / project.name, cache).dump())
            except Exception as error:
                failure.write_text(str(error))
                raise
    return Prepared.load(record.read_text())


def _prepare(project: Project, folder: Path, cache: Path | None) -> Prepared:
    shutil.rmtree(folder, ignore_errors=True)  # what an interrupted preparation left
    folder.mkdir(parents=True)
    template = sdists.unpack(sdists.fetch(project, cache), folder / "repo")
    dependencies = venvs.dependencies(project, template, cache)
    wheel = venvs.wheel(folder.parent / "wheel")
    released = _commit_release(project, template)
    env = environment(folder / "venv", folder / "state")
    installs: list[str | Path] = [wheel, "-e", template]
    venvs.overlay(dependencies, folder / "venv", installs, {**env, **project.install_env})
    _adopt(project, template, folder / "venv", env)
    git(template, "clean", "-xdfq")  # copies start as a fresh clone would
    return Prepared(project, template, dependencies, wheel, released)


def _commit_release(project: Project, root: Path) -> str:
    with (root / ".gitignore").open("a", encoding="utf-8") as ignore:
        ignore.write(IGNORED)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Real Projects")
    git(root, "config", "user.email", "real-projects@example.invalid")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"{project.name} {project.version} as released")
    return git(root, "rev-parse", "HEAD")


def _adopt(project: Project, root: Path, venv: Path, env: dict[str, str]) -> None:
    with (root / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write(project.adoption)
    with (root / ".gitignore").open("a", encoding="utf-8") as ignore:
        ignore.write(GATE_IGNORED)
    step([venv / "bin" / "gatekeeper", "baseline"], cwd=root, env=env)
    if not (root / ".gatekeeper" / "baseline.json").is_file():
        raise PreparationError(f"gatekeeper baseline wrote no baseline in {root}")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Adopt the gate: coverage fail-under and a baseline")


def environment(venv: Path, state: Path) -> dict[str, str]:
    """The environment of a developer working in the project with ``venv`` activated, and
    gatekeeper's state kept in ``state``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    ours = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != ours]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    env["VIRTUAL_ENV"] = str(venv)
    env["GATEKEEPER_STATE_DIR"] = str(state)
    return env


@dataclass(frozen=True, slots=True)
class Checkout:
    """A private copy of a prepared project, with its remote and its venv."""

    project: Project
    root: Path
    venv: Path
    env: dict[str, str]

    def run(self, *argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command as the developer would; output and errors in one text."""
        return subprocess.run(
            [str(word) for word in argv],
            cwd=cwd or self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )

    def gatekeeper(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(self.venv / "bin" / "gatekeeper", *args, cwd=cwd)

    def printed_json(self, *args: str, cwd: Path | None = None) -> Any:
        """What a ``gatekeeper ... --json`` command printed on its standard output (warnings
        on standard error are kept apart); a command that fails fails the test."""
        done = subprocess.run(
            [str(self.venv / "bin" / "gatekeeper"), *args, "--json"],
            cwd=cwd or self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"gatekeeper {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return json.loads(done.stdout)

    def python(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(self.venv / "bin" / "python", *args, cwd=cwd)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return git(cwd or self.root, *args)

    def report(self, name: str = "report.json", cwd: Path | None = None) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(((cwd or self.root) / ".gatekeeper" / name).read_text())
        return data

    def edit(self, change: Edit, cwd: Path | None = None) -> None:
        """Apply ``change``; its text must occur exactly once (a pinned release never moves)."""
        path = (cwd or self.root) / change.path
        text = path.read_text(encoding="utf-8")
        assert text.count(change.old) == 1, f"{change.old!r} is not once in {path}"
        path.write_text(text.replace(change.old, change.new), encoding="utf-8")

    def prepend(self, path: str, text: str, cwd: Path | None = None) -> None:
        """Put ``text`` first in ``path`` (a comment there suits every formatter)."""
        target = (cwd or self.root) / path
        target.write_text(text + target.read_text(encoding="utf-8"), encoding="utf-8")

    def commit(self, message: str, cwd: Path | None = None) -> str:
        """Commit every change in the worktree; returns the commit id."""
        self.git("add", "-A", cwd=cwd)
        self.git("commit", "-q", "-m", message, cwd=cwd)
        return self.git("rev-parse", "HEAD", cwd=cwd)


def checkout(prepared: Prepared, destination: Path) -> Checkout:
    """A copy of ``prepared`` in ``destination``: the repository, its remote and its venv."""
    project = prepared.project
    root = destination / project.name
    shutil.copytree(prepared.template, root, symlinks=True)
    _add_remote(root, destination / f"{project.name}-origin.git", prepared.released)
    venv = destination / "venv"
    env = environment(venv, destination / "state")
    installs: list[str | Path] = [prepared.wheel, "-e", root]
    venvs.overlay(prepared.dependencies, venv, installs, {**env, **project.install_env})
    return Checkout(project, root, venv, env)


def _add_remote(root: Path, remote: Path, released: str) -> None:
    """``origin`` holds the release, as in a clone of the project; main is one commit ahead."""
    git(root.parent, "init", "-q", "--bare", "-b", "main", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "origin", f"{released}:refs/heads/main")
    git(root, "fetch", "-q", "origin")
    git(root, "remote", "set-head", "origin", "main")
    git(root, "branch", "-q", "--set-upstream-to", "origin/main", "main")


def ready(name: str, folder: Path) -> Checkout:
    """The named project prepared and checked out under ``folder``, in one call (benchmarks)."""
    return checkout(prepare(PROJECTS[name], folder / "prepared"), folder / "checkout")
