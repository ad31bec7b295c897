"""Run ``[tool.gatekeeper.worktree] setup`` inside a new worktree and verify each step.

A step succeeded when its exit status is 0 and what it promised exists: a command that creates
a virtual environment (``python -m venv DIR``, ``virtualenv DIR``, ``uv venv [DIR]``) must leave
a working interpreter in ``DIR``. Steps run with the interpreter that runs gatekeeper first on
PATH (:mod:`gatekeeper.setup_environment`) until a step makes the worktree's own virtual
environment; the steps after it run with that one first, so ``pip install`` after
``python -m venv .venv`` lands in the worktree's environment, never the main checkout's.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.errors import GatekeeperError
from gatekeeper.redaction import redact
from gatekeeper.setup_environment import run_setup_command, setup_environment

KEY: Final = "[tool.gatekeeper.worktree] setup"
TIMEOUT: Final = 1800.0
TAIL: Final = 30
LOG: Final = ".gatekeeper/setup.log"


class SetupError(GatekeeperError):
    """A setup command failed, timed out, or did not create what it promised."""


@dataclass(frozen=True, slots=True)
class Step:
    """A finished setup command: what ran, and what was verified after it."""

    command: str
    verified: tuple[str, ...]


def run_all(
    commands: list[str], worktree: Path, extra: Mapping[str, str], secrets: tuple[str, ...]
) -> list[Step]:
    """Run every command in order in ``worktree``; the first failure raises :class:`SetupError`
    with the command's redacted output. Full output goes to ``.gatekeeper/setup.log``."""
    log = worktree / LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    env = setup_environment(extra)
    steps: list[Step] = []
    with log.open("w", encoding="utf-8") as stream:
        for command in commands:
            output = _run(command, worktree, env, secrets)
            stream.write(f"$ {redact(command, secrets)}\n{redact(output, secrets)}\n")
            steps.append(Step(command, verify(command, worktree, env, secrets)))
            made = list(promised_venvs(command))
            if made:  # the worktree's own environment serves the steps after it
                env = setup_environment(extra, venv=(worktree / made[-1]).resolve())
    return steps


def _run(command: str, cwd: Path, env: dict[str, str], secrets: tuple[str, ...]) -> str:
    shown = redact(command, secrets)
    return run_setup_command(
        command,
        cwd,
        env,
        (TIMEOUT, TAIL),
        secrets,
        merged=True,
        timed_out=lambda: SetupError(
            f"{KEY}: `{shown}` ran longer than {TIMEOUT:.0f}s and was stopped."
        ),
        failed=lambda status, tail: SetupError(
            f"{KEY}: `{shown}` failed with exit status {status} in {cwd}. Its output "
            f"(last {TAIL} lines):\n{tail}"
        ),
    )


def promised_venvs(command: str) -> Iterator[str]:
    """The virtual environments ``command`` says it creates (each simple command of a ``&&``
    or ``;`` chain is read on its own)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return
    simple: list[str] = []
    for token in [*tokens, ";"]:
        if token and set(token) <= set("&|;()"):
            yield from _venv_of(simple)
            simple = []
        else:
            simple.append(token)


def _venv_of(words: list[str]) -> Iterator[str]:
    arguments = [w for w in words if not w.startswith("-") or w == "-m"]
    for index, word in enumerate(arguments):
        found = _venv_after(word, arguments[index + 1 :])
        if found is not None:
            yield found


def _venv_after(word: str, after: list[str]) -> str | None:
    """The directory a venv-creating program ``word`` followed by ``after`` creates, if any."""
    program = Path(word).name
    if word == "-m" and after[:1] == ["venv"]:
        return after[1] if len(after) > 1 else None
    if program == "virtualenv":
        return after[0] if after else None
    if program == "uv" and after[:1] == ["venv"]:
        return after[1] if len(after) > 1 else ".venv"
    return None


def verify(
    command: str, worktree: Path, env: dict[str, str], secrets: tuple[str, ...]
) -> tuple[str, ...]:
    """Check that every virtual environment ``command`` promised exists and its interpreter runs."""
    checked: list[str] = []
    for venv in promised_venvs(command):
        directory = worktree / venv
        python = directory / "bin" / "python"
        config = directory / "pyvenv.cfg"
        runs = python.exists() and _runs(python, env)
        if not (config.is_file() and runs):
            raise SetupError(
                f"{KEY}: `{redact(command, secrets)}` exited 0 but the virtual environment "
                f"{directory} it creates is missing or broken (no pyvenv.cfg or no working "
                "bin/python). Fix the command."
            )
        checked.append(f"virtual environment {venv}")
    return tuple(checked)


def _runs(python: Path, env: dict[str, str]) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "pass"], env=env, capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
