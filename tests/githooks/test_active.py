"""A pre-push hook that git does not run is never silent: ``core.hooksPath`` set after the install,
or set for one worktree alone, is reported by ``gatekeeper hook install``, by ``gatekeeper hook
status`` and by every gate run in an ungated worktree."""

from __future__ import annotations

import sys
from pathlib import Path

from gatekeeper.githooks import active, install
from tests.conftest import git, make_project
from tests.integration.repos import gatekeeper

GATE = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'
NOT_GATED = "the pre-push hook is installed, but pushes from"


def repo_with_worktree(tmp_path: Path) -> tuple[Path, Path]:
    main = make_project(tmp_path / "main", gatekeeper=GATE)
    worktree = tmp_path / "linked"
    git(main, "worktree", "add", "-q", "-b", "linked", str(worktree))
    return main, worktree


def test_a_hooks_path_set_after_the_install_is_reported_by_status_and_by_each_gate_run(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    main, worktree = repo_with_worktree(tmp_path)
    assert gatekeeper(worktree, "hook", "install", env=child_env).returncode == 0
    gated = gatekeeper(worktree, "hook", "status", env=child_env)
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert gated.stdout.count("gated: pushes from") == 2
    quiet = gatekeeper(worktree, "run", "-p", "no:cacheprovider", env=child_env)
    assert quiet.returncode == 0, quiet.stdout
    assert NOT_GATED not in quiet.stdout

    git(main, "config", "core.hooksPath", ".husky")  # another hook manager arrives

    status = gatekeeper(worktree, "hook", "status", env=child_env)
    assert status.returncode == 1
    assert f"NOT gated: pushes from {worktree}: core.hooksPath = '.husky'" in status.stdout
    assert f"NOT gated: pushes from {main}:" in status.stdout
    assert 'gatekeeper hook run -- "$@"' in status.stdout
    run = gatekeeper(worktree, "run", "-p", "no:cacheprovider", env=child_env)
    assert run.returncode == 0, run.stdout  # the tree is fine; the warning is about pushes
    assert f"{NOT_GATED} {worktree} are not gated" in run.stdout


def test_an_install_warns_about_a_worktree_whose_own_hooks_path_bypasses_it(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    main, worktree = repo_with_worktree(tmp_path)
    git(main, "config", "extensions.worktreeConfig", "true")
    git(worktree, "config", "--worktree", "core.hooksPath", str(tmp_path / "elsewhere"))

    done = gatekeeper(main, "hook", "install", env=child_env)

    assert done.returncode == 0, done.stderr
    assert "installed the gatekeeper pre-push hook" in done.stdout
    assert f"warning: NOT gated: pushes from {worktree}: core.hooksPath" in done.stderr
    assert f"NOT gated: pushes from {main}" not in done.stderr


def test_another_managers_hook_that_runs_the_gate_counts_as_gated(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    main, worktree = repo_with_worktree(tmp_path)
    git(main, "config", "core.hooksPath", ".husky")
    for checkout in (main, worktree):
        hook = checkout / ".husky" / "pre-push"
        hook.parent.mkdir()
        hook.write_text('#!/bin/sh\nnpx lint-staged\ngatekeeper hook run -- "$@"\n')
        hook.chmod(0o755)

    status = gatekeeper(main, "hook", "status", env=child_env)

    assert status.returncode == 0, status.stdout
    assert status.stdout.count("gated: pushes from") == 2


def test_an_install_from_another_environment_says_whose_interpreter_runs_the_gate_now(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    main, worktree = repo_with_worktree(tmp_path)
    hooks = install.hooks_dir(main)
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "pre-push").write_text(install.script(str(tmp_path / "other" / "bin" / "python")))

    done = gatekeeper(worktree, "hook", "install", env=child_env)

    assert done.returncode == 0, done.stderr
    assert f"replaced the hook installed for {tmp_path / 'other' / 'bin' / 'python'}" in done.stdout
    assert f"now run the gate with {sys.executable}" in done.stdout


def test_each_reason_a_push_goes_ungated_is_named(tmp_path: Path) -> None:
    main, worktree = repo_with_worktree(tmp_path)
    assert [found.gated for found in active.survey(main)] == [False, False]
    assert active.warning(worktree) is None  # never installed: a gate run has nothing to say
    install.install(main)
    assert [found.gated for found in active.survey(worktree)] == [True, True]
    git(main, "config", "core.hooksPath", "elsewhere")
    hook = worktree / "elsewhere" / "pre-push"
    hook.parent.mkdir()
    hook.write_text("#!/bin/sh\nexit 0\n")

    assert "is not executable" in active.state(worktree).reason
    hook.chmod(0o755)
    assert f"{hook} does not run the gate" in active.state(worktree).reason
    assert "where there is no pre-push hook" in active.state(main).reason
    said = active.warning(worktree)
    assert said is not None and f"pushes from {worktree} are not gated" in said
