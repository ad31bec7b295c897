"""Integration judges the merge result as CI would, whatever the shell it is started from."""

from __future__ import annotations

from pathlib import Path

from tests.integration.repos import base_repo, branch, gatekeeper

SLOW_AND_BROKEN = """\
def test_slow() -> None:
    assert 1 + 1 == 3, "the slow test finds the bug"
"""


def test_pytest_addopts_in_the_shell_does_not_narrow_the_gate_of_the_merge(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    branch(repo, "slow", {"tests/test_slow.py": SLOW_AND_BROKEN})
    narrowing = {**child_env, "PYTEST_ADDOPTS": '-k "not slow"'}

    done = gatekeeper(repo, "integrate", "slow", "--onto", "main", env=narrowing)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
