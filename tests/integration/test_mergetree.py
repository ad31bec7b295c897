"""merge-tree parsing and ref verification on a real repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import UsageError
from gatekeeper.integration.mergetree import merge, parse, verify
from tests.integration.repos import base_repo, branch


def test_parse_reads_tree_paths_and_messages() -> None:
    output = "abc\0f.py\0g.py\0\0" + "1\0f.py\0Auto-merging\0Auto-merging f.py\n\0"
    assert parse(output) == ("abc", ("f.py", "g.py"), ("Auto-merging f.py",))


def test_a_rename_merges_cleanly_and_an_edit_of_one_line_conflicts(tmp_path: Path) -> None:
    repo = base_repo(tmp_path / "repo")
    left = branch(repo, "left", {"pkg/__init__.py": "X = 1\n"})
    right = branch(repo, "right", {"pkg/__init__.py": "X = 2\n"})
    notes = branch(repo, "notes", {"NOTES": "n\n"})
    assert merge(repo, left, notes).clean
    clash = merge(repo, left, right)
    assert clash.conflicts == ("pkg/__init__.py",)
    assert any("CONFLICT (content)" in m for m in clash.messages)


def test_an_unknown_ref_is_refused_before_merging(tmp_path: Path) -> None:
    repo = base_repo(tmp_path / "repo")
    with pytest.raises(UsageError, match="'nope' is not a branch or commit"):
        verify(repo, "nope")
