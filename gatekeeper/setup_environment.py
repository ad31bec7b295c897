"""The environment a setup command runs in: ``[tool.gatekeeper.database] setup`` and
``[tool.gatekeeper.worktree] setup`` alike.

A setup command names ``python`` or ``pip`` and means the project's interpreter. Whoever ran
``.venv/bin/pytest`` or ``.venv/bin/gatekeeper`` without activating the venv still means that
venv, yet the shell would find whatever ``python`` comes first on PATH (the system's, without
the project's packages). So the interpreter running gatekeeper comes first: its scripts
directory and its own directory on PATH, and ``VIRTUAL_ENV`` set to it when it is a venv. A
command that names another interpreter by path (``/usr/bin/python3 x.py``) gets that one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Mapping
from pathlib import Path

from gatekeeper.git.repository import clean_env
from gatekeeper.process import run_command
from gatekeeper.redaction import redact

# Variables that would make the chosen interpreter load another installation's standard library.
_FOREIGN: tuple[str, ...] = ("PYTHONHOME",)


def interpreter_dirs() -> list[str]:
    """The running interpreter's scripts directory and its own directory (one if equal)."""
    found: list[str] = []
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        if folder and folder not in found:
            found.append(folder)
    return found


def running_venv() -> Path | None:
    """The virtual environment running gatekeeper; None for a base interpreter."""
    return Path(sys.prefix) if sys.prefix != sys.base_prefix else None


def setup_environment(extra: Mapping[str, str], venv: Path | None = None) -> dict[str, str]:
    """This process's environment without ``GIT_*`` (but git's transport variables, for a step
    that fetches over SSH: :data:`gatekeeper.git.repository.TRANSPORT`), plus ``extra``, with an
    interpreter first.

    ``venv`` (a virtual environment a setup step made) comes first when given; else the
    interpreter running gatekeeper does. ``VIRTUAL_ENV`` names whichever venv comes first and
    is removed when none does, so tools that read it (pip, uv) agree with ``python``.
    """
    env = clean_env(extra)
    for name in _FOREIGN:
        env.pop(name, None)
    active = venv or running_venv()
    first = [str(venv / "bin")] if venv else interpreter_dirs()
    if active is None:
        env.pop("VIRTUAL_ENV", None)
    else:
        env["VIRTUAL_ENV"] = str(active)
    rest = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p not in first]
    env["PATH"] = os.pathsep.join([*first, *rest])
    return env


def run_setup_command(
    command: str,
    cwd: Path,
    env: Mapping[str, str],
    limits: tuple[float, int],
    secrets: tuple[str, ...],
    *,
    merged: bool = False,
    timed_out: Callable[[], Exception],
    failed: Callable[[int, str], Exception],
) -> str:
    """Run one setup ``command`` in ``cwd`` with ``env`` and return its output. ``limits`` is
    (timeout in seconds, lines of output to show on failure). Running longer raises
    ``timed_out()``; a non-zero exit status raises ``failed(status, tail)``, the tail of its
    output with ``secrets`` redacted. Each caller words its own messages."""
    timeout, tail = limits
    try:
        done = run_command(command, cwd, timeout, env, merged=merged)
    except subprocess.TimeoutExpired:
        raise timed_out() from None
    if done.returncode != 0:
        raise failed(done.returncode, redact(done.tail(tail), secrets))
    return done.stdout
