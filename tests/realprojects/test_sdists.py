"""A cached source distribution is verified every time it is used: one whose content changed is
an error naming the file and both digests, never used and never silently replaced."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.realprojects.catalog import CLICK
from tests.realprojects.sdists import fetch
from tests.realprojects.steps import PreparationError


def test_a_changed_artifact_in_the_cache_fails_loudly(tmp_path: Path) -> None:
    planted = tmp_path / "sdists" / CLICK.sdist
    planted.parent.mkdir()
    planted.write_bytes(b"not the release")

    with pytest.raises(PreparationError) as raised:
        fetch(CLICK, cache=tmp_path)

    message = str(raised.value)
    assert str(planted) in message
    assert hashlib.sha256(b"not the release").hexdigest() in message
    assert CLICK.sha256 in message
    assert planted.read_bytes() == b"not the release"  # kept for whoever looks into it
