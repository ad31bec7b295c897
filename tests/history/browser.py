"""A real headless Chromium, driven over the Chrome DevTools protocol on a pipe.

``--remote-debugging-pipe`` makes Chromium read protocol messages from its file descriptor 3
and write its answers and events to 4, each a JSON text ended by a NUL byte: no port, no
websocket, no Python dependency. Every wait here waits for a message from the browser (the
answer to a call, the page's load event), never for a fixed time; the deadline only turns a
browser that stopped answering into a failure instead of a hang.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Final

DEADLINE: Final = 120.0
# Events that mean the page said something went wrong.
COMPLAINTS: Final = ("Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded")


def executable() -> str | None:
    """The system's Chromium, if installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one page; use it as a context manager."""

    def __init__(self, binary: str, profile: Path) -> None:
        ours_in, theirs_out = os.pipe()  # the browser writes, we read
        theirs_in, ours_out = os.pipe()  # we write, the browser reads

        def descriptors() -> None:  # in the child: its ends as fds 3 and 4, as the pipe wants
            read, write = os.dup(theirs_in), os.dup(theirs_out)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # root in a container has no user namespace for the sandbox
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=descriptors,  # noqa: PLW1509 - only dup2 between fork and exec
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(theirs_in)
        os.close(theirs_out)
        self.reader, self.writer = ours_in, ours_out
        self.buffer = b""
        self.number = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def __enter__(self) -> Browser:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.session = ""
            self.call("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        finally:
            os.close(self.writer)
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            os.close(self.reader)

    # -- the protocol -------------------------------------------------------------------------

    def call(self, method: str, **params: object) -> dict[str, Any]:
        """Send one command (to the page, once attached) and return its result."""
        self.number += 1
        message: dict[str, object] = {"id": self.number, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        answer = self.until(lambda m: m.get("id") == self.number)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def until(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next message ``wanted`` accepts; every event read on the way is kept."""
        deadline = time.monotonic() + DEADLINE
        while True:
            message = self._next(deadline)
            if wanted(message):
                return message
            self.events.append(message)

    def _next(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.reader], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError("the browser stopped answering")
            chunk = os.read(self.reader, 1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed the pipe (it exited)")
            self.buffer += chunk
        text, self.buffer = self.buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(text)
        return message

    # -- what the tests do --------------------------------------------------------------------

    def open(self, url: str, width: int, height: int) -> None:
        """Load ``url`` in a viewport of ``width`` x ``height`` CSS pixels (a phone's is
        touch-enabled and mobile) and wait for its load event."""
        mobile = width < 600
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.events.clear()
        self.call("Page.navigate", url=url)
        if not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.until(lambda m: m.get("method") == "Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        found = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in found:
            raise RuntimeError(f"{expression}: {found['exceptionDetails']}")
        return found["result"].get("value")

    def complaints(self) -> list[dict[str, Any]]:
        """Console messages, log entries and uncaught exceptions since the page was opened."""
        return [e for e in self.events if e.get("method") in COMPLAINTS]

    def requests(self) -> list[str]:
        """Every URL the page asked for since it was opened."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, path: Path) -> None:
        """The whole page (beyond the viewport) as a PNG at ``path``."""
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))
