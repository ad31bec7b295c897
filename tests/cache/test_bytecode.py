"""Bytecode keyed by content (gatekeeper/cache/bytecode.py): the folders, the redirect, and how a
module imported before the session is checked against its source. The sessions themselves are
tested end to end in tests/githooks/test_prepush_trust.py."""

from __future__ import annotations

import importlib.util
import marshal
import os
import sys
import types
from pathlib import Path

import pytest
from _pytest.assertion.rewrite import PYC_TAIL

from gatekeeper.cache import bytecode
from gatekeeper.errors import UsageError

OLD = "def add(a, b):\n    return a + b\n"
NEW = "def add(a, b):\n    return a - b\n"


def test_a_folder_per_content_and_only_the_most_recent_are_kept(tmp_path: Path) -> None:
    made = [bytecode.folder(tmp_path, f"tree{i}", "") for i in range(4)]
    assert len(set(made)) == 4
    assert bytecode.folder(tmp_path, "tree0", "") == made[0]
    assert bytecode.folder(tmp_path, "tree0", "inputs") != made[0]
    for age, path in enumerate(made):
        bytecode.prepare(path, tmp_path, kept=2)
        os.utime(path, (1_000_000 + age, 1_000_000 + age))

    bytecode.prepare(made[0], tmp_path, kept=2)  # used again: the newest, and never removed

    assert sorted(p.name for p in made[0].parent.iterdir()) == sorted(
        p.name for p in (made[0], made[2], made[3])
    )


def test_a_redirect_is_given_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.delenv(bytecode.ENV, raising=False)

    redirect = bytecode.Redirect.to(tmp_path)
    assert sys.pycache_prefix == str(tmp_path)
    assert os.environ[bytecode.ENV] == str(tmp_path)
    redirect.restore()

    assert sys.pycache_prefix is None
    assert bytecode.ENV not in os.environ


def rewritten_module(root: Path, compiled_from: str, flags: int) -> types.ModuleType:
    """A module as pytest's assertion-rewrite hook loads it: its spec names the hook (any
    loader but the standard one), and its bytecode is pytest's, compiled from ``compiled_from``
    with the header of ``flags`` (0: pytest 8's mtime and size; 3: pytest 9's checked hash)."""
    source = root / "mod.py"
    source.write_text(NEW)
    spec = importlib.util.spec_from_file_location("mod", source, loader=object())  # type: ignore[arg-type]
    assert spec is not None
    # Where the classic layout puts it, whatever sys.pycache_prefix this process has.
    spec.cached = str(root / "__pycache__" / f"mod.{sys.implementation.cache_tag}.pyc")
    status = source.stat()
    header = importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little")
    header += int(status.st_mtime).to_bytes(4, "little") + status.st_size.to_bytes(4, "little")
    code = compile(compiled_from, str(source), "exec", dont_inherit=True)
    pyc = Path(spec.cached).parent / f"mod{PYC_TAIL}"
    pyc.parent.mkdir()
    pyc.write_bytes(header + marshal.dumps(code))
    module = types.ModuleType("mod")
    module.__file__ = str(source)
    module.__spec__ = spec
    return module


def recompile(path: Path) -> types.CodeType:
    return compile(path.read_bytes(), str(path), "exec", dont_inherit=True)


def test_a_rewritten_module_trusted_by_mtime_and_size_is_checked_against_its_source(
    tmp_path: Path,
) -> None:
    stale = rewritten_module(tmp_path, OLD, flags=0)

    found = bytecode.stale_imports(tmp_path, [stale], recompile)

    assert [s.source.name for s in found] == ["mod.py"]
    # Without a way to rewrite it, it cannot be told good: taken as stale.
    assert bytecode.stale_imports(tmp_path, [stale]) == found


def test_bytecode_that_holds_the_source_or_is_checked_by_hash_is_good(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fresh = rewritten_module(tmp_path / "a", NEW, flags=0)
    checked = rewritten_module(tmp_path / "b", OLD, flags=3)  # pytest compared its hash

    assert bytecode.stale_imports(tmp_path, [fresh, checked], recompile) == []


def test_stale_imports_are_refused_and_their_bytecode_removed(tmp_path: Path) -> None:
    stale = rewritten_module(tmp_path, OLD, flags=0)

    with pytest.raises(UsageError) as raised:
        bytecode.refuse_stale_imports(tmp_path, [stale], recompile)

    assert "mod.py had been imported before the gate started" in str(raised.value)
    assert not list(tmp_path.rglob(f"*{PYC_TAIL}"))
    bytecode.refuse_stale_imports(tmp_path, [stale], recompile)  # nothing left to refuse


def mirrored(folder: Path, source: Path, name: str, flags: int = 0) -> Path:
    """A ``.pyc`` named ``name`` for ``source`` in ``folder`` laid out as sys.pycache_prefix
    lays it out, with a header of ``flags``."""
    pyc = folder / str(source.parent).lstrip("/") / name
    pyc.parent.mkdir(parents=True, exist_ok=True)
    pyc.write_bytes(importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + bytes(8))
    return pyc


def test_a_new_folder_takes_only_bytecode_that_holds_whatever_the_tree_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worktree, outside = tmp_path / "wt", tmp_path / "outside"
    monkeypatch.setattr(sys, "prefix", str(worktree / ".venv"))  # an environment in the tree
    tag = sys.implementation.cache_tag
    old, new = tmp_path / "old", tmp_path / "new"
    kept = [
        mirrored(old, outside / "lib.py", f"lib.{tag}.pyc"),
        mirrored(old, worktree / ".venv" / "site.py", f"site.{tag}.pyc"),
        mirrored(old, worktree / "tests" / "test_x.py", f"test_x{PYC_TAIL}", flags=3),
    ]
    left = [
        mirrored(old, worktree / "pkg" / "mod.py", f"mod.{tag}.pyc"),
        mirrored(old, worktree / "pkg" / "mod.py", f"mod.{tag}.opt-1.pyc"),
        mirrored(old, worktree / "tests" / "test_y.py", f"test_y{PYC_TAIL}", flags=0),
    ]

    assert bytecode.seed(old, new, worktree) == len(kept)

    for pyc in kept:
        assert (new / pyc.relative_to(old)).samefile(pyc)
    for pyc in left:
        assert not (new / pyc.relative_to(old)).exists()
