"""Basetemps per worktree and run: the sweep of finished runs, racing other sessions."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gatekeeper.resources import tempdirs
from gatekeeper.resources.identity import digest
from gatekeeper.resources.locks import ResourceError, is_held, state_dir


def finished_runs(state: Path, worktree: Path, count: int) -> Path:
    """``count`` finished runs of ``worktree``, oldest first; returns the worktree's folder."""
    for index in range(count):
        claimed = tempdirs.claim(worktree, f"run{index}", state)
        claimed.path.mkdir()
        claimed.held.release()
        stamp = time.time() - 1000 + index
        os.utime(claimed.path.with_suffix(".lock"), (stamp, stamp))
    return tempdirs.root(state) / digest(str(worktree.resolve()))[:12]


def test_the_newest_runs_are_kept(state: Path, tmp_path: Path) -> None:
    folder = finished_runs(state, tmp_path, 5)
    assert tempdirs.dead(state, keep=2) == [folder / "run2", folder / "run1", folder / "run0"]


def test_a_lock_file_vanishing_during_the_sweep_is_skipped(state: Path, tmp_path: Path) -> None:
    folder = finished_runs(state, tmp_path, 4)
    # A dangling link is what a lock another session removed mid-sweep looks like to stat().
    (folder / "gone.lock").symlink_to(folder / "removed-meanwhile.lock")
    assert tempdirs.dead(state, keep=3) == [folder / "run0"]


def test_runs_of_a_worktree_that_no_longer_exists_all_go(state: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "tree"
    worktree.mkdir()
    folder = finished_runs(state, worktree, 2)
    worktree.rmdir()
    dead = tempdirs.dead(state)
    assert sorted(dead) == [folder / "run0", folder / "run1"]
    for path in dead:
        tempdirs.remove(path)
    assert not folder.exists()


def test_probing_a_lock_never_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "x.lock"
    assert not is_held(path)
    assert not path.parent.exists()


def test_a_state_dir_others_may_write_is_refused(state: Path) -> None:
    state.mkdir(mode=0o700)
    state.chmod(0o777)
    with pytest.raises(ResourceError, match="not writable by group or others"):
        state_dir()


def test_a_session_start_sweeps_its_own_worktree_and_all_of_them_once_an_hour(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.mkdir()
    other.mkdir()
    for worktree in (mine, other):
        for run in ("a", "b"):
            tempdirs.claim(worktree, run, state).held.release()
    only_mine = tempdirs.dead(state, keep=0, worktree=mine)
    assert {p.name for p in only_mine} == {"a", "b"}
    assert all(p.parent == only_mine[0].parent for p in only_mine)
    assert len(tempdirs.dead(state, keep=0)) == 4
    assert tempdirs.full_sweep_due(state)
    assert not tempdirs.full_sweep_due(state)  # done: not again within the hour
    assert tempdirs.full_sweep_due(state, every=0)


def test_a_state_dir_that_is_a_link_is_refused_even_to_a_private_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a shared temp dir, another user may plant the link, pointing at a folder of ours.
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o700)
    link = tmp_path / "gatekeeper-state"
    link.symlink_to(ours)
    monkeypatch.setenv("GATEKEEPER_STATE_DIR", str(link))
    with pytest.raises(ResourceError, match="is a symbolic link"):
        state_dir()
    assert list(ours.iterdir()) == []
