"""pytest-gatekeeper: one quality gate for parallel git worktrees.

The public API for plugins: :data:`hookimpl` to mark hook implementations, the :class:`Check`
protocol and the values a check returns.
"""

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
