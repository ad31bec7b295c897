"""A sharded gate on a real project: four shards, each run as its own job in its own checkout
at its own path, combine to the verdict, findings and coverage of one unsharded run; a failing
test in any shard fails the combined verdict and is named; a missing shard is named.

One test, so that one set of checkouts and runs serves every step, whichever xdist worker takes
it (pluggy: the fastest suite of the catalog).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.shard.balance import hashed_shard
from tests.realprojects.workspace import Checkout, Prepared, checkout

COUNT = 4
PLANTED = "testing/test_planted_by_gatekeeper.py"


@dataclass(frozen=True, slots=True)
class Runs:
    jobs: list[Checkout]  # one checkout per shard; the first also combines
    unsharded: dict[str, Any]
    artifacts: Path  # every shard's folder, downloaded into one folder
    combined: dict[str, Any]
    combined_status: int


def planted_names() -> list[str]:
    """One test name per shard: with no recorded durations, each lands by its hash."""
    names: dict[int, str] = {}
    number = 0
    while len(names) < COUNT:
        name = f"test_planted_{number}"
        names.setdefault(hashed_shard(f"{PLANTED}::{name}", COUNT), name)
        number += 1
    return [names[index] for index in range(COUNT)]


def shards(jobs: list[Checkout], artifacts: Path) -> list[int]:
    """Shard I run by job I in its own checkout; its folder downloaded into ``artifacts``."""
    statuses = []
    for index, job in enumerate(jobs, start=1):
        done = job.gatekeeper("run", "--shard", f"{index}/{COUNT}", "-q", "-p", "no:cacheprovider")
        assert "partial result" in done.stdout, done.stdout[-3000:]
        statuses.append(done.returncode)
        folder = job.root / ".gatekeeper" / "shards" / f"shard-{index}-of-{COUNT}"
        shutil.copytree(folder, artifacts / folder.name)
    return statuses


def test_four_shards_combine_like_one_run_and_fail_closed(
    prepared_project: Callable[[str], Prepared], tmp_path: Path
) -> None:
    runs = sharded(prepared_project("pluggy"), tmp_path)
    same_as_unsharded(runs)
    a_removed_shard_folder_is_named(runs, tmp_path / "removed")
    a_failing_test_in_any_shard_fails_the_combined_verdict(runs, tmp_path / "planted")


def sharded(prepared: Prepared, base: Path) -> Runs:
    """One unsharded run, then four shards in four checkouts combined in the first."""
    # The unsharded run has a checkout of its own: what a suite leaves behind in an ignored
    # folder (pluggy's tests make .benchmarks/) would make the shard run after it in the same
    # checkout one of other ignored files, which combine refuses (as it should: in CI each shard
    # starts from a fresh checkout).
    alone = checkout(prepared, base / "unsharded")
    whole = alone.gatekeeper("run", "-q", "-p", "no:cacheprovider")
    unsharded = alone.report()
    assert unsharded["verdict"] == "passed", whole.stdout[-3000:]
    jobs = [checkout(prepared, base / f"runner-{i}") for i in range(COUNT)]
    artifacts = base / "artifacts"
    assert shards(jobs, artifacts) == [0] * COUNT
    done = jobs[0].gatekeeper("combine", str(artifacts))
    return Runs(jobs, unsharded, artifacts, jobs[0].report(), done.returncode)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def findings(report: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    return sorted(
        (f["check"], f["path"], f["fingerprint"], f.get("new"))
        for check in report["checks"]
        for f in check["findings"]
    )


def percent(report: dict[str, Any]) -> float:
    return float(next(c["metrics"]["percent"] for c in report["checks"] if c["name"] == "coverage"))


def same_as_unsharded(runs: Runs) -> None:
    assert runs.combined_status == 0
    assert runs.combined["verdict"] == runs.unsharded["verdict"] == "passed"
    assert statuses(runs.combined) == statuses(runs.unsharded)
    assert findings(runs.combined) == findings(runs.unsharded)
    assert percent(runs.combined) == pytest.approx(percent(runs.unsharded), abs=0.01)
    tests = next(c for c in runs.combined["checks"] if c["name"] == "tests")
    expected = next(c for c in runs.unsharded["checks"] if c["name"] == "tests")
    assert tests["metrics"] == expected["metrics"]


def a_removed_shard_folder_is_named(runs: Runs, folder: Path) -> None:
    partial = folder / "artifacts"
    shutil.copytree(runs.artifacts, partial)
    shutil.rmtree(partial / f"shard-3-of-{COUNT}")

    done = runs.jobs[0].gatekeeper("combine", str(partial))

    assert done.returncode == 1, done.stdout
    assert f"shard 3 of {COUNT} is missing (no shard-3-of-{COUNT} folder)" in done.stdout
    assert not (runs.jobs[0].root / ".gatekeeper" / "report.json").exists()


def a_failing_test_in_any_shard_fails_the_combined_verdict(runs: Runs, folder: Path) -> None:
    names = planted_names()
    source = "".join(
        f"\n\ndef {name}() -> None:\n    assert {name!r} == 'passes'\n" for name in names
    )
    # The durations the first combine recorded, restored in every job as a CI cache would.
    recorded = runs.jobs[0].root / ".gatekeeper" / "durations.json"
    assert recorded.is_file()
    for job in runs.jobs:  # the same uncommitted change in every job: one tree
        (job.root / PLANTED).write_text(f'"""Planted failures."""\n{source}')
        if job is not runs.jobs[0]:
            shutil.copyfile(recorded, job.root / ".gatekeeper" / "durations.json")
    artifacts = folder / "artifacts"

    assert shards(runs.jobs, artifacts) == [1] * COUNT  # each shard fails its own part

    done = runs.jobs[0].gatekeeper("combine", str(artifacts))
    assert done.returncode == 1, done.stdout[-3000:]
    assert "refuses" not in done.stdout, done.stdout[-3000:]
    report = runs.jobs[0].report()
    assert report["verdict"] == "failed"
    assert statuses(report)["tests"] == "failed"
    named = [f["message"] for c in report["checks"] for f in c["findings"] if c["name"] == "tests"]
    for index, name in enumerate(names, start=1):
        manifest = json.loads(
            (artifacts / f"shard-{index}-of-{COUNT}" / "manifest.json").read_text()
        )
        assert f"{PLANTED}::{name}" in manifest["selected"]
        assert any(message.startswith(f"{PLANTED}::{name}:") for message in named), named
