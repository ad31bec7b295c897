"""Each worktree has its own mypy cache; a new one starts from a copy of a sibling's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gatekeeper import mypycache


def test_a_new_worktree_is_seeded_from_a_sibling_and_owns_its_copy(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    main = make_repo(tmp_path / "main")
    (main / ".mypy_cache" / "3.11").mkdir(parents=True)
    (main / ".mypy_cache" / "3.11" / "cache.db").write_bytes(b"warm")
    other = tmp_path / "other"
    run_git(main, "worktree", "add", "-q", "--detach", str(other), "HEAD")

    seeded = mypycache.cache_dir(other, other)

    assert seeded == other / ".mypy_cache"
    assert (seeded / "3.11" / "cache.db").read_bytes() == b"warm"
    (seeded / "3.11" / "cache.db").write_bytes(b"changed")
    assert (main / ".mypy_cache" / "3.11" / "cache.db").read_bytes() == b"warm"
    assert mypycache.cache_dir(main, main) == main / ".mypy_cache"
    assert not list(other.glob(".mypy_cache-seed-*"))


def test_without_a_sibling_cache_nothing_is_created(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path)
    assert mypycache.cache_dir(root, root) == root / ".mypy_cache"
    assert not (root / ".mypy_cache").exists()
