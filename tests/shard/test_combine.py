"""``gatekeeper combine`` fails closed: every way a set of partial results can fail to be
exactly one gate's shards is refused, with a reason naming the shard's folder."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.checks.base import TestOutcome
from gatekeeper.errors import UsageError
from gatekeeper.evals.results import EvalOutcome
from gatekeeper.model import CheckResult, Finding, Status
from gatekeeper.shard import combine, partial, spec
from gatekeeper.shard.partial import Content, Identity, Partial
from gatekeeper.shard.spec import Spec

OWN = Content("c" * 40, "t" * 40, dirty=False)
CONFIG = "digest-of-the-configuration"
SUITE = tuple(f"tests/test_a.py::test_{n}" for n in range(6))
DATA = b"a shard's coverage data"


def shard(index: int, count: int = 3, **changes: object) -> Partial:
    """Shard ``index`` of ``count`` of one good gate: every other test of SUITE's share."""
    share = SUITE[index - 1 :: count]
    made = Partial(
        spec=Spec(index, count),
        identity=Identity(OWN, CONFIG, SUITE),
        root=f"/runner/{index}/project",
        outcome=TestOutcome(exitstatus=0, passed=len(share), evals=EvalOutcome()),
        selected=share,
        outcomes=dict.fromkeys(share, "passed"),
        durations=dict.fromkeys(share, 0.5),
        coverage=True,
        coverage_sha256=hashlib.sha256(DATA).hexdigest(),
        verdict="passed",
        complete=True,
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


Write = Callable[..., Path]


@pytest.fixture
def written(tmp_path: Path) -> Write:
    """``written(partial, name=None)``: the partial's folder, shard-I-of-N unless ``name``."""

    def write(result: Partial, name: str | None = None) -> Path:
        folder = tmp_path / "shards" / (name or result.spec.folder_name)
        partial.write(folder, result)
        if result.coverage:
            (folder / partial.COVERAGE).write_bytes(DATA)
        return folder

    return write


def refused(folders: list[Path]) -> str:
    with pytest.raises(combine.ShardsRefused) as caught:
        combine.read(folders, OWN, CONFIG)
    return str(caught.value)


def test_three_good_shards_are_read_in_order(written: Write) -> None:
    folders = [written(shard(i)) for i in (3, 1, 2)]
    found = combine.read(folders, OWN, CONFIG)
    assert [f.partial.spec.index for f in found] == [1, 2, 3]
    assert combine.collected(found) == SUITE


def test_a_manifest_round_trips(written: Write) -> None:
    failure = Finding("tests", "tests/test_a.py", 3, 1, "FAILED", "test_1: assert 1 == 2")
    outcome = TestOutcome(
        exitstatus=1, passed=1, failed=1, failures=(failure,), evals=EvalOutcome()
    )
    lint = CheckResult("lint", Status.PASSED, "no findings", rule="no findings", ran=("ruff",))
    original = shard(2, outcome=outcome, static=(lint,))
    assert partial.read(written(original)) == original


def test_a_missing_shard_is_named(written: Write) -> None:
    message = refused([written(shard(1)), written(shard(3))])
    assert "shard 2 of 3 is missing (no shard-2-of-3 folder)" in message


def test_a_shard_folder_without_a_manifest_is_incomplete(written: Write, tmp_path: Path) -> None:
    crashed = tmp_path / "shards" / "shard-2-of-3"
    crashed.mkdir(parents=True)
    message = refused([written(shard(1)), crashed, written(shard(3))])
    assert f"{crashed} holds no manifest.json: the shard did not finish" in message


def test_a_shard_that_did_not_finish_is_refused(written: Write) -> None:
    stopped = written(shard(2, complete=False))
    message = refused([written(shard(1)), stopped, written(shard(3))])
    assert f"{stopped}: shard 2/3 did not finish its session" in message


def test_a_duplicated_shard_is_refused(written: Write) -> None:
    again = written(shard(2), name="copy")
    message = refused([written(shard(1)), written(shard(2)), again, written(shard(3))])
    assert "shard 2 is given more than once" in message and str(again) in message


def test_shards_of_different_counts_are_refused(written: Write) -> None:
    message = refused([written(shard(1)), written(shard(2)), written(shard(3, count=4))])
    assert "different shard counts" in message and "shard 3/4" in message


def test_folders_left_from_a_run_with_another_count_are_named_to_be_removed(
    written: Write,
) -> None:
    # An earlier run in 3 shards, then this one in 2, into the same shards folder.
    earlier = [written(shard(i, count=3)) for i in (1, 2, 3)]
    for folder in earlier:  # written before this run's shards
        os.utime(folder / partial.MANIFEST, ns=(1_000_000_000, 1_000_000_000))
    now = [written(shard(i, count=2)) for i in (1, 2)]

    message = refused(sorted(earlier + now))

    assert "different shard counts" in message  # still refused: fail closed
    stale = ", ".join(str(folder) for folder in earlier)
    assert f"The newest is of 2 shards, so {stale} are left over from an earlier run" in message
    assert f"remove them (`rm -r {shlex.join(str(f) for f in earlier)}`)" in message
    assert all(f"{folder} are left over" not in message for folder in now)


def test_a_shard_of_another_commit_is_refused(written: Write) -> None:
    other = Content("e" * 40, "f" * 40, dirty=True)
    foreign = written(shard(3, identity=Identity(other, CONFIG, SUITE)))
    message = refused([written(shard(1)), written(shard(2)), foreign])
    assert f"{foreign}: shard 3/3 ran on commit {'e' * 40}" in message
    assert "(uncommitted changes)" in message  # a dirty tree is told apart


def test_a_shard_of_the_same_commit_with_other_changes_is_refused(written: Write) -> None:
    edited = Content(OWN.commit, "d" * 40, dirty=True)
    foreign = written(shard(1, identity=Identity(edited, CONFIG, SUITE)))
    assert f"{foreign}: shard 1/3 ran on commit" in refused(
        [foreign, written(shard(2)), written(shard(3))]
    )


def test_shards_without_a_tree_id_are_refused(written: Write) -> None:
    # Outside git nothing says which content a shard judged: never assume it is this one.
    unknown = Content(None, None, dirty=False)
    folders = [written(shard(i, identity=Identity(unknown, CONFIG, SUITE))) for i in (1, 2, 3)]
    with pytest.raises(combine.ShardsRefused) as caught:
        combine.read(folders, unknown, CONFIG)
    message = str(caught.value)
    assert f"{folders[0]}: shard 1/3 has no tree id of the content it ran on" in message


def test_a_shard_with_another_configuration_is_refused(written: Write) -> None:
    other = written(shard(2, identity=Identity(OWN, "another digest", SUITE)))
    message = refused([written(shard(1)), other, written(shard(3))])
    assert f"{other}: shard 2/3 ran with another configuration" in message


def test_a_shard_that_collected_another_suite_is_refused(written: Write) -> None:
    more = (*SUITE, "tests/test_a.py::test_new")
    other = written(shard(3, identity=Identity(OWN, CONFIG, more)))
    message = refused([written(shard(1)), written(shard(2)), other])
    assert f"{other}: shard 3/3 collected another suite" in message
    assert "only it has tests/test_a.py::test_new" in message


def test_shards_split_with_other_durations_are_refused(written: Write) -> None:
    other = written(shard(2, identity=Identity(OWN, CONFIG, SUITE, split="other durations")))
    message = refused([written(shard(1)), other, written(shard(3))])
    assert f"{other}: shard 2/3 split the suite with other recorded durations" in message


def test_coverage_data_other_than_the_manifests_is_refused(written: Write) -> None:
    # Another run's coverage data beside this run's manifest (artifacts downloaded together).
    swapped = written(shard(2))
    (swapped / partial.COVERAGE).write_bytes(b"another run's coverage data")
    lost = written(shard(3))
    (lost / partial.COVERAGE).unlink()
    message = refused([written(shard(1)), swapped, lost])
    assert f"{swapped}: shard 2/3's coverage data is not the file its manifest names" in message
    assert f"{lost}: shard 3/3's coverage data is not the file its manifest names" in message


def apart(index: int, **changes: object) -> Partial:
    """Shard ``index`` of 3 whose identity differs from the others' by ``changes``."""
    return shard(index, identity=dataclasses.replace(Identity(OWN, CONFIG, SUITE), **changes))  # type: ignore[arg-type]


def test_shards_given_other_pytest_arguments_are_refused(written: Write) -> None:
    other = written(apart(2, arguments=("-W", "ignore::DeprecationWarning")))
    message = refused([written(shard(1)), other, written(shard(3))])
    assert f"{other}: shard 2/3 ran pytest with other arguments than" in message
    assert "(`-W ignore::DeprecationWarning` against none;" in message


def test_shards_with_other_ignored_files_or_distributions_are_refused(written: Write) -> None:
    ignored = written(apart(2, ignored="digest of an ignored pytest.ini"))
    installed = written(apart(3, installed="another version of a distribution"))
    message = refused([written(shard(1)), ignored, installed])
    assert f"{ignored}: shard 2/3's checkout holds other git-ignored files" in message
    assert f"{installed}: shard 3/3 ran with other installed distributions" in message


def test_a_shard_whose_ignored_files_could_not_be_keyed_is_refused(written: Write) -> None:
    unkeyed = [written(apart(i, ignored=None)) for i in (1, 2, 3)]
    message = refused(unkeyed)
    assert f"{unkeyed[0]}: shard 1/3 could not key the git-ignored files" in message


def test_other_parameters_behind_the_same_ids_are_refused(written: Write) -> None:
    ids = dict.fromkeys(SUITE[:2], "digest")
    other = written(apart(3, parameters={**ids, SUITE[1]: "another digest"}))
    message = refused([written(apart(1, parameters=ids)), written(apart(2, parameters=ids)), other])
    assert f"{other}: shard 3/3 and" in message
    assert f"the parameters behind them differ ({SUITE[1]})" in message


def test_tests_that_ran_in_no_shard_are_named(written: Write) -> None:
    short = written(shard(2, selected=SUITE[1:2]))
    message = refused([written(shard(1)), short, written(shard(3))])
    assert "1 collected test(s) ran in no shard: tests/test_a.py::test_4" in message


def test_a_test_in_two_shards_is_refused(written: Write) -> None:
    greedy = written(shard(2, selected=(*SUITE[1::3], SUITE[0])))
    message = refused([written(shard(1)), greedy, written(shard(3))])
    assert f"1 test(s) ran in both {greedy.parent / 'shard-1-of-3'} and {greedy}: {SUITE[0]}" in (
        message
    )


def test_a_shard_that_reported_nothing_while_others_ran_is_an_error(written: Write) -> None:
    idle = written(shard(2, outcome=TestOutcome(exitstatus=5), outcomes={}))
    message = refused([written(shard(1)), idle, written(shard(3))])
    assert f"{idle}: shard 2/3 ran no test while the other shards ran some" in message


def test_a_shard_whose_tests_all_skipped_ran_them(written: Write) -> None:
    # A skipped test ran its protocol and was reported, as in one unsharded run.
    share = SUITE[1::3]
    skipped = shard(2, outcome=TestOutcome(exitstatus=0, skipped=2, evals=EvalOutcome()))
    skipped = dataclasses.replace(skipped, outcomes=dict.fromkeys(share, "skipped"))
    found = combine.read([written(shard(1)), written(skipped), written(shard(3))], OWN, CONFIG)
    assert [f.partial.outcome.skipped for f in found] == [0, 2, 0]


def test_a_folder_named_for_another_shard_is_refused(written: Write) -> None:
    renamed = written(shard(2), name="shard-3-of-3")
    message = refused([written(shard(1)), renamed])
    assert f"{renamed} holds the partial result of shard 2/3, not its own" in message


def test_a_manifest_of_another_format_is_refused(written: Write) -> None:
    folder = written(shard(1))
    manifest = folder / partial.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 99}))
    message = refused([folder, written(shard(2)), written(shard(3))])
    assert f"{manifest} is not a partial result of format {partial.FORMAT} (found 99)" in message


def test_folders_are_found_inside_downloaded_artifacts(written: Write, tmp_path: Path) -> None:
    for index in (1, 2):
        written(shard(index))
    nested = tmp_path / "artifacts" / "gate-shard-3" / "shard-3-of-3"
    partial.write(nested, shard(3))
    found = combine.folders([tmp_path / "shards", tmp_path / "artifacts"])
    assert sorted(f.name for f in found) == ["shard-1-of-3", "shard-2-of-3", "shard-3-of-3"]


def test_a_folder_without_shards_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="it is not a shard's folder and holds none"):
        combine.folders([tmp_path])


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", "-1/2"])
def test_a_bad_shard_spec_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match=f"--gatekeeper-shard {text}: a shard is written I/N"):
        spec.parse(text)


def test_a_good_shard_spec() -> None:
    assert spec.parse(" 2 / 4 ") == Spec(2, 4)
    assert Spec(2, 4).folder_name == "shard-2-of-4"
