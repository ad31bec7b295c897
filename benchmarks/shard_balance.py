"""How evenly the shards' assignment splits a real test suite.

Usage: ``python benchmarks/shard_balance.py [--real click|pluggy] [--shards 4] [--repeats 3]
[--via-gatekeeper]``

Prepares one of the pinned projects of tests/realprojects (its verified source distribution, in
its own venv, as the tests do). One earlier run of its whole suite records every test's duration
(setup + call + teardown, summed per node id, as a shard's partial result records them) into a
durations file in pytest-split's format. Then, each repeat: the whole suite once (unsharded), and
each of the N shards ``gatekeeper.shard.balance.assign`` makes from that file, one after the
other as separate pytest processes given their node ids. With ``--via-gatekeeper`` the gate does
it all as CI does: ``gatekeeper run --shard 1/1`` and ``gatekeeper combine`` write the durations,
``gatekeeper run --shard I/N`` chooses each shard's tests (static checks in shard 1, every shard
under coverage), and the unsharded run is ``gatekeeper run``.

Printed, medians over the repeats: each shard's predicted time (the recorded durations of its
tests), its measured test time (the sum of its tests' durations in that run) and wall time, the
unsharded test and wall time, and the ratio longest shard / unsharded. With N shards the best
possible ratio is 1/N (0.25 for 4); the target is at most 0.30 on test time. Wall time also counts
each process's start-up and collection, which sharding does not divide.
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
import json, os, time
import pytest
_wall, _cpu = {}, {}
def pytest_runtest_logreport(report):
    _wall[report.nodeid] = _wall.get(report.nodeid, 0.0) + report.duration
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.process_time()
    yield
    _cpu[item.nodeid] = time.process_time() - started
def pytest_sessionfinish(session):
    with open(os.environ["SHARD_BALANCE_OUT"], "w", encoding="utf-8") as out:
        json.dump({"wall": _wall, "cpu": _cpu}, out)
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One pytest process: its wall time and the measured duration of every test it ran."""

    wall: float
    tests: dict[str, float]
    # Processor time per test: what the machine's load moves least.
    cpu: dict[str, float]

    @property
    def test_time(self) -> float:
        return sum(self.tests.values())

    @property
    def cpu_time(self) -> float:
        return sum(self.cpu.values())


@dataclass(frozen=True, slots=True)
class Suite:
    """Where and how the project's tests run: plain pytest given each shard's node ids, or
    ``gatekeeper run --shard I/N`` choosing them itself (``--via-gatekeeper``)."""

    root: Path
    venv: Path
    env: Mapping[str, str]
    scratch: Path
    via_gatekeeper: bool

    def run(self, words: Sequence[str]) -> Run:
        """One process, timed, with every test's duration recorded."""
        out = self.scratch / "measured.json"
        out.unlink(missing_ok=True)
        env = {**self.env, "PYTHONPATH": str(self.scratch), "SHARD_BALANCE_OUT": str(out)}
        recorder = ["-q", "-p", "no:cacheprovider", "-p", "recorder"]
        started = time.perf_counter()
        done = subprocess.run(
            [*words, *recorder], cwd=self.root, env=env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        # Exit 1 is a gate with findings: its tests ran all the same.
        if done.returncode not in (0, 1) or not out.is_file():
            raise SystemExit(f"{words[0]} exited {done.returncode}:\n{done.stdout[-2000:]}")
        measured = json.loads(out.read_text(encoding="utf-8"))
        return Run(wall, measured["wall"], measured["cpu"])

    def whole(self) -> Run:
        if self.via_gatekeeper:
            return self.run([str(self.venv / "bin" / "gatekeeper"), "run", "--gatekeeper-no-cache"])
        return self.run([str(self.venv / "bin" / "python"), "-m", "pytest"])

    def shard(self, index: int, count: int, tests: Sequence[str]) -> Run:
        if self.via_gatekeeper:
            return self.run(
                [str(self.venv / "bin" / "gatekeeper"), "run", f"--shard={index}/{count}"]
            )
        return self.run([str(self.venv / "bin" / "python"), "-m", "pytest", *tests])

    def record(self) -> dict[str, float]:
        """The earlier run's durations, through the durations file in pytest-split's format."""
        from gatekeeper.shard import durations

        if not self.via_gatekeeper:
            path = self.scratch / ".test_durations"
            durations.write(path, self.whole().tests)
            return durations.read(path)
        self.shard(1, 1, [])
        gatekeeper = str(self.venv / "bin" / "gatekeeper")
        subprocess.run(
            [gatekeeper, "combine", str(self.root / ".gatekeeper" / "shards" / "shard-1-of-1")],
            cwd=self.root,
            env=dict(self.env),
            capture_output=True,
            check=False,
        )
        return durations.read(self.root / durations.DEFAULT)

    def collected(self) -> list[str]:
        done = subprocess.run(
            [self.venv / "bin" / "python", "-m", "pytest", "--collect-only", "-q"],
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
    parser.add_argument("--via-gatekeeper", action="store_true", help="gatekeeper run --shard")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # the tests package prepares real projects
    from tests.realprojects.workspace import ready

    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-shards-") as folder:
        checkout = ready(args.real, Path(folder))
        scratch = Path(folder) / "scratch"
        scratch.mkdir()
        (scratch / "recorder.py").write_text(RECORDER, encoding="utf-8")
        suite = Suite(checkout.root, checkout.venv, checkout.env, scratch, args.via_gatekeeper)
        how = "gatekeeper run --shard" if args.via_gatekeeper else "pytest given node ids"
        print(f"{args.real} {checkout.project.version}, {args.shards} shards, {how}")
        return measure(suite, args.shards, args.repeats)


def measure(suite: Suite, count: int, repeats: int) -> int:
    """Record durations once, then run the repeats and print the figures."""
    from gatekeeper.shard import balance

    recorded = suite.record()
    if not recorded:
        raise SystemExit("the earlier run recorded no durations")
    tests = suite.collected()
    shards = balance.assign(tests, recorded, count)
    predicted = [sum(recorded.get(t, 0.0) for t in shard) for shard in shards]
    whole: list[Run] = []
    parts: list[list[Run]] = [[] for _ in shards]
    for _ in range(repeats):
        whole.append(suite.whole())
        for index, shard in enumerate(shards):
            parts[index].append(suite.shard(index + 1, count, shard))
    report(tests, shards, predicted, whole, parts)
    return 0


# The columns of a run, in the order printed.
_FIGURES = ("test_time", "cpu_time", "wall")


def report(
    tests: Sequence[str],
    shards: Sequence[Sequence[str]],
    predicted: Sequence[float],
    whole: Sequence[Run],
    parts: Sequence[Sequence[Run]],
) -> None:
    ran = sum(len(runs[0].tests) for runs in parts)
    print(f"tests: {len(tests)} collected, {ran} run across the shards, {len(whole)} repeats")
    print("shard  tests  predicted  test time   cpu time  wall time   (seconds, medians)")
    for index, runs in enumerate(parts):
        print(f"{index + 1:5}  {len(shards[index]):5}  {predicted[index]:9.2f}  {_medians(runs)}")
    print(f"whole  {len(tests):5}  {sum(predicted):9.2f}  {_medians(whole)}")
    for name in ("test_time", "cpu_time", "wall"):
        print(f"longest shard / unsharded, {name.replace('_', ' ')}: {_ratios(name, whole, parts)}")
    print(f"predicted {max(predicted) / sum(predicted):.2f}, best possible {1 / len(parts):.2f}")


def _medians(runs: Sequence[Run]) -> str:
    figures = [statistics.median(getattr(r, name) for r in runs) for name in _FIGURES]
    return "  ".join(f"{figure:9.2f}" for figure in figures)


def _ratios(name: str, whole: Sequence[Run], parts: Sequence[Sequence[Run]]) -> str:
    """The ratio of the medians, and the median of each repeat's ratio (its shards against its
    own unsharded run: the machine's load drifts less within a repeat than across them)."""
    longest = max(statistics.median(getattr(r, name) for r in runs) for runs in parts)
    of_medians = longest / statistics.median(getattr(r, name) for r in whole)
    paired = [
        max(getattr(runs[r], name) for runs in parts) / getattr(whole[r], name)
        for r in range(len(whole))
    ]
    shown = ", ".join(f"{ratio:.2f}" for ratio in paired)
    return f"{of_medians:.2f} of the medians; {statistics.median(paired):.2f} paired ({shown})"


if __name__ == "__main__":
    raise SystemExit(main())
