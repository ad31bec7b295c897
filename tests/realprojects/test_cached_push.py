"""A push answered from the cache on a real project: after a passing ``pytest --gatekeeper`` in
a checkout of click, ``git push`` through the installed pre-push hook is accepted at once; after
an edit that leaves stale bytecode behind (the same size, the old mtime) it is not, and the
broken code never reaches the remote."""

from __future__ import annotations

import os
import subprocess

import pytest

from gatekeeper.cache import environment
from tests.realprojects.catalog import Edit
from tests.realprojects.workspace import RUN_TIMEOUT, Checkout

CACHED = "accepted from the cache (no worktree, no tests run)"
GATED = "in a temporary worktree"
# As long as the text it replaces, so bytecode that trusts a source's mtime and size takes the
# edited file for the old one. A group's help page then lists its commands' short help with
# underscores between the words, which click's own tests see.
SAME_SIZE = Edit("src/click/utils.py", 'text = " ".join(words)', 'text = "_".join(words)')


def scrubbed_gate(checkout: Checkout) -> subprocess.CompletedProcess[str]:
    """``pytest --gatekeeper`` in the checkout, in the shell the pre-push hook's gate gets (as
    docs/trust.md says to record a pass that answers a push)."""
    return subprocess.run(
        [str(checkout.venv / "bin" / "python"), "-m", "pytest", "--gatekeeper"],
        cwd=checkout.root,
        env=environment.scrubbed(checkout.env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def same_size_edit_with_the_old_mtime(checkout: Checkout, change: Edit) -> None:
    path = checkout.root / change.path
    before = path.stat()
    assert len(change.old) == len(change.new)
    checkout.edit(change)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def push(checkout: Checkout) -> subprocess.CompletedProcess[str]:
    """``git push`` of main as the developer types it: the installed hook gates it."""
    return checkout.run("git", "push", "origin", "main")


def answered_from_the_cache(pushed: subprocess.CompletedProcess[str]) -> bool:
    assert (CACHED in pushed.stdout) != (GATED in pushed.stdout), pushed.stdout
    return CACHED in pushed.stdout


@pytest.mark.parametrize("real_project", ["click"], indirect=True)
def test_a_push_is_answered_from_the_cache_but_never_after_stale_bytecode(
    real_project: Checkout,
) -> None:
    checkout = real_project
    installed = checkout.gatekeeper("hook", "install")
    assert installed.returncode == 0, installed.stdout
    judged = scrubbed_gate(checkout)
    assert judged.returncode == 0, judged.stdout[-3000:]
    assert "will not answer a push" not in judged.stdout

    pushed = push(checkout)

    assert pushed.returncode == 0, pushed.stdout
    assert answered_from_the_cache(pushed)

    # Bytecode a plain run of Python leaves beside the sources, then an edit it cannot see.
    checkout.python("-m", "compileall", "-q", "src")
    same_size_edit_with_the_old_mtime(checkout, SAME_SIZE)
    broken = checkout.commit("join the words of short help with underscores")

    rejudged = scrubbed_gate(checkout)
    assert rejudged.returncode == 1, rejudged.stdout[-3000:]
    rejected = push(checkout)

    assert not answered_from_the_cache(rejected)
    assert rejected.returncode != 0, rejected.stdout
    assert broken not in checkout.git("ls-remote", "origin", "refs/heads/main")
