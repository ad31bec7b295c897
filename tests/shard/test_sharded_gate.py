"""A sample project gated in three shards, then combined, against one unsharded run of it.

The same verdict, findings and coverage; the static checks only in shard 1; and, as GitHub
Actions runs them (``GITHUB_ACTIONS=true``, a step summary file per job), annotations and a step
summary from the combine job alone. One test, so that one set of runs serves every step, whichever
xdist worker takes it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVAL_GATE, eval_dataset, eval_target, git, make_project

GATE = (
    '\n[tool.gatekeeper]\nchecks = ["tests", "coverage", "lint", "complexity"]\nbase = "main"\n'
    "\n[tool.gatekeeper.coverage]\ndiff-fail-under = 100\n"
)
# The branch's change: a function and its test, judged by diff coverage against main.
FEATURE = (
    "\n\ndef sub(a: int, b: int) -> int:\n"
    '    """Subtract b from a."""\n'
    "    if a < b:\n"
    "        return -(b - a)\n"
    "    return a - b\n"
)
FEATURE_TEST = (
    "from pkg import sub\n\n\n"
    "def test_sub() -> None:\n"
    "    assert (sub(3, 1), sub(1, 3)) == (2, -2)\n"
)
MANY = "from pkg import add\n" + "".join(
    f"\n\ndef test_{n}() -> None:\n    assert add({n}, 1) == {n + 1}\n" for n in range(12)
)
BROKEN = "from pkg import add\n\n\ndef test_broken() -> None:\n    assert add(1, 1) == 3\n"
COUNT = 3
TESTS_ONLY = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'
# This suite's own pytest, coverage, gatekeeper, git and Actions settings stay out.
SCRUBBED = ("GIT_", "GITHUB_", "PYTEST_", "GATEKEEPER_", "COVERAGE_", "PYTHONPYCACHEPREFIX")


@dataclass(frozen=True, slots=True)
class Runs:
    root: Path
    other: Path  # where shard 2 ran
    unsharded: dict[str, Any]
    shards: list[subprocess.CompletedProcess[str]]
    summaries: list[Path]  # each shard's step summary file, then the combine job's
    combined: subprocess.CompletedProcess[str]
    report: dict[str, Any]
    written_by_shards: list[str]  # report files present after the shards, before combine


def gatekeeper(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def actions(env: dict[str, str], summary: Path) -> dict[str, str]:
    """``env`` as a GitHub Actions job sees it, with its own step summary and output files."""
    summary.write_text("", encoding="utf-8")
    summary.with_suffix(".output").write_text("", encoding="utf-8")
    return {
        **env,
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(summary.with_suffix(".output")),
    }


def test_three_shards_combine_like_one_run(tmp_path: Path) -> None:
    runs = sharded(tmp_path)
    the_combined_verdict_is_the_unsharded_one(runs)
    each_shard_ran_a_share_and_only_the_first_the_static_checks(runs)
    only_the_combine_job_writes_annotations_and_the_summary(runs)
    the_shard_with_the_failing_test_fails_and_the_others_pass(runs)


def sharded(base: Path) -> Runs:
    """One unsharded run, then three shards and combine, as GitHub Actions jobs."""
    files = {"tests/test_many.py": MANY, "tests/test_broken.py": BROKEN}
    root = make_project(base / "project", files, gatekeeper=GATE)
    git(root, "switch", "-q", "-c", "feature")
    with (root / "pkg" / "__init__.py").open("a", encoding="utf-8") as package:
        package.write(FEATURE)
    (root / "tests" / "test_sub.py").write_text(FEATURE_TEST, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature")
    # Shard 2 runs in another checkout of the commit, at another path.
    other = base / "other-runner"
    git(root, "worktree", "add", "-q", "--detach", str(other), "HEAD")
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env["GATEKEEPER_STATE_DIR"] = str(base / "state")
    unsharded = gatekeeper(root, env, "run", "-q", "-p", "no:cacheprovider")
    assert unsharded.returncode == 1, unsharded.stdout + unsharded.stderr
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    (root / ".gatekeeper" / "report.json").unlink()
    summaries = [base / f"summary-{n}.md" for n in range(COUNT + 1)]
    shards = [  # shard 2 elsewhere, under xdist: its workers split, its controller collects nothing
        gatekeeper(
            other if i == 2 else root,
            actions(env, summaries[i - 1]),
            "run",
            f"--shard={i}/{COUNT}",
            "-q",
            *(["-n", "2"] if i == 2 else []),
        )
        for i in range(1, COUNT + 1)
    ]
    written = sorted(p.name for p in (root / ".gatekeeper").glob("report*"))
    combined = gatekeeper(
        root,
        actions(env, summaries[-1]),
        "combine",
        ".gatekeeper/shards",
        str(other / ".gatekeeper" / "shards"),
    )
    combined_report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    return Runs(root, other, report, shards, summaries, combined, combined_report, written)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def findings(report: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    return sorted(
        (f["check"], f["path"], f["line"], f["message"])
        for check in report["checks"]
        for f in check["findings"]
    )


def metric(report: dict[str, Any], check: str, name: str) -> Any:
    return next(c["metrics"][name] for c in report["checks"] if c["name"] == check)


def the_combined_verdict_is_the_unsharded_one(runs: Runs) -> None:
    assert runs.combined.returncode == 1, runs.combined.stdout + runs.combined.stderr
    assert (runs.report["verdict"], runs.report["rule"]) == (
        runs.unsharded["verdict"],
        runs.unsharded["rule"],
    )
    assert statuses(runs.report) == statuses(runs.unsharded)
    assert findings(runs.report) == findings(runs.unsharded)
    assert "tests/test_broken.py::test_broken" in runs.report["checks"][0]["findings"][0]["message"]
    percent = metric(runs.report, "coverage", "percent")
    assert percent == pytest.approx(metric(runs.unsharded, "coverage", "percent"), abs=0.01)
    coverage = next(c for c in runs.report["checks"] if c["name"] == "coverage")
    assert coverage["status"] == "passed", coverage["summary"]
    assert coverage["summary"] == next(
        c["summary"] for c in runs.unsharded["checks"] if c["name"] == "coverage"
    )
    assert coverage["metrics"]["diff_lines"] == 4  # the branch's change, every line covered
    assert metric(runs.report, "tests", "passed") == 14  # test_many's 12, test_add, test_sub


def each_shard_ran_a_share_and_only_the_first_the_static_checks(runs: Runs) -> None:
    folders = [
        (runs.other if i == 2 else runs.root) / ".gatekeeper" / "shards" / f"shard-{i}-of-{COUNT}"
        for i in (1, 2, 3)
    ]
    manifests = [json.loads((f / "manifest.json").read_text()) for f in folders]
    selected = [m["selected"] for m in manifests]
    assert sorted(n for share in selected for n in share) == sorted(manifests[0]["collected"])
    assert all(selected)
    assert [[c["name"] for c in m["static"]] for m in manifests] == [
        ["lint", "complexity"],
        [],
        [],
    ]
    assert all(m["complete"] for m in manifests)
    durations = json.loads((runs.root / ".gatekeeper" / "durations.json").read_text())
    assert sorted(durations) == sorted(manifests[0]["collected"])


def only_the_combine_job_writes_annotations_and_the_summary(runs: Runs) -> None:
    for done in runs.shards:
        assert "::error" not in done.stdout
        assert "partial result" in done.stdout
    assert [s.read_text() for s in runs.summaries[:-1]] == ["", "", ""]
    assert [s.with_suffix(".output").read_text() for s in runs.summaries[:-1]] == ["", "", ""]
    assert runs.written_by_shards == []  # no report, SARIF or JUnit from a shard
    annotations = [line for line in runs.combined.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 1 and "test_broken" in annotations[0]
    summary = runs.summaries[-1].read_text()
    assert summary.count("gatekeeper failed") == 1 and "| tests | ❌ failed |" in summary
    assert (runs.root / ".gatekeeper" / "report.sarif").is_file()
    assert (runs.root / ".gatekeeper" / "report.junit.xml").is_file()


def the_shard_with_the_failing_test_fails_and_the_others_pass(runs: Runs) -> None:
    folders = [
        (runs.other if i == 2 else runs.root) / ".gatekeeper" / "shards" / f"shard-{i}-of-{COUNT}"
        for i in (1, 2, 3)
    ]
    holder = [
        i
        for i, folder in enumerate(folders)
        if "tests/test_broken.py::test_broken"
        in json.loads((folder / "manifest.json").read_text())["selected"]
    ]
    assert [done.returncode for done in runs.shards] == [
        1 if i in holder else 0 for i in range(COUNT)
    ]


def test_a_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", gatekeeper=GATE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env["GATEKEEPER_STATE_DIR"] = str(tmp_path / "state")

    done = gatekeeper(root, env, "run", "--shard", "5/4", "-p", "no:cacheprovider")

    assert done.returncode == 4, done.stdout + done.stderr
    assert "--gatekeeper-shard 5/4: a shard is written I/N" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (root / ".gatekeeper" / "shards").exists()


def plain_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env["GATEKEEPER_STATE_DIR"] = str(base / "state")
    return env


def test_eval_cases_are_sharded_and_judged_together(tmp_path: Path) -> None:
    files = {
        "pkg/target.py": eval_target({7}),
        "evals/double.yaml": eval_dataset(threshold=0.9),
        "tests/test_many.py": MANY,
    }
    root = make_project(tmp_path / "project", files, gatekeeper=EVAL_GATE)
    env = plain_env(tmp_path)
    gatekeeper(root, env, "run", "-q", "-p", "no:cacheprovider")
    unsharded = json.loads((root / ".gatekeeper" / "report.json").read_text())
    shards = [gatekeeper(root, env, "run", "--shard", f"{i}/2", "-q") for i in (1, 2)]
    manifests = [
        json.loads(
            (root / ".gatekeeper" / "shards" / f"shard-{i}-of-2" / "manifest.json").read_text()
        )
        for i in (1, 2)
    ]

    done = gatekeeper(root, env, "combine", ".gatekeeper/shards")

    assert [s.returncode for s in shards] == [0, 0], shards[0].stdout + shards[1].stdout
    assert all(m["evals"]["cases"] for m in manifests)  # each shard judged some cases
    assert sum(len(m["evals"]["cases"]) for m in manifests) == 20
    assert done.returncode == 0, done.stdout + done.stderr
    combined = json.loads((root / ".gatekeeper" / "report.json").read_text())
    evals = next(c for c in combined["checks"] if c["name"] == "evals")
    assert evals == {
        **next(c for c in unsharded["checks"] if c["name"] == "evals"),
        "duration": evals["duration"],
    }
    assert findings(combined) == findings(unsharded)


STOPS = "import pytest\n\n\ndef test_stops() -> None:\n    pytest.exit('stopped here')\n"


def test_a_shard_that_stopped_early_is_refused(tmp_path: Path) -> None:
    files = {"tests/test_many.py": MANY, "tests/test_stops.py": STOPS}
    root = make_project(tmp_path / "project", files, gatekeeper=TESTS_ONLY)
    env = plain_env(tmp_path)
    statuses = [gatekeeper(root, env, "run", "--shard", f"{i}/2", "-q").returncode for i in (1, 2)]
    stopped = [
        i
        for i in (1, 2)
        if not json.loads(
            (root / ".gatekeeper" / "shards" / f"shard-{i}-of-2" / "manifest.json").read_text()
        )["complete"]
    ]

    done = gatekeeper(root, env, "combine", ".gatekeeper/shards")

    assert len(stopped) == 1 and statuses[stopped[0] - 1] != 0
    assert done.returncode == 1
    folder = root / ".gatekeeper" / "shards" / f"shard-{stopped[0]}-of-2"
    assert f"{folder}: shard {stopped[0]}/2 did not finish its session" in done.stderr
    assert not (root / ".gatekeeper" / "report.json").exists()


def test_a_shard_that_cannot_write_its_partial_result_fails(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", gatekeeper=TESTS_ONLY)
    (root / ".gatekeeper").mkdir(exist_ok=True)
    (root / ".gatekeeper" / "shards").write_text("a file, not a folder\n")

    done = gatekeeper(root, plain_env(tmp_path), "run", "--shard", "1/1", "-q")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not write this shard's partial result under" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_the_shards_folder_is_not_configurable(tmp_path: Path) -> None:
    # A folder outside .gatekeeper/ would count as content the shards judged, and the
    # workflow uploads .gatekeeper/shards/ only: the key is unknown.
    moved = TESTS_ONLY + '\n[tool.gatekeeper.shard]\nfolder = "partials"\n'
    root = make_project(tmp_path / "project", gatekeeper=moved)

    done = gatekeeper(root, plain_env(tmp_path), "run", "--shard", "1/1", "-q")

    assert done.returncode == 4, done.stdout + done.stderr
    assert "folder" in done.stderr and "Traceback" not in done.stdout + done.stderr
    assert not (root / "partials").exists()


def test_a_shard_without_the_gate_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make_project(pytester.path, gatekeeper=TESTS_ONLY)

    result = pytester.runpytest_inprocess("--gatekeeper-shard", "1/2", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--gatekeeper-shard needs --gatekeeper" in result.stderr.str()


def test_combine_in_a_fresh_checkout_holding_the_downloaded_shards(tmp_path: Path) -> None:
    # The workflow downloads the artifacts into .gatekeeper/shards/ of a fresh checkout, where
    # nothing ignores them yet (this project does not ignore .gatekeeper/ itself): they must
    # not count as a change to the content the shards judged.
    ignores = {".gitignore": "__pycache__/\n.pytest_cache/\n"}
    root = make_project(tmp_path / "project", {**ignores, "tests/test_many.py": MANY}, TESTS_ONLY)
    env = plain_env(tmp_path)
    for index in (1, 2):
        assert gatekeeper(root, env, "run", "--shard", f"{index}/2", "-q").returncode == 0
    fresh = tmp_path / "combine-job"
    git(root, "worktree", "add", "-q", "--detach", str(fresh), "HEAD")
    shutil.copytree(root / ".gatekeeper" / "shards", fresh / ".gatekeeper" / "shards")

    done = gatekeeper(fresh, env, "combine", ".gatekeeper/shards")

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((fresh / ".gatekeeper" / "report.json").read_text())["verdict"] == "passed"


def test_two_shards_in_process_split_the_suite(pytester: pytest.Pytester) -> None:
    make_project(pytester.path, {"tests/test_many.py": MANY}, gatekeeper=TESTS_ONLY)
    shards = pytester.path / ".gatekeeper" / "shards"

    results = [
        pytester.runpytest_inprocess(
            "--gatekeeper", "--gatekeeper-shard", f"{i}/2", "-p", "no:cacheprovider"
        )
        for i in (1, 2)
    ]

    assert [r.ret for r in results] == [0, 0]
    manifests = [
        json.loads((shards / f"shard-{i}-of-2" / "manifest.json").read_text()) for i in (1, 2)
    ]
    collected = manifests[0]["collected"]
    assert len(collected) == 13 and manifests[1]["collected"] == collected
    assert sorted(manifests[0]["selected"] + manifests[1]["selected"]) == sorted(collected)
    for manifest in manifests:
        assert set(manifest["outcomes"].values()) == {"passed"}
        assert sorted(manifest["durations"]) == sorted(manifest["selected"])
        assert manifest["tests"]["passed"] == len(manifest["selected"])
        assert (manifest["complete"], manifest["verdict"], manifest["coverage"]) == (
            True,
            "passed",
            False,
        )
    assert not (pytester.path / ".gatekeeper" / "report.json").exists()
    results[0].stdout.fnmatch_lines(["*shard 1/2: a partial result*", "*on shard 1/2 (partial*"])
