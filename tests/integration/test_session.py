"""``pytest --gatekeeper --gatekeeper-integrate``: the merge result is gated after the branch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import git
from tests.integration.repos import base_repo, caller, harmless, rename


def gated(worktree: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--gatekeeper", "--gatekeeper-integrate"],
        cwd=worktree,
        env={**env, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads((worktree / ".gatekeeper/report.json").read_text())
    return done.returncode, report


def test_a_branch_green_alone_fails_when_its_merge_onto_main_breaks(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    rename(repo)
    caller(repo)
    git(repo, "merge", "-q", "--ff-only", "rename")  # main moves on under the caller
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "use-old-name")

    status, report = gated(worktree, child_env)

    assert status == 1
    assert report["verdict"] == "failed"
    assert [c["status"] for c in report["checks"]] == ["passed"]  # the branch alone passes
    integration = report["integration"]
    assert isinstance(integration, dict)
    assert integration["base"] == {"ref": "main", "commit": git(repo, "rev-parse", "main")}
    assert integration["culprit"] == "use-old-name"
    assert "its merge onto main failed" in str(report["rule"])


def test_a_branch_on_the_tip_of_main_needs_no_second_gate(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "docs")

    status, report = gated(worktree, child_env)

    assert status == 0
    integration = report["integration"]
    assert isinstance(integration, dict)
    assert integration["gate_runs"] == 0 and "already contains the tip" in str(integration["note"])
