"""Each worktree has its own mypy cache; a new one starts from a copy of a sibling's."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gatekeeper.checks import mypycache


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


def warm_cache(root: Path) -> Path:
    cache = root / ".mypy_cache"
    (cache / "3.11").mkdir(parents=True)
    (cache / "3.11" / "cache.db").write_bytes(b"warm")
    return cache


def test_a_source_edited_with_the_same_size_and_time_drops_the_cache(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path / "repo", {"pkg/gone.py": "A = 1\n"})
    cache = warm_cache(root)
    mypycache.record(cache, mypycache.snapshot(root))
    mypycache.revalidate(cache, mypycache.snapshot(root))
    assert (cache / "3.11" / "cache.db").is_file()  # nothing changed: the cache is kept

    source = root / "pkg" / "gone.py"
    before = source.stat()
    source.unlink()
    mypycache.record(cache, mypycache.snapshot(root))  # a run without the file keeps its entry
    source.write_text("B = 2\n")  # back, with other content, the same size and time
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    mypycache.revalidate(cache, mypycache.snapshot(root))

    assert not cache.exists()


def test_a_cache_without_a_record_of_its_sources_is_dropped(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path / "repo")
    cache = warm_cache(root)
    mypycache.revalidate(cache, mypycache.snapshot(root))
    assert not cache.exists()
