"""Running an external tool so that every way it can go wrong is an error, never a pass."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import signal
import subprocess
import sys
import threading
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


class Running:
    """The tool processes in flight. Each runs in a session of its own (so a timeout can stop
    its children), out of reach of the terminal's Ctrl-C: an interrupted gate stops them here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen[str]] = set()

    def add(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._processes.add(process)

    def discard(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._processes.discard(process)

    def stop_all(self) -> int:
        """Kill every running tool (and its children); returns how many were running."""
        with self._lock:
            running = list(self._processes)
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        return len(running)


RUNNING = Running()


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
    RUNNING.add(process)
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
    finally:
        RUNNING.discard(process)
    if process.returncode == -signal.SIGKILL:
        raise ToolError(f"`{command}` was stopped (killed) before it finished.")
    return Completed(command, process.returncode, stdout, stderr, time.perf_counter() - started)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
