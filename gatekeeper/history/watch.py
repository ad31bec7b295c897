"""``gatekeeper status --watch``: the view redrawn in place whenever a gate run is recorded.

Plain ANSI, no terminal library: the cursor goes home and each line is written over the last
frame's, cleared to its end, then everything below is cleared. Nothing is erased first, so the
screen never blanks between frames (no flicker), and a frame equal to the last is not written at
all. Lines are cut to the terminal's width, since a wrapped line would shift every line below it.

The store is polled (a cheap ``MAX(id), COUNT(*)``) every ``poll`` seconds; a recorded run, or
``refresh`` seconds without one (ages grow, heads move), redraws. Ctrl-C ends it cleanly, the
cursor shown again and the last frame left on the screen.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Final, TextIO

from gatekeeper.history.store import Store

HOME: Final = "\x1b[H"
CLEAR_LINE: Final = "\x1b[K"
CLEAR_BELOW: Final = "\x1b[J"
CLEAR_SCREEN: Final = "\x1b[2J"
HIDE_CURSOR: Final = "\x1b[?25l"
SHOW_CURSOR: Final = "\x1b[?25h"


def frame(lines: list[str], width: int, height: int) -> str:
    """One frame: ``lines`` over the last, each cut to ``width - 1`` columns, at most
    ``height - 1`` lines (the last row stays free, so the terminal never scrolls)."""
    shown = lines[: max(1, height - 1)]
    body = "".join(f"{line[: max(1, width - 1)]}{CLEAR_LINE}\n" for line in shown)
    return f"{HOME}{body}{CLEAR_BELOW}"


def watch(
    render: Callable[[], list[str]],
    change: Callable[[], Hashable],
    out: TextIO,
    *,
    poll: float = 0.5,
    refresh: float = 10.0,
    stop: threading.Event | None = None,
) -> None:
    """Draw ``render()`` on ``out`` and again whenever ``change()`` gives another value or
    ``refresh`` seconds have passed, until Ctrl-C (or ``stop`` is set)."""
    stop = stop or threading.Event()
    out.write(f"{HIDE_CURSOR}{HOME}{CLEAR_SCREEN}")
    seen: Hashable = object()
    drawn, shown = float("-inf"), ""
    try:
        while not stop.is_set():
            token = change()
            if token != seen or time.monotonic() - drawn >= refresh:
                seen, drawn = token, time.monotonic()
                size = shutil.get_terminal_size()
                text = frame(render(), size.columns, size.lines)
                if text != shown:
                    out.write(text)
                    out.flush()
                    shown = text
            stop.wait(poll)
    except KeyboardInterrupt:
        pass  # the way out: Ctrl-C
    finally:
        out.write(SHOW_CURSOR)
        out.flush()


class StoreChanges:
    """``change`` for :func:`watch`: the store's last run id and count, read on one connection
    kept open (``None`` until the store exists)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store: Store | None = None

    def __call__(self) -> Hashable:
        if self.store is None:
            if not self.path.is_file():
                return None
            self.store = Store.open(self.path, create=False)
        return self.store.change()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
