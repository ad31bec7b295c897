"""Which tests each shard runs: longest recorded test first onto the least-loaded shard.

Tests with a recorded duration are placed greedily, longest first, each onto the shard with the
least recorded time so far (the classic longest-processing-time rule: the longest shard is at most
4/3 of the best possible split). A test with no recorded duration (a new one) is placed by a
stable hash of its node id, so adding a test never moves any other; it counts as the mean recorded
duration when the recorded tests are placed around it. The result depends only on the set of node
ids and their durations, never on the order they came in, nor on the interpreter (no ``hash()``).
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Mapping, Sequence


def assign(tests: Sequence[str], durations: Mapping[str, float], count: int) -> list[list[str]]:
    """The tests of each of ``count`` shards (index 0 is shard 1), each in collection order.

    Every node id of ``tests`` is in exactly one shard (a repeated id stays with its first
    copy's shard). ``durations`` may name tests that are no longer collected; they are ignored.
    Raises :class:`ValueError` when ``count`` is below 1.
    """
    if count < 1:
        raise ValueError(f"a gate splits into at least one shard, not {count}")
    owner = _owners(set(tests), durations, count)
    shards: list[list[str]] = [[] for _ in range(count)]
    for test in tests:
        shards[owner[test]].append(test)
    return shards


def hashed_shard(test: str, count: int) -> int:
    """The shard index of a test with no recorded duration: stable across runs and machines."""
    digest = hashlib.sha256(test.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count


def _owners(tests: set[str], durations: Mapping[str, float], count: int) -> dict[str, int]:
    timed = {test: durations[test] for test in tests if test in durations}
    owner = {test: hashed_shard(test, count) for test in tests if test not in timed}
    # math.fsum is exact, so the mean does not depend on the order of the durations.
    mean = math.fsum(timed.values()) / len(timed) if timed else 0.0
    loads = [0.0] * count
    for index in owner.values():
        loads[index] += mean
    heap = [(load, index) for index, load in enumerate(loads)]
    heapq.heapify(heap)
    for test in sorted(timed, key=lambda name: (-timed[name], name)):
        load, index = heapq.heappop(heap)
        owner[test] = index
        heapq.heappush(heap, (load + timed[test], index))
    return owner
