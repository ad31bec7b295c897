"""`gatekeeper ci init --shards N`: a matrix of N gate jobs, one combine job, the one required
check, and the durations kept in the Actions cache. The rules every workflow meets (actionlint,
zizmor, pins, privileges) are checked on sharded renderings in test_ci_render.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.ci import render
from gatekeeper.cli import main
from gatekeeper.shard import durations
from tests.ci.test_ci_render import tool
from tests.conftest import make_project

VALUES = render.Values(python_version="3.12", install="pip install -e .", cache_path="x.toml")
RESTORE_KEYS = [
    "gatekeeper-durations-${{ github.ref }}-",
    "gatekeeper-durations-refs/heads/${{ github.base_ref }}-",  # a pull request's own base
    "gatekeeper-durations-refs/heads/main-",
]
FETCH = "Fetch this run's test durations"


def workflow(shards: int, *, sarif: bool = True) -> dict[Any, Any]:
    values = render.Values(**{**_fields(VALUES), "shards": shards, "sarif": sarif})
    data = yaml.safe_load(render.rendered(values)[render.WORKFLOW])
    assert isinstance(data, dict)
    return data


def _fields(values: render.Values) -> dict[str, Any]:
    return {name: getattr(values, name) for name in values.__dataclass_fields__}


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("name") == name]
    assert isinstance(found, dict)
    return found


def test_without_shards_the_workflow_is_the_one_gate_job() -> None:
    default = render.rendered(VALUES)
    assert render.rendered(render.Values(**{**_fields(VALUES), "shards": 1})) == default
    for text in default.values():
        assert "shard" not in text and "combine" not in text and "arguments" not in text
        assert "#>>>" not in text and "#<<<" not in text and "__" not in text
    assert set(yaml.safe_load(default[render.WORKFLOW])["jobs"]) == {
        "gate",
        "code-scanning",
        "gatekeeper",
    }


def test_each_shard_runs_its_share_and_uploads_its_partial_result() -> None:
    gate = workflow(4)["jobs"]["gate"]
    assert gate["strategy"] == {"fail-fast": False, "matrix": {"shard": [1, 2, 3, 4]}}
    run = step(gate, "Run this shard of the gate")
    assert run["with"]["arguments"] == "run --shard ${{ matrix.shard }}/4"
    upload = step(gate, "Keep this shard's partial result")
    assert upload["if"] == "${{ !cancelled() }}"
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == "gatekeeper-shard-${{ matrix.shard }}-of-4"
    assert upload["with"]["path"] == ".gatekeeper/shards/"
    assert upload["with"]["if-no-files-found"] == "error"
    # The run's durations are fetched before it, so the split is balanced.
    names = [s.get("name") for s in gate["steps"]]
    assert names.index(FETCH) < names.index("Run this shard of the gate")


def test_the_combine_job_runs_after_failed_shards_but_not_cancelled_runs() -> None:
    combine = workflow(2)["jobs"]["combine"]
    assert combine["needs"] == ["durations", "gate"] and combine["if"] == "${{ !cancelled() }}"
    assert combine["permissions"] == {"contents": "read"}
    fetch = step(combine, "Fetch every shard's partial result")
    assert fetch["uses"].startswith("actions/download-artifact@")
    assert fetch["with"] == {
        "pattern": "gatekeeper-shard-*",
        "merge-multiple": True,
        "path": ".gatekeeper/shards/",
    }
    arguments = step(combine, "Combine the shards")["with"]["arguments"]
    assert arguments == f"combine .gatekeeper/shards --durations-out {durations.DEFAULT}"


def test_durations_are_restored_once_from_the_branch_then_the_base_and_saved_by_combine() -> None:
    jobs = workflow(4)["jobs"]
    first = jobs["durations"]
    assert first["permissions"] == {}
    restore = step(first, "Restore the test durations")
    assert restore["uses"].startswith("actions/cache/restore@")
    assert restore["with"]["path"] == str(durations.DEFAULT)
    assert restore["with"]["restore-keys"].splitlines() == RESTORE_KEYS
    # Never an exact hit: a stale file of an earlier run is found by prefix.
    assert restore["with"]["key"].startswith(RESTORE_KEYS[0])
    # Only this job reads the cache: a shard restoring it itself could find a newer entry.
    restores = [
        name
        for name, job in jobs.items()
        for s in job["steps"]
        if s.get("uses", "").startswith("actions/cache/restore@")
    ]
    assert restores == ["durations"]
    save = step(jobs["combine"], "Keep the test durations for the next run")
    assert save["uses"].startswith("actions/cache/save@")
    assert save["with"]["path"] == str(durations.DEFAULT)
    # Saved under the branch's own prefix: on the base branch that is the fallback above.
    assert save["with"]["key"].startswith(RESTORE_KEYS[0])
    assert "github.run_attempt" in save["with"]["key"]  # a re-run may save again
    assert "merge_group" in save["if"] and "!cancelled()" in save["if"]
    names = [s.get("name") for s in jobs["combine"]["steps"]]
    assert names.index("Combine the shards") < names.index(save["name"])
    # No job can commit it: nothing in the workflow may write to the repository.
    assert all(job["permissions"].get("contents") != "write" for job in jobs.values())


def test_every_shard_and_combine_use_the_one_file_the_first_job_hands_on() -> None:
    jobs = workflow(4)["jobs"]
    upload = step(jobs["durations"], "Hand the durations to every shard")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == str(durations.DEFAULT)
    assert upload["with"]["if-no-files-found"] == "error"  # the empty-file step made it
    assert upload["with"]["include-hidden-files"] is True  # .gatekeeper/ starts with a dot
    # The shards start only once it is uploaded; combine merges into the same file.
    assert jobs["gate"]["needs"] == "durations"
    assert jobs["combine"]["needs"] == ["durations", "gate"]
    fetches = [
        (name, s["with"])
        for name, job in jobs.items()
        for s in job["steps"]
        if s.get("uses", "").startswith("actions/download-artifact@")
        and s["with"].get("name") == upload["with"]["name"]
    ]
    where = {"name": upload["with"]["name"], "path": str(durations.DEFAULT.parent)}
    assert fetches == [("gate", where), ("combine", where)]
    names = [s.get("name") for s in jobs["combine"]["steps"]]
    fetch = "Fetch the durations the shards split by"
    assert names.index(fetch) < names.index("Combine the shards")


@pytest.mark.parametrize("earlier", [None, '{"tests/test_a.py::test_a": 1.5}\n'])
def test_the_first_job_always_has_a_file_to_hand_on(earlier: str | None, tmp_path: Path) -> None:
    # The step's own shell script, run as the runner runs it (bash -e), in a fresh checkout.
    empty = step(workflow(2)["jobs"]["durations"], "Without recorded durations, an empty file")
    path = tmp_path / durations.DEFAULT
    if earlier is not None:
        path.parent.mkdir(parents=True)
        path.write_text(earlier)
    done = subprocess.run(
        ["bash", "-e", "-c", empty["run"]],
        cwd=tmp_path,
        env={**empty["env"], "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert path.read_text() == (earlier or "{}\n")  # a restored file is kept as it is
    assert durations.read(path) == ({} if earlier is None else {"tests/test_a.py::test_a": 1.5})


def test_the_sharded_action_runs_the_arguments_it_is_given() -> None:
    sharded = render.rendered(render.Values(**{**_fields(VALUES), "shards": 2}))
    action = yaml.safe_load(sharded[render.ACTION])
    assert action["inputs"]["arguments"]["default"] == "run"
    (last,) = [s for s in action["runs"]["steps"] if s.get("name") == "Run the gate"]
    assert last["env"] == {"ARGUMENTS": "${{ inputs.arguments }}"}
    assert last["run"] == "set -f; gatekeeper $ARGUMENTS"


def script(job: dict[str, Any]) -> str:
    text = job["steps"][0]["run"]
    assert isinstance(text, str)
    return text


@pytest.mark.parametrize(
    ("shards", "runs"),
    [("success", True), ("failure", True), ("cancelled", False), ("skipped", False)],
)
def test_the_combine_job_stops_when_a_shard_was_cancelled_or_skipped(
    shards: str, runs: bool
) -> None:
    # The step's own shell script, run as the runner runs it (bash -e).
    guard = script(workflow(2)["jobs"]["combine"])
    done = subprocess.run(
        ["bash", "-e", "-c", guard],
        env={"SHARDS": shards},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode == 0) is runs, done.stdout
    assert ("::error" in done.stdout) is not runs


@pytest.mark.parametrize(
    ("gate", "combine", "passes"),
    [
        ("success", "success", True),
        ("success", "skipped", False),  # a skipped job is no pass
        ("failure", "success", False),
        ("success", "failure", False),
        ("success", "cancelled", False),
    ],
)
def test_the_required_check_fails_unless_combine_succeeded(
    gate: str, combine: str, passes: bool
) -> None:
    aggregate = workflow(2)["jobs"]["gatekeeper"]
    assert aggregate["needs"] == ["durations", "gate", "combine"]
    assert aggregate["if"] == "${{ always() }}"
    needs = {"durations": {"result": "success"}, "gate": {"result": gate}}
    needs["combine"] = {"result": combine}
    done = subprocess.run(
        ["bash", "-e", "-c", script(aggregate)],
        env={"RESULTS": json.dumps(needs), "PATH": str(Path(tool("jq")).parent)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode == 0) is passes, done.stdout + done.stderr


@pytest.mark.parametrize("count", ["0", "-1", "two", "1.5", "257", "1" + "0" * 30])
def test_a_shard_count_outside_1_to_256_is_a_usage_error(
    count: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "project")
    monkeypatch.chdir(root)
    try:
        status = main(["ci", "init", "--gatekeeper-from", "0.1.0", "--shards", count])
    except SystemExit as exit:  # argparse: not an integer at all
        status = int(str(exit.code))
    assert status == 4
    error = capsys.readouterr().err
    assert "--shards" in error and "Traceback" not in error
    assert not (root / render.WORKFLOW).exists()


def test_the_durations_file_the_project_names_is_the_one_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A project bringing pytest-split's file names it; the workflow must cache that very file.
    root = make_project(tmp_path / "project")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.gatekeeper.shard]\ndurations = ".test_durations"\n'
    )
    monkeypatch.chdir(root)
    assert main(["ci", "init", "--gatekeeper-from", "0.1.0", "--shards", "2"]) == 0
    jobs = yaml.safe_load((root / render.WORKFLOW).read_text())["jobs"]
    assert step(jobs["durations"], "Restore the test durations")["with"]["path"] == (
        ".test_durations"
    )
    assert step(jobs["gate"], FETCH)["with"]["path"] == "."  # the file's folder: the root
    combine = jobs["combine"]
    assert step(combine, "Combine the shards")["with"]["arguments"].endswith(
        "--durations-out .test_durations"
    )

    pyproject.write_text(pyproject.read_text().replace(".test_durations", "../elsewhere.json"))
    again = ["ci", "init", "--gatekeeper-from", "0.1.0", "--force"]
    assert main([*again, "--shards", "2"]) == 4
    assert "durations = '../elsewhere.json'" in capsys.readouterr().err
    assert main(again) == 0  # unsharded, the file plays no part


@pytest.mark.parametrize("sarif", [True, False])
def test_a_rerun_job_may_upload_its_artifact_again(sarif: bool) -> None:
    # Re-running a failed shard job (or the whole run) uploads an artifact of a name already
    # taken in this run: upload-artifact refuses that unless it may overwrite.
    jobs = workflow(3, sarif=sarif)["jobs"]
    uploads = [
        s
        for job in jobs.values()
        for s in job.get("steps", [])
        if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert len(uploads) == (3 if sarif else 2)  # durations, each shard, (SARIF)
    assert all(s["with"]["overwrite"] is True for s in uploads), uploads
    gate = workflow(1)["jobs"]["gate"]
    assert step(gate, "Keep the SARIF report for code scanning")["with"]["overwrite"] is True
