"""Secrets never reach a message, a log, a report or the network in clear.

Masked wherever gatekeeper writes configuration or output (messages, setup logs, the JSON report
and every other report, cached results): the password of any URL (``scheme://user:PASSWORD@``,
even one holding ``/`` or ``@``), ``password=`` values (libpq keywords, URL query parameters,
``PGPASSWORD=``), ``"password": ...`` in JSON, YAML or Python reprs, and every secret a caller
names. Masking errs on the side of too much: a URL whose path holds ``@`` may lose a little of
it, never a password.

An API key travels only over https: :func:`insecure_endpoint` says when a URL would send it in
clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Final
from urllib.parse import urlsplit

from gatekeeper.model import CheckResult, Finding

MASK: Final = "***"
# scheme://user:password@host -> scheme://user:***@host. The password runs to the last "@"
# before whitespace or a quote, so one holding "@" or "/" is masked whole.
_URL_PASSWORD: Final = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s\"'<>]*:)[^\s\"'<>]*@", re.IGNORECASE
)
# password=..., PGPASSWORD=..., ?password=...&, password: ..., "password": "...", 'PASSWORD': '...'
_KEYED_PASSWORD: Final = re.compile(
    r"(?P<head>(?:passw(?:or)?d|(?<![a-z0-9])(?:pass|pwd))[\"']?\s*[:=]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;&}\]\"']+)",
    re.IGNORECASE,
)
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL passwords, keyed passwords and every one of ``secrets`` masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)
    return _KEYED_PASSWORD.sub(_mask_value, text)


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('head')}{quote}{MASK}{quote}"


def redact_values(value: object) -> object:
    """``value`` (configuration: strings, lists, tables) with every string :func:`redact`-ed."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: redact_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_values(item) for item in value]
    return value


def redact_result(result: CheckResult) -> CheckResult:
    """``result`` with its summary, rule, commands and finding messages redacted."""
    return replace(
        result,
        summary=redact(result.summary),
        rule=redact(result.rule),
        ran=tuple(redact(command) for command in result.ran),
        findings=tuple(_redact_finding(finding) for finding in result.findings),
    )


def _redact_finding(finding: Finding) -> Finding:
    return replace(finding, message=redact(finding.message))


def insecure_endpoint(url: str) -> bool:
    """Whether a request to ``url`` would carry its credentials in clear: anything but https,
    except http to a loopback host (127.0.0.0/8, ::1, localhost), where nothing leaves the
    machine (local stand-ins and proxies)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return True
    if parts.scheme == "https" and host:
        return False
    return not (parts.scheme == "http" and _loopback(host))


def _loopback(host: str) -> bool:
    import ipaddress  # here: plain pytest imports this module (through the options' table)

    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
