"""The one exception root of gatekeeper, and the exit codes it maps to.

Library code raises; only the adapters (the CLI and the pytest plugin) turn an error into an exit
status and a message. Every message says what happened and what to do next, and names the file,
key or command at fault.
"""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 2
EXIT_INTERNAL: Final = 3
EXIT_USAGE: Final = 4


class GatekeeperError(Exception):
    """Root of every error gatekeeper raises on purpose.

    ``str(error)`` is a complete, user-facing paragraph. ``exit_code`` is what the CLI exits with.
    """

    exit_code: int = EXIT_FAILED


class UsageError(GatekeeperError):
    """Bad input from the user: configuration, arguments, datasets or git state."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A ``[tool.gatekeeper]`` table (or a command-line option mirroring it) is invalid."""


class GitError(GatekeeperError):
    """A git command failed or the repository is not in the state gatekeeper needs."""


class ToolError(GatekeeperError):
    """An external tool could not be run, timed out, or printed output we cannot parse."""
