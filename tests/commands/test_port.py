"""Acceptance: 64 concurrent ``gatekeeper port NAME`` calls across 8 worktrees return 64
distinct ports; asking again in the same worktree for the same NAME returns the same port."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

GATEKEEPER = str(Path(sys.executable).parent / "gatekeeper")


def ask(tree: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [GATEKEEPER, "port", *args],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def answer(process: subprocess.Popen[str]) -> str:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    return stdout.strip()


def test_64_concurrent_calls_across_8_worktrees(
    worktrees: Callable[..., list[Path]], child_env: dict[str, str]
) -> None:
    trees = worktrees(8)
    # The same eight names in every worktree: names alone must never decide the port.
    calls = {(t, n): ask(t, child_env, f"svc{n}") for t in trees for n in range(8)}
    got = {key: int(answer(process)) for key, process in calls.items()}
    assert len(set(got.values())) == 64
    again = {(t, 3): ask(t, child_env, "svc3") for t in trees}
    assert all(int(answer(p)) == got[key] for key, p in again.items())


def test_release_gives_the_port_back(
    worktrees: Callable[..., list[Path]], child_env: dict[str, str]
) -> None:
    (tree,) = worktrees(1)
    port = answer(ask(tree, child_env, "web"))
    assert answer(ask(tree, child_env, "web", "--release")) == f"released {port}"
    assert answer(ask(tree, child_env, "web", "--release")) == "no port was reserved for 'web'"


def test_outside_a_worktree_is_a_usage_error(tmp_path: Path, child_env: dict[str, str]) -> None:
    process = ask(tmp_path, child_env, "web")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 4
    assert "run it inside one" in stderr
