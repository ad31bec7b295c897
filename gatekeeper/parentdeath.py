"""Children that die with their parent: a gate child must not outlive the run that started it.

A gate child runs in a temporary worktree its parent owns. If the parent is killed outright
(SIGKILL, no chance to clean up), the child would keep running, orphaned, while the next run
sweeps that worktree away under it. On Linux the kernel can signal a child when its parent
dies (``prctl(PR_SET_PDEATHSIG)``), set between fork and exec; elsewhere there is no such call
and the child is left as before (the sweep still removes what it leaves once it ends).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from typing import Final

PR_SET_PDEATHSIG: Final = 1  # from <linux/prctl.h>


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
