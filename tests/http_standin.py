"""The plumbing the HTTP STAND-INS share (tests only): a server on a free loopback port that
hands each request to the stand-in and sends back its answer as JSON.

A stand-in answers ``handle(method, target, auth, body)`` with a status and a JSON
value (None for an empty body); ``target`` is the path with its query, ``auth`` the request's
Authorization header (empty when absent), ``body`` the decoded JSON body (None when empty).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar

Answer = tuple[int, Any]


class StandIn(Protocol):
    url: str

    def handle(self, method: str, target: str, auth: str, body: Any) -> Answer: ...


S = TypeVar("S", bound=StandIn)


def _handler(state: StandIn, content_type: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            auth = self.headers.get("Authorization", "")
            status, answer = state.handle(self.command, self.path, auth, body)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the tests read what the stand-in recorded instead

    return Handler


@contextmanager
def serve(state: S, base: str = "", content_type: str = "application/json") -> Iterator[S]:
    """Run ``state`` on a free loopback port for the duration of the block; ``state.url`` is
    the server's address followed by ``base`` (the API's path prefix)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, content_type))
    state.url = f"http://127.0.0.1:{server.server_address[1]}{base}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
