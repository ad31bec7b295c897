"""One atomic write: a reader finds the old content or the new one, and nothing else is left."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gatekeeper import atomic


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_file_is_replaced_whole_and_stays_private_unless_a_mode_is_given(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "entry.json"
    atomic.write_text(path, "one")
    assert path.read_text() == "one" and mode_of(path) == 0o600

    atomic.write_text(path, "two ✓", mode=0o644)

    assert path.read_text(encoding="utf-8") == "two ✓" and mode_of(path) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["entry.json"]


def test_a_write_that_fails_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    (taken / "inside").mkdir(parents=True)  # a folder where the file should go: no rename

    with pytest.raises(OSError):
        atomic.write_text(taken, "text")

    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
