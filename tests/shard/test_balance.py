"""Assigning tests to shards: every test exactly once, the same answer whatever the input order,
longest-first balance on recorded durations, and an even hashed spread of the unrecorded."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from gatekeeper.shard import balance

TESTS = [f"tests/test_{n % 7}.py::test_{n}" for n in range(60)]


def flat(shards: list[list[str]]) -> list[str]:
    return [test for shard in shards for test in shard]


def test_every_test_is_in_exactly_one_shard_in_collection_order() -> None:
    durations = {test: float(n % 5) for n, test in enumerate(TESTS[:40])}
    shards = balance.assign(TESTS, durations, 4)
    assert len(shards) == 4
    assert sorted(flat(shards)) == sorted(TESTS)
    for shard in shards:
        assert shard == [test for test in TESTS if test in shard]


def test_the_result_depends_on_the_tests_not_on_their_order() -> None:
    durations = {test: float(n % 3) for n, test in enumerate(TESTS[::2])}  # ties on purpose
    first = balance.assign(TESTS, durations, 5)
    shuffled = TESTS[:]
    random.Random(7).shuffle(shuffled)
    again = balance.assign(shuffled, dict(reversed(durations.items())), 5)
    assert [sorted(shard) for shard in again] == [sorted(shard) for shard in first]


def test_the_hash_is_the_same_in_another_interpreter() -> None:
    # Python's own hash() of a str changes with every interpreter (PYTHONHASHSEED); ours must not.
    names = [f"t.py::t{n}" for n in range(5)]
    code = (
        "from gatekeeper.shard import balance; "
        f"print([balance.hashed_shard(name, 7) for name in {names}])"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert other.stdout.strip() == str([balance.hashed_shard(name, 7) for name in names])


def test_longest_first_onto_the_least_loaded_shard() -> None:
    # Longest first: 8 -> s1, 7 -> s2, 6 -> s3, 5 -> s3 (6 < 7 < 8), 4 -> s2, 2 -> s1:
    # loads 10, 11, 11. A split in collection order (8+7 | 6+5 | 4+2) would take 15.
    durations = {"a": 8.0, "b": 7.0, "c": 6.0, "d": 5.0, "e": 4.0, "f": 2.0}
    shards = balance.assign(list(durations), durations, 3)
    assert shards == [["a", "f"], ["b", "e"], ["c", "d"]]


def test_ties_go_by_node_id_then_by_shard_index() -> None:
    durations = {"z": 1.0, "y": 1.0, "x": 1.0, "w": 1.0}
    assert balance.assign(["z", "y", "x", "w"], durations, 2) == [["y", "w"], ["z", "x"]]


def test_unrecorded_tests_spread_evenly_and_stay_put_when_tests_are_added() -> None:
    tests = [f"tests/test_new.py::test_case[{n}]" for n in range(4000)]
    shards = balance.assign(tests, {}, 8)
    sizes = [len(shard) for shard in shards]
    # 500 expected per shard; the binomial spread is about 21, so 100 off is five deviations.
    assert max(sizes) - min(sizes) < 200 and min(sizes) > 400
    more = balance.assign([*tests, "tests/test_new.py::test_added"], {}, 8)
    assert [[t for t in shard if t in tests] for shard in more] == shards


def test_recorded_tests_fill_around_the_unrecorded_ones() -> None:
    # "new" lands by hash and counts as the mean recorded duration (2 s): the recorded tests
    # balance around it instead of ignoring it.
    new = "tests/test_new.py::test_new"
    index = balance.hashed_shard(new, 2)
    durations = {"a": 2.0, "b": 2.0, "c": 2.0}
    shards = balance.assign(["a", "b", "c", new], durations, 2)
    assert sorted(len(shard) for shard in shards) == [2, 2]
    assert new in shards[index]


def test_more_shards_than_tests_leaves_some_empty_and_durations_of_gone_tests_are_ignored() -> None:
    shards = balance.assign(["a", "b"], {"a": 1.0, "gone": 99.0}, 4)
    assert sorted(flat(shards)) == ["a", "b"] and sum(1 for s in shards if not s) == 2


@pytest.mark.parametrize("count", [0, -1])
def test_fewer_than_one_shard_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="at least one shard"):
        balance.assign(["a"], {}, count)
