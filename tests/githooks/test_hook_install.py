"""Installing and uninstalling the pre-push hook: shared hooks dir, legacy hook, core.hooksPath."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gatekeeper.githooks import install
from tests.conftest import git, make_project

LEGACY_HOOK = """#!/bin/sh
# the team's own pre-push hook
cat > "$(git rev-parse --git-common-dir)/legacy-ran"
echo "legacy args: $1 $2" >> "$(git rev-parse --git-common-dir)/legacy-ran"
exit "${LEGACY_EXIT:-0}"
"""


def gatekeeper(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def repo_with_worktree(tmp_path: Path) -> tuple[Path, Path]:
    main = make_project(tmp_path / "main")
    worktree = tmp_path / "linked"
    git(main, "worktree", "add", "-q", "-b", "linked", str(worktree))
    return main, worktree


def test_installs_into_the_hooks_dir_every_worktree_shares(tmp_path: Path) -> None:
    main, worktree = repo_with_worktree(tmp_path)

    done = gatekeeper(worktree, "hook", "install")

    hook = main / ".git" / "hooks" / "pre-push"
    assert done.returncode == 0, done.stderr
    assert str(hook) in done.stdout
    assert install.is_ours(hook) and hook.stat().st_mode & 0o111
    assert sys.executable in hook.read_text()
    # Installing again is harmless: no legacy copy of our own hook appears.
    assert gatekeeper(main, "hook", "install").returncode == 0
    assert not (hook.parent / "pre-push.legacy").exists()


def test_an_existing_hook_is_kept_runs_first_and_comes_back(tmp_path: Path) -> None:
    main, worktree = repo_with_worktree(tmp_path)
    hooks = main / ".git" / "hooks"
    (hooks / "pre-push").write_text(LEGACY_HOOK)
    (hooks / "pre-push").chmod(0o755)

    done = gatekeeper(worktree, "hook", "install")
    assert done.returncode == 0, done.stderr
    assert "kept as pre-push.legacy" in done.stdout
    assert (hooks / "pre-push.legacy").read_text() == LEGACY_HOOK

    # The legacy hook runs with git's arguments and input, before the gate; with the gate
    # skipped, its verdict alone decides.
    line = f"refs/heads/linked {'1' * 40} refs/heads/linked {'0' * 40}\n"
    hook_run = [sys.executable, "-m", "gatekeeper", "hook", "run", "--hook-dir", str(hooks)]
    env = {"GATEKEEPER_SKIP": "1", "PATH": "/usr/bin:/bin"}
    ran = subprocess.run(
        [*hook_run, "--", "origin", "url"],
        check=False,
        cwd=worktree,
        input=line,
        text=True,
        capture_output=True,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    assert (main / ".git" / "legacy-ran").read_text() == line + "legacy args: origin url\n"
    failing = subprocess.run(
        [*hook_run, "--", "origin", "url"],
        check=False,
        cwd=worktree,
        input=line,
        text=True,
        capture_output=True,
        env={**env, "LEGACY_EXIT": "3"},
    )
    assert failing.returncode == 1
    assert "earlier pre-push hook" in failing.stderr

    removed = gatekeeper(worktree, "hook", "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert (hooks / "pre-push").read_text() == LEGACY_HOOK
    assert not (hooks / "pre-push.legacy").exists()


def test_never_overwrites_a_foreign_legacy_hook(tmp_path: Path) -> None:
    main, _ = repo_with_worktree(tmp_path)
    hooks = main / ".git" / "hooks"
    (hooks / "pre-push").write_text("#!/bin/sh\nexit 0\n")
    (hooks / "pre-push.legacy").write_text("#!/bin/sh\nexit 1\n")

    done = gatekeeper(main, "hook", "install")

    assert done.returncode == 4
    assert "will not overwrite" in done.stderr
    assert (hooks / "pre-push").read_text() == "#!/bin/sh\nexit 0\n"


def test_uninstall_leaves_a_foreign_hook_alone(tmp_path: Path) -> None:
    main, _ = repo_with_worktree(tmp_path)
    hook = main / ".git" / "hooks" / "pre-push"
    assert "nothing to uninstall" in gatekeeper(main, "hook", "uninstall").stdout
    hook.write_text("#!/bin/sh\nexit 0\n")

    done = gatekeeper(main, "hook", "uninstall")

    assert done.returncode == 4
    assert "not installed by gatekeeper" in done.stderr
    assert hook.exists()


def test_refuses_when_core_hooks_path_is_set(tmp_path: Path) -> None:
    main, worktree = repo_with_worktree(tmp_path)
    git(main, "config", "core.hooksPath", ".husky")

    done = gatekeeper(worktree, "hook", "install")

    assert done.returncode == 4
    assert "core.hooksPath is set to '.husky'" in done.stderr
    assert 'gatekeeper hook run -- "$@"' in done.stderr
    assert not (main / ".git" / "hooks" / "pre-push").exists()
    assert not (main / ".husky").exists()


def test_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    done = gatekeeper(tmp_path, "hook", "install")
    assert done.returncode == 4
    assert "not inside a git repository" in done.stderr


def test_a_hook_that_links_to_a_missing_script_is_kept(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    hooks = install.hooks_dir(root)
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "pre-push").symlink_to("../../scripts/my-pre-push")  # not checked out yet

    outcome = install.install(root)

    assert "kept as pre-push.legacy" in outcome.message
    assert (hooks / "pre-push.legacy").is_symlink()
    install.uninstall(root)
    assert (hooks / "pre-push").is_symlink()
    assert str((hooks / "pre-push").readlink()) == "../../scripts/my-pre-push"
