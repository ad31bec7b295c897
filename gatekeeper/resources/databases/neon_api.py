"""A small client over Neon's documented HTTP API v2: bearer token, retries and operations.

Neon answers ``423 Locked`` while another operation runs in the project and ``429`` above its
rate limit (about 700 requests a minute); both are retried with exponential backoff (honouring
``Retry-After``). A change answers with ``operations[]`` that run on after the answer; they are
polled until each one is ``finished`` or ``skipped``. The API key travels only in the
``Authorization`` header and is masked in every message this module raises.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, Final

from gatekeeper.extras import missing
from gatekeeper.redaction import insecure_endpoint, redact
from gatekeeper.resources.locks import ResourceError

try:
    import httpx
except ImportError:  # an optional dependency (gatekeeper/extras.py)
    raise missing("httpx", "neon", "[tool.gatekeeper.database] backend = 'neon'") from None

DEFAULT_API: Final = "https://console.neon.tech/api/v2"
KEY_ENV: Final = "NEON_API_KEY"
RETRIED: Final = frozenset({423, 429})
DONE: Final = frozenset({"finished", "skipped"})
FAILED: Final = frozenset({"failed", "error", "cancelling", "cancelled"})
HINTS: Final = {
    401: f"${KEY_ENV} is not accepted (revoked or mistyped); create a new API key.",
    403: f"the key in ${KEY_ENV} may not manage this project.",
    404: "the project, branch or database does not exist, or the key cannot see it "
    "([tool.gatekeeper.database] neon-project, neon-parent).",
    422: "Neon refused the request; a free plan caps a project at 10 branches "
    "(try [tool.gatekeeper.database] neon-mode = 'database').",
}


class NeonApi:
    """One project's view of the API. ``backoff`` is the first retry delay (doubled each
    time, at most ``max_delay``); a request gives up after ``patience`` seconds of retries,
    an operation after ``patience`` seconds of polling every ``poll`` seconds."""

    def __init__(
        self,
        key: str,
        base: str = DEFAULT_API,
        *,
        backoff: float = 0.5,
        max_delay: float = 10.0,
        poll: float = 1.0,
        patience: float = 300.0,
    ) -> None:
        if insecure_endpoint(base):
            raise ResourceError(
                f"the Neon API at {redact(base)} ([tool.gatekeeper.database] neon-api) is not "
                "https: the API key would travel in clear. Use https (plain http only to a "
                "loopback host)."
            )
        self._key = key
        self.base = base.rstrip("/")
        self.backoff = backoff
        self.max_delay = max_delay
        self.poll = poll
        self.patience = patience
        self.retries = 0  # answers 423/429 retried so far (reported by the tests and benchmarks)
        self._client = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            timeout=30.0,
        )

    def __repr__(self) -> str:
        return f"NeonApi(base={self.base!r}, key={'***' if self._key else ''!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must be masked in any output (only for redaction, never shown)."""
        return (self._key,)

    def redact(self, text: str) -> str:
        """``text`` without the API key or any URL password."""
        return redact(text, (self._key,))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    # -- requests -----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
    ) -> dict[str, Any]:
        """The JSON answer of a request that must succeed (``{}`` for 204), after retrying
        423 and 429; any other failure raises :class:`ResourceError`."""
        response = self._send_retrying(method, path, params, body)
        if not response.is_success:  # first: an error without a body is still an error
            raise self.error(method, path, response)
        if response.status_code == 204 or not response.content:
            return {}
        return self._json(method, path, response)

    def _send_retrying(
        self, method: str, path: str, params: Mapping[str, str] | None, body: object
    ) -> httpx.Response:
        deadline = time.monotonic() + self.patience
        attempt = 0
        while True:
            response = self._send(method, path, params, body)
            if response.status_code not in RETRIED:
                return response
            delay = self._delay(response, attempt)
            if time.monotonic() + delay > deadline:
                raise ResourceError(
                    self.redact(
                        f"Neon's API kept answering {response.status_code} to {method} {path} "
                        f"for {self.patience:.0f}s ({_message(response)}); try again later."
                    )
                )
            self.retries += 1
            attempt += 1
            time.sleep(delay)

    def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, body: object
    ) -> httpx.Response:
        try:
            return self._client.request(method, path, params=params, json=body)
        except httpx.HTTPError as error:
            raise ResourceError(
                self.redact(f"cannot reach Neon's API at {self.base} ({error}).")
            ) from None

    def _delay(self, response: httpx.Response, attempt: int) -> float:
        """Seconds to wait: ``Retry-After`` when given, else exponential backoff."""
        given = str(response.headers.get("Retry-After", ""))
        if given.replace(".", "", 1).isdigit():
            return min(float(given), self.max_delay)
        return min(self.backoff * 2.0**attempt, self.max_delay)

    def _json(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ResourceError(
                self.redact(f"Neon's API answered {method} {path} with something not JSON.")
            )
        return answer

    def error(self, method: str, path: str, response: httpx.Response) -> ResourceError:
        """A user-facing error: what failed, Neon's words, what to do next (redacted)."""
        hint = HINTS.get(response.status_code, "")
        text = (
            f"Neon's API refused {method} {path} with {response.status_code}: "
            f"{_message(response)}. {hint}"
        )
        return ResourceError(self.redact(text.strip()))

    # -- operations ---------------------------------------------------------------------------

    def wait(self, project: str, operations: Iterable[Mapping[str, Any]]) -> None:
        """Poll each operation until it is finished (or skipped); a failed, cancelled or
        overdue operation raises."""
        for operation in operations:
            self._wait_one(project, str(operation.get("id", "")), operation)

    def _wait_one(self, project: str, ident: str, operation: Mapping[str, Any]) -> None:
        deadline = time.monotonic() + self.patience
        status = str(operation.get("status", ""))
        delay = min(0.1, self.poll)  # most operations end within a second: look early, then less
        while status not in DONE:
            if status in FAILED:
                raise ResourceError(
                    self.redact(
                        f"Neon operation {ident} ({operation.get('action')}) ended {status}: "
                        f"{operation.get('error') or 'no reason given'}."
                    )
                )
            if time.monotonic() > deadline:
                raise ResourceError(
                    f"Neon operation {ident} ({operation.get('action')}) is still {status} "
                    f"after {self.patience:.0f}s."
                )
            time.sleep(delay)
            delay = min(delay * 2, self.poll)
            answer = self.call("GET", f"/projects/{project}/operations/{ident}")
            operation = answer.get("operation") or {}
            status = str(operation.get("status", ""))


def _message(response: httpx.Response) -> str:
    """Neon's error text: the ``message`` of its JSON body, else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.reason_phrase or "no reason given"
