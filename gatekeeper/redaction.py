"""Secrets never reach a message or a log: passwords in URLs and known tokens are masked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

MASK: Final = "***"
# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD: Final = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@\s/]+@", re.I)
_CONNINFO_PASSWORD: Final = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL passwords, ``password=`` values and every one of ``secrets`` masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)
    return _CONNINFO_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}", text)
