"""The pre-push hook end to end: real `git push` from a linked worktree to a local bare remote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatekeeper.errors import UsageError
from gatekeeper.githooks import prepush
from tests.conftest import git, make_project

FAST_GATE = '\n[tool.gatekeeper]\nchecks = ["tests", "lint"]\n'
FAULT = "import os\n"


@dataclass(frozen=True)
class Setup:
    main: Path
    worktree: Path
    remote: Path


def user_git(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Plain git as a user runs it: hooks on, no GIT_* leaking in from the test runner."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    clean.update(env or {})
    return subprocess.run(
        ["git", *args], cwd=cwd, env=clean, capture_output=True, text=True, check=False
    )


def gatekeeper(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def remote_has(remote: Path, ref: str) -> str | None:
    done = user_git(remote, "rev-parse", "--verify", "--quiet", ref)
    return done.stdout.strip() if done.returncode == 0 else None


def sample(
    tmp_path: Path, files: dict[str, str] | None = None, gatekeeper: str = FAST_GATE
) -> Setup:
    """The sample project on ``main``, pushed to a local bare remote, and a linked worktree on
    the branch ``feature``."""
    main = make_project(tmp_path / "main", files, gatekeeper=gatekeeper)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(main, "remote", "add", "origin", str(remote))
    git(main, "push", "-q", "origin", "main")
    worktree = tmp_path / "feature"
    git(main, "worktree", "add", "-q", "-b", "feature", str(worktree))
    return Setup(main, worktree, remote)


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return sample(tmp_path)


def commit(worktree: Path, name: str, text: str, message: str) -> str:
    (worktree / name).write_text(text)
    git(worktree, "add", name)
    git(worktree, "commit", "-q", "-m", message)
    return str(git(worktree, "rev-parse", "HEAD"))


def test_a_lint_fault_is_rejected_and_the_fix_goes_through(setup: Setup) -> None:
    installed = gatekeeper(setup.worktree, "hook", "install")
    assert installed.returncode == 0, installed.stderr
    clean = (setup.worktree / "pkg/__init__.py").read_text()
    commit(setup.worktree, "pkg/__init__.py", FAULT + clean, "add a lint fault")

    rejected = user_git(setup.worktree, "push", "origin", "feature")

    assert rejected.returncode != 0
    assert "refs/heads/feature" in rejected.stderr
    assert "failed the gate" in rejected.stderr
    assert "pkg/__init__.py:1:8: F401" in rejected.stderr
    assert "GATEKEEPER_SKIP=1" in rejected.stderr and "--no-verify" in rejected.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is None

    fixed = commit(setup.worktree, "pkg/__init__.py", clean, "remove the lint fault")
    # An uncommitted fault in the working tree is not what is pushed, so it must not count.
    (setup.worktree / "scratch.py").write_text(FAULT)

    accepted = user_git(setup.worktree, "push", "origin", "feature")

    assert accepted.returncode == 0, accepted.stderr
    assert "every pushed ref passed the gate" in accepted.stderr
    assert remote_has(setup.remote, "refs/heads/feature") == fixed
    # The temporary worktrees are gone; only the user's two remain.
    assert len(user_git(setup.main, "worktree", "list").stdout.splitlines()) == 2


def test_every_pushed_ref_is_gated_not_only_the_first(setup: Setup) -> None:
    assert gatekeeper(setup.worktree, "hook", "install").returncode == 0
    git(setup.main, "branch", "good")
    clean = (setup.worktree / "pkg/__init__.py").read_text()
    commit(setup.worktree, "pkg/__init__.py", FAULT + clean, "add a lint fault")

    pushed = user_git(setup.worktree, "push", "origin", "good", "feature")

    assert pushed.returncode != 0
    assert "refs/heads/feature" in pushed.stderr
    assert "refs/heads/good" not in pushed.stderr.split("failed the gate")[0].splitlines()[-1]
    assert remote_has(setup.remote, "refs/heads/good") is None  # the push is one transaction


def test_a_deletion_is_not_gated_and_skip_bypasses_the_gate(setup: Setup) -> None:
    git(setup.main, "push", "-q", "origin", "main:doomed")
    assert gatekeeper(setup.worktree, "hook", "install").returncode == 0

    deleted = user_git(setup.worktree, "push", "origin", ":doomed")
    assert deleted.returncode == 0, deleted.stderr
    assert "refs/heads/doomed is deleted, nothing to gate" in deleted.stderr
    assert remote_has(setup.remote, "refs/heads/doomed") is None

    commit(setup.worktree, "bad.py", FAULT, "a lint fault")
    skipped = user_git(setup.worktree, "push", "origin", "feature", env={"GATEKEEPER_SKIP": "1"})
    assert skipped.returncode == 0, skipped.stderr
    assert "GATEKEEPER_SKIP=1, push not gated" in skipped.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is not None


def test_parse_reads_every_line_and_rejects_garbage() -> None:
    zero = "0" * 40
    text = f"refs/heads/a {'1' * 40} refs/heads/a {zero}\n(delete) {zero} refs/heads/b {'2' * 40}\n"
    refs = prepush.parse(text)
    assert [r.remote_ref for r in refs] == ["refs/heads/a", "refs/heads/b"]
    assert [r.deletion for r in refs] == [False, True]
    with pytest.raises(UsageError, match="is not '<local ref>"):
        prepush.parse("refs/heads/a 123\n")


def test_pre_commit_variables_describe_one_ref() -> None:
    env = {"PRE_COMMIT_TO_REF": "a" * 40, "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/x"}
    (ref,) = prepush.from_pre_commit(env)
    assert ref.local_sha == "a" * 40 and ref.remote_ref == "refs/heads/x" and not ref.deletion
    assert prepush.from_pre_commit({}) == []


def test_a_gate_that_leaves_no_report_fails_closed(tmp_path: Path) -> None:
    verdict = prepush.verdict_from(0, tmp_path / "missing.json")
    assert not verdict.passed
    assert "could not run" in verdict.explanation[0]


def test_a_rejected_push_names_a_report_that_is_still_there(setup: Setup) -> None:
    # The gate ran in a temporary worktree, removed before the hook ends: a report path inside
    # it would name nothing. The hook keeps a copy in the pushing worktree's .gatekeeper/.
    assert gatekeeper(setup.worktree, "hook", "install").returncode == 0
    clean = (setup.worktree / "pkg/__init__.py").read_text()
    pushed = commit(setup.worktree, "pkg/__init__.py", FAULT + clean, "add a lint fault")

    rejected = user_git(setup.worktree, "push", "origin", "feature")

    assert rejected.returncode != 0
    kept = setup.worktree / ".gatekeeper" / "gated" / f"{pushed}.json"
    assert f"  report: {kept}" in rejected.stderr.splitlines()
    assert json.loads(kept.read_text())["verdict"] == "failed"
    named = [line for line in rejected.stderr.splitlines() if line.startswith("report: ")]
    assert named == []  # the child gate names no path inside its temporary worktree
    assert user_git(setup.worktree, "status", "--porcelain").stdout == ""


def test_a_planted_top_level_gatekeeper_module_does_not_shadow_the_gate(setup: Setup) -> None:
    # git runs hooks from the worktree's root: without `python -P` an ignored gatekeeper.py
    # there would be imported in place of gatekeeper and the push would go through ungated.
    installed = gatekeeper(setup.worktree, "hook", "install")
    assert installed.returncode == 0, installed.stderr
    (setup.worktree / "gatekeeper.py").write_text('print("hello")\n')
    exclude = Path(str(git(setup.worktree, "rev-parse", "--git-common-dir")))
    (setup.worktree / exclude / "info" / "exclude").write_text("gatekeeper.py\n")
    clean = (setup.worktree / "pkg/__init__.py").read_text()
    commit(setup.worktree, "pkg/__init__.py", FAULT + clean, "add a lint fault")

    rejected = user_git(setup.worktree, "push", "origin", "feature")

    assert rejected.returncode != 0, rejected.stderr
    assert "hello" not in rejected.stdout + rejected.stderr
    assert "pkg/__init__.py:1:8: F401" in rejected.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is None


def test_pass_env_may_not_hand_the_gate_a_variable_that_steers_pytest(tmp_path: Path) -> None:
    setup = sample(tmp_path, gatekeeper=FAST_GATE + 'pass-env = ["PYTEST_ADDOPTS"]\n')
    installed = gatekeeper(setup.worktree, "hook", "install")
    assert installed.returncode == 0, installed.stderr
    commit(setup.worktree, "tests/test_broken.py", "def test_broken():\n    assert False\n", "x")

    pushed = user_git(
        setup.worktree, "push", "origin", "feature", env={"PYTEST_ADDOPTS": "-k 'not broken'"}
    )

    assert pushed.returncode != 0, pushed.stderr
    assert "[tool.gatekeeper] pass-env" in pushed.stderr and "PYTEST_ADDOPTS" in pushed.stderr
    assert "Traceback" not in pushed.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is None
