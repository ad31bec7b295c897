"""Verdicts the pre-push hook answers, from the cache of passes or by a gate in a temporary
worktree, are recorded in the history for the worktree that pushed (the real hook, real git)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from gatekeeper.history import accepted
from gatekeeper.history.store import Store, path_in
from tests.conftest import git
from tests.githooks.test_prepush import remote_has
from tests.githooks.test_prepush_trust import (
    CACHED,
    GATED,
    TESTS_AND_LINT,
    commit_everything,
    gate,
    minimal_env,
    push,
    with_hook,
)

IGNORES = ".gatekeeper/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n.pytest_cache/\n"


def runs(main: Path, entry: str) -> list[dict[str, Any]]:
    with Store.open(path_in(main / ".git"), create=False) as store:
        return [run.as_dict() for run in store.runs() if run.entry == entry]


def test_a_push_answered_from_the_cache_is_recorded_for_the_worktree_that_pushed(
    tmp_path: Path,
) -> None:
    setup = with_hook(tmp_path, {".gitignore": IGNORES}, TESTS_AND_LINT)
    (setup.worktree / "pkg" / "extra.py").write_text("VALUE = 1\n")
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout
    commit_everything(setup, "a new module")
    head = git(setup.worktree, "rev-parse", "HEAD").strip()
    tree = git(setup.worktree, "rev-parse", "HEAD^{tree}").strip()

    pushed = push(setup, env)

    assert pushed.returncode == 0, pushed.stderr
    assert CACHED in pushed.stderr and GATED not in pushed.stderr
    assert "not recorded" not in pushed.stderr
    (run,) = runs(setup.main, "hook")
    wanted = {
        "worktree": str(setup.worktree.resolve()),
        "branch": "feature",
        "head": head,
        "tree": tree,
        "verdict": "passed",
        "cached": True,
        "checks": [],
    }
    assert {key: run[key] for key in wanted} == wanted


def test_a_push_gated_in_a_temporary_worktree_is_recorded_for_the_worktree_that_pushed(
    tmp_path: Path,
) -> None:
    setup = with_hook(tmp_path, {".gitignore": IGNORES}, TESTS_AND_LINT)
    (setup.worktree / "pkg" / "extra.py").write_text("VALUE = 1\n")
    commit_everything(setup, "a new module")
    head = git(setup.worktree, "rev-parse", "HEAD").strip()

    pushed = push(setup, minimal_env())

    assert pushed.returncode == 0, pushed.stderr
    assert GATED in pushed.stderr and CACHED not in pushed.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is not None
    (run,) = runs(setup.main, "hook")
    assert (run["worktree"], run["branch"], run["head"]) == (
        str(setup.worktree.resolve()),
        "feature",
        head,
    )
    assert (run["verdict"], run["cached"]) == ("passed", False)
    assert {check["name"] for check in run["checks"]} == {"tests", "lint"}
    assert runs(setup.main, "pytest") == runs(setup.main, "run") == []


def test_a_store_that_cannot_be_written_costs_a_warning_line_only(
    tmp_path: Path, capsys: Any
) -> None:
    setup = with_hook(tmp_path, {".gitignore": IGNORES}, TESTS_AND_LINT)
    store = path_in(setup.main / ".git")
    store.parent.mkdir(parents=True, exist_ok=True)
    store.mkdir()  # a folder where the database should be: it cannot be opened
    head = git(setup.worktree, "rev-parse", "HEAD").strip()

    accepted.record(setup.worktree, "hook", head, settings=None)

    said = capsys.readouterr().err
    assert said.startswith("gatekeeper: warning: this gate run was not recorded in the history")
    assert said.count("\n") == 1


def test_a_merge_step_answered_from_the_cache_is_recorded_for_its_command(tmp_path: Path) -> None:
    setup = with_hook(tmp_path, {".gitignore": IGNORES}, TESTS_AND_LINT)
    (setup.worktree / "pkg" / "extra.py").write_text("VALUE = 1\n")
    assert gate(setup.worktree, minimal_env()).returncode == 0
    commit_everything(setup, "a new module")
    head = git(setup.worktree, "rev-parse", "HEAD").strip()

    # As `land` asks for one step, in the shell the pass was recorded in.
    step = (
        "import sys\nfrom pathlib import Path\n"
        "from gatekeeper.integration.workspace import Workspace\n"
        "with Workspace.open(Path.cwd(), 'land') as space:\n"
        "    verdict = space.gate(sys.argv[1], 'step', None)\n"
        "print(verdict.passed, verdict.accepted)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", step, head],
        cwd=setup.worktree,
        env=minimal_env(),
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.stdout.split() == ["True", "True"], done.stdout + done.stderr
    (run,) = runs(setup.main, "land")
    assert (run["worktree"], run["head"], run["cached"]) == (
        str(setup.worktree.resolve()),
        head,
        True,
    )
