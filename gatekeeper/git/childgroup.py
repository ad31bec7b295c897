"""A gate child, and everything it starts, never outlives the run that started it.

A gate child runs ``gatekeeper run`` in a temporary worktree that its parent (the pre-push hook,
``integrate``, ``land``) owns and removes afterwards. The child runs in a process group of its
own, so the parent can stop the child *and* what the child started (pytest-xdist workers, a
server a test started): a signal to the child alone would leave those running, in a worktree
about to be removed, with the parent's output pipes still open.

- Interrupted (Ctrl-C, SIGTERM): the group gets SIGINT, so pytest can tear its fixtures down
  (databases, port leases), then SIGKILL once :data:`GRACE` seconds have passed.
- The child ended: whatever it left running in its group is killed.
- The parent killed outright (SIGKILL, no chance to clean up): on Linux the kernel kills the
  child (``prctl(PR_SET_PDEATHSIG)``, set between fork and exec); the next run sweeps the rest.

A terminal's Ctrl-C reaches only the foreground process group (the parent's): the parent forwards
it. A parent started with SIGINT ignored (a background job of a non-interactive shell) cannot be
interrupted by Ctrl-C at all, as any program; SIGTERM stops it the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Final

PR_SET_PDEATHSIG: Final = 1  # from <linux/prctl.h>
# How long an interrupted child may take to tear down before its group is killed.
GRACE: Final = 5.0
_POLL: Final = 0.05
_STOPPING: Final = frozenset({signal.SIGINT, signal.SIGTERM})

Output = IO[str] | int | None


def run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    stdout: Output = None,
    stderr: Output = None,
    grace: float = GRACE,
) -> int:
    """Run ``argv`` in a process group of its own and return its exit status.

    However this call ends (the child exits, Ctrl-C, SIGTERM turned into an interrupt), nothing
    the child started is left running in its group when it returns or raises.
    """
    # Ctrl-C and SIGTERM are held back until the block that stops the child's group is entered:
    # one arriving between the start and that block would leave the group running.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=stdout,
            stderr=stderr,
            process_group=0,
            # Between fork and exec it makes two C calls, looked up beforehand, and allocates
            # nothing a lock held by another thread could block.
            preexec_fn=_started_child(held, tie_to_parent()),  # noqa: PLW1509
        )
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a held-back signal arrives here
        _wait_exited(process.pid, None)
    except BaseException:
        _interrupt(process.pid, grace)
        raise
    finally:
        # The child is a zombie until reaped, so its group id cannot be reused meanwhile.
        _kill_group(process.pid, signal.SIGKILL)
        process.wait()
    return process.returncode


def _started_child(
    held: set[int | signal.Signals], tie: Callable[[], None] | None
) -> Callable[[], None]:
    """The child's ``preexec_fn``: the signal mask the parent had before it held Ctrl-C back (a
    mask is inherited across exec), then tied to the parent where it can be."""

    def preexec() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if tie is not None:
            tie()

    return preexec


def _wait_exited(pid: int, timeout: float | None) -> bool:
    """Whether ``pid`` exited (within ``timeout`` seconds; None waits for ever), without
    reaping it."""
    flags = os.WEXITED | os.WNOWAIT
    if timeout is None:
        os.waitid(os.P_PID, pid, flags)
        return True
    deadline = time.monotonic() + timeout
    while os.waitid(os.P_PID, pid, flags | os.WNOHANG) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL)
    return True


def _interrupt(pid: int, grace: float) -> None:
    """SIGINT to the group led by ``pid``, then up to ``grace`` seconds for the leader to end."""
    _kill_group(pid, signal.SIGINT)
    _wait_exited(pid, grace)


def _kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pid, sig)


def tie_to_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for :mod:`subprocess` that makes the child get SIGKILL when this process
    dies; None where the platform cannot (the child is then started as usual).

    The C library is looked up here, in the parent: between fork and exec only the call runs.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)  # the parent died before the call: it would never signal us now

    return preexec


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM (a cancelled CI job, ``timeout``, ``kill``) interrupts like
    Ctrl-C, so what was started is stopped and cleaned up; the previous handler comes back
    afterwards. A SIGTERM handler someone else installed is left alone."""
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL or threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be set in the main thread
        return
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
