"""Running an external tool so that every way it can go wrong is an error, never a pass."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import ToolError

TAIL = 1500


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished tool run."""

    command: str
    returncode: int
    stdout: str
    stderr: str
    duration: float

    def tail(self) -> str:
        """The end of what the tool printed, for an error message."""
        text = (self.stderr.strip() or self.stdout.strip()) or "(no output)"
        return text if len(text) <= TAIL else "..." + text[-TAIL:]


def require_module(module: str, package: str) -> None:
    """Fail closed when a tool's Python package is not importable by this interpreter."""
    if importlib.util.find_spec(module) is None:
        raise ToolError(
            f"{package} is not installed for {sys.executable}, so this check could not run. "
            f"Install it in the environment that runs the gate: pip install {package}"
        )


def python_module(module: str, *args: str) -> list[str]:
    """The argv running ``python -m module`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run_tool(argv: Sequence[str], cwd: Path, timeout: float | None) -> Completed:
    """Run ``argv`` in ``cwd``; raise :class:`ToolError` when it is missing or times out.

    The tool runs in its own process group so a timeout stops its children too.
    """
    command = shlex.join(argv)
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
    except OSError as error:
        raise ToolError(f"could not start `{command}`: {error}. Is the tool installed?") from None
    try:
        stdout, stderr = process.communicate(timeout=timeout or None)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ToolError(
            f"`{command}` did not finish within {timeout:g} s and was stopped. Raise the check's "
            "`timeout` in [tool.gatekeeper], or find out why it hangs."
        ) from None
    except BaseException:
        _kill_group(process)
        raise
    return Completed(command, process.returncode, stdout, stderr, time.perf_counter() - started)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
