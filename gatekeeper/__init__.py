"""pytest-gatekeeper: one quality gate for parallel git worktrees.

The public API for plugins: :data:`hookimpl` to mark hook implementations, the :class:`Check`
protocol and the values a check returns. Names are imported on first use, so the pytest plugin
can read its option table without loading the gate.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekeeper.checks.base import Check, CheckContext, TestOutcome
    from gatekeeper.config import Option
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.hookspecs import hookimpl, hookspec
    from gatekeeper.model import CheckResult, Finding, Severity, Status

__all__ = [
    "Check",
    "CheckContext",
    "CheckResult",
    "Finding",
    "GatekeeperError",
    "Option",
    "Severity",
    "Status",
    "TestOutcome",
    "hookimpl",
    "hookspec",
]

_HOME = {
    "Check": "gatekeeper.checks.base",
    "CheckContext": "gatekeeper.checks.base",
    "TestOutcome": "gatekeeper.checks.base",
    "Option": "gatekeeper.config",
    "GatekeeperError": "gatekeeper.errors",
    "hookimpl": "gatekeeper.hookspecs",
    "hookspec": "gatekeeper.hookspecs",
    "CheckResult": "gatekeeper.model",
    "Finding": "gatekeeper.model",
    "Severity": "gatekeeper.model",
    "Status": "gatekeeper.model",
}


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module 'gatekeeper' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
