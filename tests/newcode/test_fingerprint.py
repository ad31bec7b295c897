"""Fingerprints survive line shifts; a second identical problem is a new one."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.model import Finding
from gatekeeper.newcode.fingerprint import assign

SOURCE = """\
import os


def f() -> None:
    x = undefined_name
    y = undefined_name
"""


def findings_in(root: Path, text: str, lines: list[int]) -> list[str]:
    (root / "m.py").write_text(text)
    raw = [Finding("lint", "m.py", n, 9, "F821", "Undefined name `undefined_name`") for n in lines]
    return [f.fingerprint for f in assign(raw, root)]


def test_a_line_shift_keeps_fingerprints(tmp_path: Path) -> None:
    before = findings_in(tmp_path, SOURCE, [5, 6])
    after = findings_in(tmp_path, "# one\n# two\n# three\n" + SOURCE, [8, 9])
    assert before == after


def test_identical_problems_in_one_scope_are_told_apart(tmp_path: Path) -> None:
    same_line = SOURCE.replace("y = undefined_name", "x = undefined_name")
    first, second = findings_in(tmp_path, same_line, [5, 6])
    assert first != second
    assert first.endswith("#1")
    assert second.endswith("#2")


def test_moving_a_function_keeps_fingerprints(tmp_path: Path) -> None:
    before = findings_in(tmp_path, SOURCE, [5])
    moved = "def g() -> None:\n    pass\n\n\n" + SOURCE
    assert findings_in(tmp_path, moved, [9]) == before


def test_a_different_scope_changes_the_fingerprint(tmp_path: Path) -> None:
    before = findings_in(tmp_path, SOURCE, [5])
    renamed = SOURCE.replace("def f()", "def h()")
    assert findings_in(tmp_path, renamed, [5]) != before


def test_line_numbers_in_messages_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = 1\n")
    one = Finding("types", "m.py", 1, 1, "misc", "defined on line 3")
    two = Finding("types", "m.py", 1, 1, "misc", "defined on line 7")
    assert assign([one], tmp_path)[0].fingerprint == assign([two], tmp_path)[0].fingerprint


def test_unreadable_and_unparsable_files_still_get_fingerprints(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def f(:\n")
    missing = Finding("lint", "gone.py", 1, 1, "E", "m")
    broken = Finding("lint", "bad.py", 1, 1, "E", "m")
    assert all(f.fingerprint for f in assign([missing, broken], tmp_path))


def test_a_finding_about_the_whole_module_survives_prepended_lines(tmp_path: Path) -> None:
    # D100 is reported at 1:1 outside any scope: it names the file, not its first line.
    def d100(text: str) -> str:
        (tmp_path / "m.py").write_text(text)
        missing = Finding("lint", "m.py", 1, 1, "D100", "Missing docstring in public module")
        return assign([missing], tmp_path)[0].fingerprint

    assert d100("import os\n") == d100("# a licence header\n\nimport os\n")
