"""Real pushes of a real project through the pre-push hook, to its local bare remote: the adopted
main is accepted, a branch with one new unused import is rejected naming it, and the branch
with the import removed again is accepted."""

from __future__ import annotations

import subprocess

from tests.realprojects.workspace import Checkout

BRANCH = "unused-import"


def push(project: Checkout, ref: str) -> subprocess.CompletedProcess[str]:
    """``git push origin REF`` as the developer runs it: their git, hooks on."""
    return project.run("git", "push", "origin", ref)


def on_remote(project: Checkout, ref: str) -> str | None:
    remote = project.git("remote", "get-url", "origin")
    done = project.run("git", "--git-dir", remote, "rev-parse", "--verify", "--quiet", ref)
    return done.stdout.strip() if done.returncode == 0 else None


def accepted(project: Checkout, ref: str) -> None:
    """Push ``ref``: the hook lets it through, and the remote has it."""
    done = push(project, ref)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "gatekeeper: every pushed ref passed the gate" in done.stdout, done.stdout[-3000:]
    assert on_remote(project, f"refs/heads/{ref}") == project.git("rev-parse", ref)


def rejected(project: Checkout, ref: str, finding: str) -> None:
    """Push ``ref``: the hook stops it, naming ``finding`` (lint's only new one), and the
    remote never sees it."""
    done = push(project, ref)
    assert done.returncode != 0, done.stdout[-3000:]
    failure = f"refs/heads/{ref} ({project.git('rev-parse', ref)[:12]}) failed the gate"
    assert f"gatekeeper: {failure}" in done.stdout, done.stdout[-3000:]
    assert "every enabled check must pass; lint failed" in done.stdout, done.stdout[-3000:]
    assert f"    {finding}" in done.stdout.splitlines(), done.stdout[-3000:]
    assert on_remote(project, f"refs/heads/{ref}") is None


def test_the_hook_accepts_main_rejects_a_new_finding_and_accepts_its_fix(
    real_project: Checkout,
) -> None:
    installed = real_project.gatekeeper("hook", "install")
    assert installed.returncode == 0, installed.stdout

    accepted(real_project, "main")

    real_project.git("switch", "-q", "-c", BRANCH)
    module = f"{real_project.project.package}/_unused.py"
    (real_project.root / module).write_text("import os\n", encoding="utf-8")
    real_project.commit("An unused import")

    rejected(real_project, BRANCH, f"{module}:1:8: F401 `os` imported but unused")

    (real_project.root / module).unlink()
    real_project.commit("Remove the unused import")

    accepted(real_project, BRANCH)
