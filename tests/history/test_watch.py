"""``gatekeeper status --watch`` in a real terminal (a pty): it redraws in place when a gate
finishes in another worktree, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from gatekeeper.history.watch import CLEAR_SCREEN, HOME, SHOW_CURSOR, frame
from tests.conftest import git, make_project
from tests.history.conftest import floor_env, gate

GATEKEEPER = str(Path(sys.executable).parent / "gatekeeper")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DEADLINE = 120.0  # only so a broken watch fails instead of hanging: every wait is for output


class Terminal:
    """The controlling side of a pty whose other side runs a command."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        # 40 rows of 160 columns: what the command sees as its terminal's size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))

        def controlling() -> None:  # a session of its own, with the pty as its terminal
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            preexec_fn=controlling,  # noqa: PLW1509 - two system calls between fork and exec
        )
        os.close(slave)
        self.output = ""

    def wait_for(self, pattern: str) -> str:
        """Read until the output (ANSI sequences left out) matches ``pattern``."""
        deadline = time.monotonic() + DEADLINE
        while not re.search(pattern, ANSI.sub("", self.output)):
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {pattern!r} in {self.output[-3000:]!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                self.read()
        return self.output

    def read(self) -> bool:
        try:
            chunk = os.read(self.master, 1 << 16)
        except OSError:  # EIO: the other side is closed, the command ended
            return False
        self.output += chunk.decode(errors="replace")
        return bool(chunk)

    def close(self) -> int:
        """Drain the output until the command ends; its exit status."""
        while self.read():
            pass
        os.close(self.master)
        return self.process.wait(timeout=DEADLINE)


def test_frames_are_written_over_the_last_and_cut_to_the_width() -> None:
    text = frame(["a" * 50, "b"], width=20, height=2)
    assert text == f"{HOME}{'a' * 19}\x1b[K\n\x1b[J"  # one line left free: no scrolling


def test_watch_redraws_when_another_worktree_finishes_a_gate_and_ends_on_ctrl_c(
    tmp_path: Path,
) -> None:
    main = make_project(tmp_path / "main", gatekeeper='\n[tool.gatekeeper]\nchecks = ["tests"]\n')
    other = tmp_path / "other"
    git(main, "worktree", "add", "-q", "-b", "other", str(other))
    env = {k: v for k, v in floor_env(tmp_path / "state").items() if k not in ("COLUMNS", "LINES")}
    terminal = Terminal([GATEKEEPER, "status", "--watch"], main, {**env, "TERM": "xterm"})
    try:
        terminal.wait_for(r"other +other +never run")  # the first frame: nothing recorded yet
        assert gate(other, env).returncode == 0  # a gate finishes in the other worktree
        terminal.wait_for(r"other +other +passed \d+s ago \(pytest\)")
        terminal.wait_for(r"the last 7d: 1 gate run, 1 passed")
    finally:
        os.write(terminal.master, b"\x03")  # Ctrl-C, through the terminal's line discipline
        status = terminal.close()
    assert status == 0
    assert terminal.output.count(CLEAR_SCREEN) == 1  # cleared once at the start, never again
    assert terminal.output.count(HOME) >= 2  # the later frame was drawn over the first
    assert terminal.output.rstrip("\r\n").endswith(SHOW_CURSOR)  # the cursor is given back
    assert "Traceback" not in terminal.output and "interrupted" not in terminal.output
