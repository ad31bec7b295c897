"""The installed version of pytest-gatekeeper, looked up only when asked for (it scans metadata)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def installed_version() -> str:
    try:
        return version("pytest-gatekeeper")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
