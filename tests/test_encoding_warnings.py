"""A project that turns warnings into errors runs under ``PYTHONWARNDEFAULTENCODING=1``.

Python then warns of every text file or pipe opened without an encoding; under
``filterwarnings = ["error"]`` gatekeeper's own such opens ended plain pytest (the isolation
plugin reading a temporary folder's record) and gated runs (git's output) with a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_project

CONFIG = """
[tool.gatekeeper]
checks = ["tests", "coverage"]
paths = ["pkg"]
"""
BIN = Path(sys.executable).parent
COMMANDS = {
    "pytest": (BIN / "pytest",),
    "pytest --gatekeeper": (BIN / "pytest", "--gatekeeper"),
    "gatekeeper run": (sys.executable, "-m", "gatekeeper", "run"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_project_erring_on_warnings_runs_where_encodings_are_warned_of(
    tmp_path: Path, child_env: dict[str, str], command: str
) -> None:
    root = tmp_path / "p"
    make_project(root, gatekeeper=CONFIG)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace('pythonpath = ["."]\n', 'pythonpath = ["."]\nfilterwarnings = ["error"]\n'),
        encoding="utf-8",
    )
    env = {**child_env, "PYTHONWARNDEFAULTENCODING": "1"}
    argv = [str(word) for word in (*COMMANDS[command], "-q", "-p", "no:cacheprovider")]
    done = subprocess.run(
        argv, cwd=root, env=env, capture_output=True, encoding="utf-8", check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "EncodingWarning" not in done.stdout + done.stderr
