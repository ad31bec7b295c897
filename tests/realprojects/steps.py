"""Running one preparation step, and the error that says which step failed and why."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

# A step that hangs (a registry that never answers) fails instead of holding the suite.
STEP_TIMEOUT = 900


class PreparationError(Exception):
    """A real project could not be fetched, verified or set up: the message names the step."""


def step(
    argv: Sequence[str | Path],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = STEP_TIMEOUT,
) -> str:
    """Run ``argv`` and return its output; a non-zero exit raises with the output's tail."""
    words = [str(word) for word in argv]
    try:
        done = subprocess.run(
            words,
            cwd=cwd,
            env=None if env is None else dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PreparationError(f"`{' '.join(words)}` did not finish in {timeout} s") from None
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise PreparationError(
            f"`{' '.join(words)}` exited {done.returncode} in {cwd or Path.cwd()}:\n{tail}"
        )
    return done.stdout
