"""How evenly the shards' assignment splits a real test suite.

Usage: ``python benchmarks/shard_balance.py [--real click|pluggy] [--shards 4] [--repeats 3]``

Prepares one of the pinned projects of tests/realprojects (its verified source distribution, in
its own venv, as the tests do). One earlier run of its whole suite records every test's duration
(setup + call + teardown, summed per node id, as a shard's partial result records them) into a
durations file in pytest-split's format. Then, each repeat: the whole suite once (unsharded), and
each of the N shards ``gatekeeper.shard.balance.assign`` makes from that file, one after the
other as separate pytest processes given their node ids. Printed, medians over the repeats: each
shard's predicted time (the recorded durations of its tests), its measured test time (the sum of
its tests' durations in that run) and wall time, the unsharded test and wall time, and the ratio
longest shard / unsharded. With N shards the best possible ratio is 1/N (0.25 for 4); the target
is at most 0.30 on test time. Wall time also counts each process's start-up and collection, which
sharding does not divide.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A plugin of this benchmark's own, loaded with -p: every test's phases summed per node id.
RECORDER = """
import json, os
_seconds = {}
def pytest_runtest_logreport(report):
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration
def pytest_sessionfinish(session):
    with open(os.environ["SHARD_BALANCE_OUT"], "w", encoding="utf-8") as out:
        json.dump(_seconds, out)
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One pytest process: its wall time and the measured duration of every test it ran."""

    wall: float
    tests: dict[str, float]

    @property
    def test_time(self) -> float:
        return sum(self.tests.values())


@dataclass(frozen=True, slots=True)
class Suite:
    """Where and how the project's tests run."""

    root: Path
    python: str
    env: Mapping[str, str]
    scratch: Path

    def pytest(self, *args: str) -> Run:
        out = self.scratch / "measured.json"
        out.unlink(missing_ok=True)
        env = {**self.env, "PYTHONPATH": str(self.scratch), "SHARD_BALANCE_OUT": str(out)}
        argv = [self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "recorder"]
        started = time.perf_counter()
        done = subprocess.run(
            [*argv, *args], cwd=self.root, env=env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if done.returncode != 0 or not out.is_file():
            raise SystemExit(f"pytest exited {done.returncode}:\n{done.stdout[-2000:]}")
        return Run(wall, json.loads(out.read_text(encoding="utf-8")))

    def collected(self) -> list[str]:
        done = subprocess.run(
            [self.python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
            cwd=self.root,
            env=dict(self.env),
            capture_output=True,
            text=True,
            check=True,
        )
        return [line for line in done.stdout.splitlines() if "::" in line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default="click", help="click or pluggy")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # the tests package prepares real projects
    from tests.realprojects.workspace import ready

    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-shards-") as folder:
        checkout = ready(args.real, Path(folder))
        scratch = Path(folder) / "scratch"
        scratch.mkdir()
        (scratch / "recorder.py").write_text(RECORDER, encoding="utf-8")
        python = str(checkout.venv / "bin" / "python")
        suite = Suite(checkout.root, python, checkout.env, scratch)
        print(f"{args.real} {checkout.project.version}, {args.shards} shards")
        return measure(suite, args.shards, args.repeats)


def measure(suite: Suite, count: int, repeats: int) -> int:
    """Record durations once, then run the repeats and print the figures."""
    from gatekeeper.shard import balance, durations

    path = suite.scratch / ".test_durations"
    durations.write(path, suite.pytest().tests)  # the earlier run
    recorded = durations.read(path)
    tests = suite.collected()
    shards = balance.assign(tests, recorded, count)
    predicted = [sum(recorded.get(t, 0.0) for t in shard) for shard in shards]
    whole: list[Run] = []
    parts: list[list[Run]] = [[] for _ in shards]
    for _ in range(repeats):
        whole.append(suite.pytest())
        for index, shard in enumerate(shards):
            parts[index].append(suite.pytest(*shard))
    report(tests, shards, predicted, whole, parts)
    return 0


def report(
    tests: Sequence[str],
    shards: Sequence[Sequence[str]],
    predicted: Sequence[float],
    whole: Sequence[Run],
    parts: Sequence[Sequence[Run]],
) -> None:
    ran = sum(len(runs[0].tests) for runs in parts)
    print(f"tests: {len(tests)} collected, {ran} run across the shards, {len(whole)} repeats")
    print("shard  tests  predicted  test time  wall time   (seconds, medians)")
    for index, runs in enumerate(parts):
        test_time = statistics.median(r.test_time for r in runs)
        wall = statistics.median(r.wall for r in runs)
        print(
            f"{index + 1:5}  {len(shards[index]):5}  {predicted[index]:9.2f}"
            f"  {test_time:9.2f}  {wall:9.2f}"
        )
    test_time = statistics.median(r.test_time for r in whole)
    wall = statistics.median(r.wall for r in whole)
    print(f"whole  {len(tests):5}  {sum(predicted):9.2f}  {test_time:9.2f}  {wall:9.2f}")
    longest_test = max(statistics.median(r.test_time for r in runs) for runs in parts)
    longest_wall = max(statistics.median(r.wall for r in runs) for runs in parts)
    medians = f"test time {longest_test / test_time:.2f}, wall time {longest_wall / wall:.2f}"
    print(f"longest shard / unsharded, of the medians: {medians}")
    # Each repeat's shards against that repeat's unsharded run: the machine's load drifts less
    # within a repeat than across them.
    paired = [
        max(runs[r].test_time for runs in parts) / whole[r].test_time for r in range(len(whole))
    ]
    shown = ", ".join(f"{ratio:.2f}" for ratio in paired)
    print("longest shard / unsharded, median of the repeats: test time ", end="")
    print(f"{statistics.median(paired):.2f} (runs {shown})")
    print(f"predicted {max(predicted) / sum(predicted):.2f}, best possible {1 / len(parts):.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
