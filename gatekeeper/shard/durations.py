"""Per-test durations: the file that balances the shards, in pytest-split's format.

pytest-split writes a JSON object, node id -> seconds (its releases before 0.3 wrote a list of
``[node id, seconds]`` pairs); both are read, the object is written. A file of either tool can
therefore seed the other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.config import Table
from gatekeeper.errors import ConfigError

# Where a sharded run reads the durations and `gatekeeper combine` writes them, relative to the
# worktree: inside gatekeeper's working folder, so a file restored from the CI cache is never
# part of what is committed or judged (the option table's default for the key).
DEFAULT: Final = Path(str(Table().by_key()["shard.durations"].default))


def read(path: Path) -> dict[str, float]:
    """The durations recorded in ``path``: ``{}`` when there is no such file.

    Raises :class:`ConfigError` naming the file and what is wrong when it cannot be read, is not
    JSON, or is not an object (or a list of pairs) of node ids to non-negative seconds.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise _bad(path, f"it cannot be read ({error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad(path, f"it is not JSON ({error})") from None
    return _validated(path, _pairs(path, data))


def merged(
    old: Mapping[str, float], new: Mapping[str, float], collected: Iterable[str]
) -> dict[str, float]:
    """``old`` updated with ``new`` (a new measurement replaces an old one), keeping only the
    tests in ``collected``: a test that is gone takes its duration with it."""
    keep = set(collected)
    both = {**old, **new}
    return {test: both[test] for test in sorted(keep) if test in both}


def write(path: Path, durations: Mapping[str, float]) -> None:
    """Replace ``path`` atomically with ``durations`` as pytest-split writes them: one JSON object,
    keys sorted. Raises :class:`OSError`."""
    text = json.dumps(dict(sorted(durations.items())), indent=2) + "\n"
    atomic.write_text(path, text, mode=0o644)


def _pairs(path: Path, data: object) -> list[tuple[object, object]]:
    if isinstance(data, dict):
        return list(data.items())
    if isinstance(data, list):
        if all(isinstance(item, list) and len(item) == 2 for item in data):
            return [(item[0], item[1]) for item in data]
        raise _bad(path, "it is a list, but not of [node id, seconds] pairs")
    raise _bad(path, f"it holds a JSON {type(data).__name__}, not an object of durations")


def _validated(path: Path, pairs: list[tuple[object, object]]) -> dict[str, float]:
    durations: dict[str, float] = {}
    for test, seconds in pairs:
        if not isinstance(test, str) or not test:
            raise _bad(path, f"{test!r} is not a test's node id")
        value = _seconds(seconds)
        if value is None:
            raise _bad(path, f"the duration of {test!r} is {seconds!r}, not a number of seconds")
        durations[test] = value
    return durations


def _seconds(value: object) -> float | None:
    """``value`` as seconds, or None unless it is a finite, non-negative number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _bad(path: Path, what: str) -> ConfigError:
    return ConfigError(
        f"{path}: cannot use it as a test durations file: {what}. It should hold one JSON object "
        'of node ids to seconds, as pytest-split writes it ({"tests/test_a.py::test_b": 0.25}); '
        "fix it, or delete it to split the tests without durations."
    )
