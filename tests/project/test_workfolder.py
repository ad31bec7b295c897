"""``.gatekeeper/``: gatekeeper's working files stay out of ``git add -A``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gatekeeper.project import workfolder

NOT_IGNORING = {".gitignore": "__pycache__/\n"}


def test_the_folder_ignores_all_but_the_baseline(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    root = make_repo(tmp_path, NOT_IGNORING)
    folder = workfolder.prepare(root)
    for name in ("report.json", "integration.json", "gated/abc.json", "baseline.json"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text("{}\n")
    run_git(root, "add", "-A")
    staged = run_git(root, "diff", "--cached", "--name-only").splitlines()
    assert staged == [".gatekeeper/.gitignore", ".gatekeeper/baseline.json"]


def test_the_ignore_file_of_a_new_worktree_gains_the_rules_and_the_users_is_kept(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    # `gatekeeper worktree new` writes one for its environment file alone.
    root = make_repo(tmp_path / "new", NOT_IGNORING)
    ignore = root / ".gatekeeper" / ".gitignore"
    ignore.parent.mkdir()
    envfile_rules = "# Written by gatekeeper: files that must never be committed.\n/env\n"
    ignore.write_text(envfile_rules + "/setup.log\n/.gitignore\n")
    (workfolder.prepare(root) / "integration.json").write_text("{}\n")
    run_git(root, "add", "-A")
    assert run_git(root, "diff", "--cached", "--name-only") == ""

    users = make_repo(tmp_path / "users", NOT_IGNORING)
    (users / ".gatekeeper").mkdir()
    (users / ".gatekeeper" / ".gitignore").write_text("/report.json\n")
    workfolder.prepare(users)
    assert (users / ".gatekeeper" / ".gitignore").read_text() == "/report.json\n"


def test_a_report_is_kept_by_commit_and_a_missing_one_is_not(tmp_path: Path) -> None:
    report = tmp_path / "tree" / "report.json"
    report.parent.mkdir()
    report.write_text('{"verdict": "failed"}\n')
    kept = workfolder.keep_report(report, tmp_path / "user", "c0ffee")
    assert kept == tmp_path / "user" / ".gatekeeper" / "gated" / "c0ffee.json"
    assert kept.read_text() == '{"verdict": "failed"}\n'
    assert workfolder.keep_report(tmp_path / "missing.json", tmp_path / "user", "beef") is None
