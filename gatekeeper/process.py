"""Running an external command (a check's tool, a setup command) with a timeout: what it
printed, its exit status and its duration, and every child stopped when it times out or is
interrupted. A check's tool goes through :mod:`gatekeeper.checks.tools`, which turns every way it
can go wrong into an error."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TAIL = 1500


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished command."""

    command: str
    returncode: int
    stdout: str
    stderr: str
    duration: float

    def tail(self, lines: int | None = None) -> str:
        """The end of what the command printed (its error output when it wrote any), for an
        error message: its last ``lines`` lines when given, else its last TAIL characters (a
        tool may print one long line)."""
        text = (self.stderr.strip() or self.stdout.strip()) or "(no output)"
        if lines is not None:
            return "\n".join(text.splitlines()[-lines:])
        return text if len(text) <= TAIL else "..." + text[-TAIL:]


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


def run_command(
    command: str | Sequence[str],
    cwd: Path,
    timeout: float | None,
    env: Mapping[str, str],
    *,
    merged: bool = False,
    running: Running | None = None,
) -> Completed:
    """Run ``command`` (a shell command line, or an argv) in ``cwd`` with ``env`` and stdin
    closed, and collect what it prints (``merged``: its error output into its output), decoded
    as UTF-8. ``timeout`` (none when 0 or None) raises :class:`subprocess.TimeoutExpired`;
    :class:`OSError` when it cannot start.

    With ``running``, the command runs in a session of its own, out of reach of the terminal's
    Ctrl-C, registered there so an interrupted gate can stop it; a timeout or an interruption
    kills its whole process group. Without, it stays in the caller's (the terminal's Ctrl-C
    reaches it, and it may prompt on the terminal); a timeout kills the command itself.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command if isinstance(command, str) else list(command),
        shell=isinstance(command, str),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=running is not None,
    )
    if running is not None:
        running.add(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout or None)
    except BaseException:
        _stop(process, group=running is not None)
        raise
    finally:
        if running is not None:
            running.discard(process)
    shown = command if isinstance(command, str) else shlex.join(command)
    duration = time.perf_counter() - started
    return Completed(shown, process.returncode, stdout, stderr or "", duration)


def _stop(process: subprocess.Popen[str], group: bool) -> None:
    """Kill ``process`` (with its whole process group when it leads one) and reap it."""
    if group:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()  # every writer is dead: the pipes reach their end
        return
    process.kill()
    process.wait()  # its children may still hold the pipes: wait for it alone
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
