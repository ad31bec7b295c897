"""One way to run a command with a timeout: a shell command line or an argv, the end of what
it printed for an error message, and a timeout that never waits on the command's children."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gatekeeper.process import run_command


def test_a_shell_command_line_runs_with_its_error_output_merged_in_order(tmp_path: Path) -> None:
    line = "for i in 1 2 3 4; do echo line$i; done; echo oops >&2; exit 3"

    done = run_command(line, tmp_path, 60, dict(os.environ), merged=True)

    assert (done.command, done.returncode, done.stderr) == (line, 3, "")
    assert done.tail(2) == "line4\noops"
    assert done.tail(10) == "line1\nline2\nline3\nline4\noops"


def test_the_tail_shows_error_output_first_and_names_silence(tmp_path: Path) -> None:
    env = dict(os.environ)
    both = run_command("echo out; echo err >&2; exit 1", tmp_path, 60, env)
    silent = run_command("exit 1", tmp_path, 60, env)
    undecodable = run_command("printf 'bad \\377 byte' >&2; exit 1", tmp_path, 60, env)

    assert (both.stdout, both.tail(15)) == ("out\n", "err")
    assert silent.tail(15) == silent.tail() == "(no output)"
    assert undecodable.tail(15) == "bad \ufffd byte"


def test_a_timeout_stops_the_command_without_waiting_for_a_child_holding_its_output(
    tmp_path: Path,
) -> None:
    pids = tmp_path / "pids"
    line = f"sleep 60 & echo $$ $! > {pids}; wait"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_command(line, tmp_path, 3, dict(os.environ))
    elapsed = time.monotonic() - started
    shell, child = (int(pid) for pid in pids.read_text().split())
    with contextlib.suppress(ProcessLookupError):
        os.kill(child, signal.SIGKILL)  # a child outlives the timeout here: remove it

    assert elapsed < 30  # the child sleeps 60 s with the output pipe open
    with pytest.raises(ProcessLookupError):
        os.kill(shell, 0)  # killed and reaped
