"""The durations file: pytest-split's two formats read, its object format written, and a file
that cannot be used named with what is wrong in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.errors import ConfigError
from gatekeeper.shard import durations


def test_the_object_format_round_trips_with_sorted_keys(tmp_path: Path) -> None:
    path = tmp_path / "cache" / ".test_durations"
    durations.write(path, {"tests/test_b.py::test_b": 2.5, "tests/test_a.py::test_a": 1})
    text = path.read_text(encoding="utf-8")
    assert list(json.loads(text)) == ["tests/test_a.py::test_a", "tests/test_b.py::test_b"]
    assert durations.read(path) == {"tests/test_a.py::test_a": 1.0, "tests/test_b.py::test_b": 2.5}
    assert [p.name for p in path.parent.iterdir()] == [".test_durations"]


def test_the_older_list_of_pairs_format_is_read(tmp_path: Path) -> None:
    path = tmp_path / ".test_durations"
    path.write_text('[["t.py::a", 0.5], ["t.py::b", 3]]', encoding="utf-8")
    assert durations.read(path) == {"t.py::a": 0.5, "t.py::b": 3.0}


def test_a_missing_file_is_no_durations(tmp_path: Path) -> None:
    assert durations.read(tmp_path / "absent") == {}


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("{not json", "it is not JSON"),
        ('"t.py::a"', "it holds a JSON str, not an object of durations"),
        ('[["t.py::a", 1, 2]]', "not of [node id, seconds] pairs"),
        ('{"t.py::a": "fast"}', "the duration of 't.py::a' is 'fast', not a number of seconds"),
        ('{"t.py::a": -1}', "is -1, not a number"),
        ('{"t.py::a": true}', "is True, not a number"),
        ('{"t.py::a": 1e999}', "is inf, not a number"),
        ('{"t.py::a": 1' + "0" * 400 + "}", "not a number of seconds"),
        ("[[3, 1.0]]", "3 is not a test's node id"),
        ('{"": 1.0}', "'' is not a test's node id"),
    ],
)
def test_a_file_that_cannot_be_used_is_named_with_what_is_wrong(
    tmp_path: Path, text: str, what: str
) -> None:
    path = tmp_path / ".test_durations"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        durations.read(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot use it as a test durations file") and what in message
    assert "\n" not in message and "Traceback" not in message


def test_a_file_that_is_not_text_or_not_a_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / ".test_durations"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ConfigError, match="it cannot be read"):
        durations.read(path)
    with pytest.raises(ConfigError, match=f"{tmp_path}: cannot use it.*cannot be read"):
        durations.read(tmp_path)


def test_new_measurements_replace_old_ones_and_tests_no_longer_collected_are_dropped() -> None:
    old = {"t.py::kept": 1.0, "t.py::remeasured": 5.0, "t.py::gone": 9.0}
    new = {"t.py::remeasured": 2.0, "t.py::added": 0.5}
    collected = ["t.py::kept", "t.py::remeasured", "t.py::added", "t.py::never_measured"]
    assert durations.merged(old, new, collected) == {
        "t.py::added": 0.5,
        "t.py::kept": 1.0,
        "t.py::remeasured": 2.0,
    }
