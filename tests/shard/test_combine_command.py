"""``gatekeeper combine`` in this process: two shards' partial results, each with part of the
coverage, judged as one run, with the durations file updated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from coverage.data import CoverageData

from gatekeeper import cli
from gatekeeper.checks.base import TestOutcome
from gatekeeper.evals.results import EvalOutcome
from gatekeeper.gate import Gate, load_setup
from gatekeeper.history.store import Store, path_in
from gatekeeper.shard import partial
from gatekeeper.shard.partial import Content, Identity, Partial
from gatekeeper.shard.spec import Spec
from tests.conftest import make_project

GATE = (
    '\n[tool.gatekeeper]\nchecks = ["tests", "coverage"]\n'
    "\n[tool.gatekeeper.coverage]\nfail-under = 100\n"
)
SUITE = ("tests/test_add.py::test_add", "tests/test_add.py::test_more")
# pkg/__init__.py's statements: the docstring, the def, its return. Each shard ran part of them.
LINES = {1: [1, 4], 2: [6]}


def shard_folder(root: Path, index: int, content: Content, config: str) -> None:
    folder = root / ".gatekeeper" / "shards" / f"shard-{index}-of-2"
    folder.mkdir(parents=True)
    data = CoverageData(basename=str(folder / partial.COVERAGE))
    data.add_lines({"pkg/__init__.py": LINES[index]})  # relative, as a shard exports it
    data.write()
    nodeid = SUITE[index - 1]
    partial.write(
        folder,
        Partial(
            spec=Spec(index, 2),
            identity=Identity(content, config, SUITE),
            root=f"/elsewhere/runner-{index}",
            outcome=TestOutcome(exitstatus=0, passed=1, evals=EvalOutcome()),
            selected=(nodeid,),
            outcomes={nodeid: "passed"},
            durations={nodeid: 0.25 * index},
            coverage=True,
            coverage_sha256=partial.file_sha256(folder / partial.COVERAGE),
            verdict="passed",
            complete=True,
        ),
    )


def test_two_shards_are_judged_as_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "project", gatekeeper=GATE)
    monkeypatch.chdir(root)
    config = partial.config_digest(Gate(load_setup(root)).effective_config())
    for index in (1, 2):
        shard_folder(root, index, Content.of(root), config)

    status = cli.main(["combine", ".gatekeeper/shards"])

    assert status == 0, capsys.readouterr().out
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    checks = {check["name"]: check for check in report["checks"]}
    assert report["verdict"] == "passed"
    assert checks["tests"]["metrics"]["passed"] == 2
    assert checks["coverage"]["metrics"]["percent"] == 100.0  # only the two shards together
    durations = json.loads((root / ".gatekeeper" / "durations.json").read_text())
    assert durations == {SUITE[0]: 0.25, SUITE[1]: 0.5}
    assert "combined 2 shard(s) of 2" in capsys.readouterr().out


def test_a_refused_combination_writes_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "project", gatekeeper=GATE)
    monkeypatch.chdir(root)
    (root / ".gatekeeper").mkdir()
    (root / ".gatekeeper" / "report.json").write_text('{"verdict": "passed"}')
    shard_folder(root, 1, Content.of(root), "a configuration nobody ran")

    status = cli.main(["combine", ".gatekeeper/shards"])

    assert status == 1
    error = capsys.readouterr().err
    assert "shard 2 of 2 is missing" in error and "ran with another configuration" in error
    assert not (root / ".gatekeeper" / "report.json").exists()  # the earlier one is gone
    assert recorded(root) == []  # no verdict, no record


# coverage.py's own settings, which combine must read from the project, wherever it runs from.
COVERAGE_SETTINGS = "\n[tool.coverage.report]\nfail_under = 100\nprecision = 1\n"


def test_combine_from_a_subdirectory_judges_with_the_projects_coverage_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gate = '\n[tool.gatekeeper]\nchecks = ["tests", "coverage"]\n' + COVERAGE_SETTINGS
    root = make_project(tmp_path / "project", gatekeeper=gate)
    config = partial.config_digest(Gate(load_setup(root)).effective_config())
    for index in (1, 2):
        shard_folder(root, index, Content.of(root), config)
    monkeypatch.chdir(root / "tests")

    status = cli.main(["combine", "../.gatekeeper/shards", "--durations-out", "d.json"])

    out = capsys.readouterr()
    assert status == 0, out.out + out.err
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    coverage = next(check for check in report["checks"] if check["name"] == "coverage")
    # The project's [tool.coverage.report]: its threshold and precision, not coverage.py's
    # defaults for a folder without settings.
    assert coverage["metrics"] == {"percent": 100.0, "files": 1, "fail_under": 100.0}
    assert coverage["summary"].startswith("100.0% >= fail-under 100")
    # Paths given on the command line are the caller's, relative to where it runs.
    assert (root / "tests" / "d.json").is_file()


def recorded(root: Path) -> list[dict[str, Any]]:
    store = path_in(root / ".git")
    if not store.exists():
        return []
    with Store.open(store, create=False) as opened:
        return [run.as_dict() for run in opened.runs()]


def test_the_combined_verdict_is_recorded_once_in_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "project", gatekeeper=GATE)
    monkeypatch.chdir(root)
    content = Content.of(root)
    config = partial.config_digest(Gate(load_setup(root)).effective_config())
    for index in (1, 2):
        shard_folder(root, index, content, config)

    assert cli.main(["combine", ".gatekeeper/shards"]) == 0, capsys.readouterr().out

    (run,) = recorded(root)
    assert {k: run[k] for k in ("entry", "worktree", "branch", "head", "tree", "verdict")} == {
        "entry": "combine",
        "worktree": str(root.resolve()),
        "branch": "main",
        "head": content.commit,
        "tree": content.tree,
        "verdict": "passed",
    }
    # Never a pass from the cache, and no claim to have run the whole suite in one session.
    assert run["cached"] is False and run["whole_suite"] is False
    assert [check["name"] for check in run["checks"]] == ["tests", "coverage"]


def test_combine_takes_the_options_the_shards_ran_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "project", gatekeeper=GATE)
    monkeypatch.chdir(root)
    option = ["--gatekeeper-coverage-fail-under", "50", "--gatekeeper-no-cache"]
    given = {"coverage.fail-under": "50", "cache": False}
    config = partial.config_digest(Gate(load_setup(root, given)).effective_config())
    for index in (1, 2):
        shard_folder(root, index, Content.of(root), config)

    without = cli.main(["combine", ".gatekeeper/shards"])
    refusal = capsys.readouterr().err
    status = cli.main(["combine", ".gatekeeper/shards", *option])

    assert without == 1 and "ran with another configuration" in refusal
    assert "give `gatekeeper combine` the --gatekeeper-* options" in refusal
    assert status == 0, capsys.readouterr().err
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    assert report["verdict"] == "passed" and report["config"]["coverage"]["fail-under"] == 50.0
