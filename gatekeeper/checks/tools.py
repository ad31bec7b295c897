"""Running a check's tool (ruff, mypy, radon, ...) so that every way it can go wrong is an error,
never a pass, and its error shows the end of what it printed."""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from gatekeeper.errors import ToolError
from gatekeeper.process import Completed, Running, run_command


def require_module(module: str, package: str) -> None:
    """Fail closed when a tool's Python package is not importable by this interpreter."""
    if importlib.util.find_spec(module) is None:
        raise ToolError(
            f"{package} is not installed for {sys.executable}, so this check could not run. "
            f"Install it in the environment that runs the gate: pip install {package}"
        )


def python_module(module: str, *args: str) -> list[str]:
    """The argv running ``python -P -m module`` with this interpreter: ``-P`` keeps a module of
    that name at the project's root (the tool's working directory) from shadowing the tool."""
    return [sys.executable, "-P", "-m", module, *args]


# The checks' tools in flight: an interrupted gate stops them all.
RUNNING = Running()


def run_tool(argv: Sequence[str], cwd: Path, timeout: float | None) -> Completed:
    """Run ``argv`` in ``cwd``; raise :class:`ToolError` when it is missing or times out.

    The tool runs in its own process group so a timeout stops its children too.
    """
    command = shlex.join(argv)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    try:
        done = run_command(argv, cwd, timeout, env, running=RUNNING)
    except OSError as error:
        raise ToolError(f"could not start `{command}`: {error}. Is the tool installed?") from None
    except subprocess.TimeoutExpired:
        raise ToolError(
            f"`{command}` did not finish within {timeout:g} s and was stopped. Raise the check's "
            "`timeout` in [tool.gatekeeper], or find out why it hangs."
        ) from None
    if done.returncode == -signal.SIGKILL:
        raise ToolError(f"`{command}` was stopped (killed) before it finished.")
    return done
