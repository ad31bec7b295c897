"""``gatekeeper integrate`` end to end on real git repositories, with real gate runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.conftest import git
from tests.integration.repos import (
    base_repo,
    branch,
    caller,
    counted,
    gatekeeper,
    harmless,
    lines,
    rename,
    state_of,
    traced,
)


def test_green_alone_red_together_names_the_caller_and_changes_nothing(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    rename(repo)
    caller(repo)
    (repo / "untracked.txt").write_text("the user's own file\n")
    before = state_of(repo)

    alone = [
        gatekeeper(repo, "integrate", b, "--onto", "main", env=child_env)
        for b in ("rename", "use-old-name")
    ]
    together = gatekeeper(
        repo, "integrate", "rename", "use-old-name", "--onto", "main", env=child_env
    )

    assert [r.returncode for r in alone] == [0, 0], [r.stdout + r.stderr for r in alone]
    assert together.returncode == 1, together.stdout + together.stderr
    assert "culprit: use-old-name" in together.stdout
    assert "can land together: rename" in together.stdout
    assert "Traceback" not in together.stderr
    report = json.loads((repo / ".gatekeeper/integration.json").read_text())["integration"]
    assert report["culprit"] == "use-old-name"
    assert report["base"]["commit"] == git(repo, "rev-parse", "main")
    assert [s["verdict"] for s in report["steps"]] == ["passed", "failed"]
    assert state_of(repo) == before


def test_a_stack_of_four_names_the_breaker_within_the_run_budget(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs-a")
    rename(repo)
    harmless(repo, "docs-b")
    caller(repo)
    runs = tmp_path / "runs.txt"
    stack = ["docs-a", "rename", "docs-b", "use-old-name"]

    done = gatekeeper(repo, "integrate", *stack, "--onto", "main", env=counted(child_env, runs))

    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads((repo / ".gatekeeper/integration.json").read_text())["integration"]
    assert report["culprit"] == "use-old-name"
    assert report["landable"] == ["docs-a", "rename", "docs-b"]
    assert report["gate_runs"] <= math.ceil(math.log2(len(stack))) + 2
    assert lines(runs) == report["gate_runs"]  # counted by the sample project's own test
    top = report["steps"][-1]
    assert top["verdict"] == "failed" and top["runs"] == 2  # retried once before bisecting


def test_two_branches_editing_one_line_conflict_without_leftovers(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    branch(repo, "left", {"pkg/__init__.py": "X = 1\n"})
    branch(repo, "right", {"pkg/__init__.py": "X = 2\n"})
    before = state_of(repo)

    done = gatekeeper(repo, "integrate", "left", "right", "--onto", "main", env=child_env)

    assert done.returncode == 1
    assert "right conflicts with left in pkg/__init__.py" in done.stdout
    assert "Traceback" not in done.stderr
    assert state_of(repo) == before
    report = json.loads((repo / ".gatekeeper/integration.json").read_text())["integration"]
    assert report["pairwise_conflicts"] == [
        {"branch": "right", "with": "left", "files": ["pkg/__init__.py"]}
    ]
    assert report["landable"] == []  # left alone fails the gate: the package lost `add`


def test_an_unknown_branch_is_a_usage_error_naming_it(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    done = gatekeeper(repo, "integrate", "no-such-branch", "--onto", "main", env=child_env)
    assert done.returncode == 4
    assert "'no-such-branch' is not a branch or commit" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_merge_result_already_gated_comes_from_the_cache(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    runs, sessions = tmp_path / "runs.txt", tmp_path / "sessions.txt"
    env = {**counted(child_env, runs), "GATE_SESSIONS": str(sessions)}
    first_log, second_log = tmp_path / "first.trace", tmp_path / "second.trace"

    first = gatekeeper(
        repo, "integrate", "docs", "--onto", "main", env=traced(env, tmp_path / "c1", first_log)
    )
    started = lines(sessions)
    second = gatekeeper(
        repo, "integrate", "docs", "--onto", "main", env=traced(env, tmp_path / "c2", second_log)
    )

    assert first.returncode == 0 and second.returncode == 0, second.stdout + second.stderr
    assert started >= 1 and lines(runs) == 1  # the first run gated the merge result
    assert " worktree add " in first_log.read_text()  # the trace does see worktrees made
    assert lines(sessions) == started  # the second run started no gate at all ...
    assert " worktree add " not in second_log.read_text()  # ... and made no worktree
    assert "(cached: this exact tree passed the gate before" in second.stdout
    assert "0 gate run(s); verdict: passed" in second.stdout
    report = json.loads((repo / ".gatekeeper/integration.json").read_text())["integration"]
    assert report["gate_runs"] == 0
    assert [(s["verdict"], s["cached"], s["runs"]) for s in report["steps"]] == [
        ("passed", True, 0)
    ]


def test_a_failing_base_blames_no_branch(tmp_path: Path, child_env: dict[str, str]) -> None:
    broken = "def test_broken() -> None:\n    assert False\n"
    repo = base_repo(tmp_path / "repo", {"tests/test_broken.py": broken})
    harmless(repo, "docs")

    done = gatekeeper(repo, "integrate", "docs", "--onto", "main", env=child_env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "the base fails" in done.stdout
    assert "culprit:" not in done.stdout
    report = json.loads((repo / ".gatekeeper/integration.json").read_text())["integration"]
    assert report["culprit"] is None and report["base_fails"] is True


def test_revision_expressions_are_integrated_without_a_crash(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    harmless(repo, "notes")
    before = state_of(repo)

    done = gatekeeper(
        repo, "integrate", "docs~0", "notes^{commit}", "--onto", "main", env=child_env
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "can land together: docs~0, notes^{commit}" in done.stdout
    assert state_of(repo) == before


def test_a_gate_that_could_not_run_is_explained_by_its_own_last_lines(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # Without -v the child gate's output is not shown: "see above" would point at nothing.
    repo = base_repo(tmp_path / "repo")
    broken = (repo / "pyproject.toml").read_text().replace('["tests"]', '["tests", "nope"]')
    branch(repo, "broken-config", {"pyproject.toml": broken})

    done = gatekeeper(repo, "integrate", "broken-config", "--onto", "main", env=child_env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "see above" not in done.stdout
    assert "the gate could not run (exit status 4); it ended with:" in done.stdout
    assert "unknown check 'nope' in [tool.gatekeeper] checks" in done.stdout
    # The failed gate's report is gone with its worktree; a gate with no report keeps none.
    assert not (repo / ".gatekeeper" / "gated").exists()
