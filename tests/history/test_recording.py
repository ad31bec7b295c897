"""Every gate run leaves one record, from every entry point, and recording never changes or fails
a verdict."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gatekeeper import config as configuration
from gatekeeper.errors import ConfigError
from gatekeeper.history import origin
from gatekeeper.history.flaky import Flaky
from gatekeeper.history.recording import Prepared, Recorded, Recorder, node_id, prepare
from gatekeeper.history.store import Store, path_in
from gatekeeper.model import Report, Status
from tests.conftest import ProjectFactory, git, make_project
from tests.gate_runs import run_gate
from tests.history.conftest import FLIP_TEST, floor_env

TESTS_ONLY = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'
GATEKEEPER = str(Path(sys.executable).parent / "gatekeeper")


def kept(root: Path) -> list[dict[str, Any]]:
    with Store.open(path_in(root / ".git"), create=False) as store:
        return [run.as_dict() for run in store.runs()]


@pytest.mark.parametrize(
    ("message", "wanted"),
    [
        ("tests/test_a.py::test_x: assert 1 == 2", "tests/test_a.py::test_x"),
        ("tests/test_a.py::test_x[a: b]: boom: bang", "tests/test_a.py::test_x[a: b]"),
        ("tests/t.py::C::test[[x]: y]: no", "tests/t.py::C::test[[x]: y]"),
        ("evals/e.yaml::c7: expected 14, actual 15", "evals/e.yaml::c7"),
        ("tests/test_broken.py", "tests/test_broken.py"),
    ],
)
def test_the_node_id_is_read_up_to_the_message(message: str, wanted: str) -> None:
    assert node_id(message) == wanted


def test_a_gate_run_is_recorded_once_with_its_entry_point(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    root = project(gatekeeper=TESTS_ONLY + 'base = "main"\n')
    run = run_gate(pytester)
    assert run.verdict == "passed"
    (first,) = kept(root)
    assert {k: first[k] for k in ("entry", "branch", "base", "verdict", "cached")} == {
        "entry": "pytest",
        "branch": "main",
        "base": "main",
        "verdict": "passed",
        "cached": False,
    }
    assert first["worktree"] == str(root.resolve())
    assert first["head"] == git(root, "rev-parse", "HEAD")
    assert first["tree"] == git(root, "rev-parse", "HEAD^{tree}")  # the content judged
    assert first["whole_suite"] is True
    assert [c["name"] for c in first["checks"]] == ["tests"]
    from gatekeeper.cli import main  # `gatekeeper run` is another entry point

    assert main(["run", "-p", "no:cacheprovider", "-q"]) == 0
    assert [(r["entry"], r["verdict"]) for r in kept(root)] == [
        ("pytest", "passed"),
        ("run", "passed"),
    ]


def test_a_store_that_cannot_be_written_is_a_warning_and_the_verdict_stands(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    root = project(gatekeeper=TESTS_ONLY)
    path_in(root / ".git").mkdir(parents=True)  # a directory where the database file goes
    run = run_gate(pytester)
    assert run.verdict == "passed"
    assert run.result.ret == 0
    out = run.result.stdout.str()
    assert "gatekeeper: warning: this gate run was not recorded in the history: " in out
    assert "cannot open the history store" in out
    assert "Traceback" not in out


def test_switched_off_nothing_is_recorded(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    root = project(gatekeeper=TESTS_ONLY)
    assert run_gate(pytester, "--gatekeeper-no-history-record").verdict == "passed"
    assert not path_in(root / ".git").exists()


SECRET_TEST = """\
import pytest


@pytest.mark.parametrize("url", ["postgresql://app:s3cr3tpw@db.example/app"])
def test_connects(url: str) -> None:
    raise AssertionError("THE-FAILURE-MESSAGE")
"""


def test_no_secret_and_no_message_is_stored(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    root = project({"tests/test_secret.py": SECRET_TEST}, gatekeeper=TESTS_ONLY)
    assert run_gate(pytester).verdict == "failed"
    (run,) = kept(root)
    assert run["failed_tests"] == [
        "tests/test_secret.py::test_connects[postgresql://app:***@db.example/app]"
    ]
    assert run["tests_failing"] == 1
    stored = b"".join(p.read_bytes() for p in path_in(root / ".git").parent.glob("history*"))
    assert b"s3cr3tpw" not in stored
    assert b"THE-FAILURE-MESSAGE" not in stored


def test_a_known_flaky_failure_is_named_and_the_verdict_stands(
    pytester: pytest.Pytester, project: ProjectFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project({"tests/test_flip.py": FLIP_TEST}, gatekeeper=TESTS_ONLY)
    marker = pytester.path.parent / "flip-marker"
    monkeypatch.setenv("FLOOR_FLIP", str(marker))
    first = run_gate(pytester)
    assert first.verdict == "failed"
    assert "known flaky" not in first.result.stdout.str()  # failed once: not known yet
    assert run_gate(pytester).verdict == "passed"  # the same tree: it passes
    marker.unlink()
    again = run_gate(pytester, "--gatekeeper-no-cache")  # the same tree, judged afresh
    assert again.verdict == "failed" and again.result.ret == 1  # flaky is no pass
    section = again.result.stdout.str().split("= gatekeeper =")[-1]
    assert "known flaky among today's failures" in section
    assert "tests/test_flip.py::test_flip (failed 2, passed 1 on the same tree)" in section
    runs = kept(root)
    assert [r["verdict"] for r in runs] == ["failed", "passed", "failed"]
    assert len({r["tree"] for r in runs}) == 1  # the tree was computed with the cache off too


def test_keep_runs_must_keep_at_least_one(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.gatekeeper.history]\nkeep-runs = 0\n")
    with pytest.raises(ConfigError) as caught:
        configuration.load(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'pyproject.toml'}: [tool.gatekeeper.history] keep-runs must be at least 1 "
        "(turn recording off with record = false instead); got 0."
    )


def test_variables_handed_down_count_only_in_a_temporary_worktree(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    env = origin.handed_down(root, "hook")
    assert origin.of_session(root, env, via_run=True) == origin.Origin("run", root)
    temporary = origin.temporaries(root / ".git") / "integrate" / "x" / "tree"
    git(root, "worktree", "add", "-q", "--detach", str(temporary))
    assert origin.of_session(temporary, env, via_run=True) == origin.Origin("hook", root.resolve())
    assert origin.of_session(temporary, {}, via_run=False) == origin.Origin("pytest", temporary)


def test_the_gate_integrate_runs_is_recorded_for_the_worktree_that_asked(tmp_path: Path) -> None:
    main = make_project(tmp_path / "main", gatekeeper=TESTS_ONLY)
    git(main, "config", "user.name", "Test")
    git(main, "config", "user.email", "test@example.invalid")
    feature = tmp_path / "feature"
    git(main, "worktree", "add", "-q", "-b", "feature", str(feature))
    (feature / "tests" / "test_more.py").write_text("def test_more() -> None:\n    pass\n")
    git(feature, "add", "-A")
    git(feature, "commit", "-qm", "more")
    (main / "notes.txt").write_text("main moved on\n")
    git(main, "add", "-A")
    git(main, "commit", "-qm", "main moves")
    done = subprocess.run(
        [GATEKEEPER, "integrate"],
        cwd=feature,
        env=floor_env(tmp_path / "state"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = kept(main)
    assert (run["entry"], run["worktree"], run["branch"]) == (
        "integrate",
        str(feature.resolve()),
        "feature",
    )
    merged = json.loads((feature / ".gatekeeper" / "integration.json").read_text())
    assert run["head"] == merged["integration"]["steps"][0]["commit"]  # judged: the merge result


def test_eight_worktrees_gating_at_once_all_record(tmp_path: Path) -> None:
    main = make_project(tmp_path / "wt0", gatekeeper=TESTS_ONLY)
    trees = [main]
    for number in range(1, 8):
        trees.append(tmp_path / f"wt{number}")
        git(main, "worktree", "add", "-q", "-b", f"branch{number}", str(trees[-1]))
    env = floor_env(tmp_path / "state")
    argv = [sys.executable, "-m", "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider"]
    with contextlib.ExitStack() as stack:
        gates = [
            stack.enter_context(
                subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE, text=True)
            )
            for tree in trees
        ]
        outputs = [gate.communicate(timeout=300)[0] for gate in gates]
    assert [gate.returncode for gate in gates] == [0] * 8, outputs
    assert not any("not recorded" in output for output in outputs)
    runs = kept(main)
    assert sorted(str(run["worktree"]) for run in runs) == sorted(str(t.resolve()) for t in trees)
    assert all(run["verdict"] == "passed" and len(run["checks"]) == 1 for run in runs)
    with Store.open(path_in(main / ".git"), create=False) as store:
        assert store.execute("PRAGMA integrity_check") == [("ok",)]


def test_the_git_facts_of_a_run_are_found_where_it_ran(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / "new.txt").write_text("not committed\n")  # part of the content judged
    found = prepare(configuration.load(root), root, "", False, {})
    assert found.store == path_in(root / ".git")
    assert found.origin == origin.Origin("pytest", root)
    assert found.base == "main"  # detected
    assert found.tree is not None and found.tree != git(root, "rev-parse", "HEAD^{tree}")
    (root / "pyproject.toml").write_text('[tool.gatekeeper]\nbase = "develop"\n')
    assert prepare(configuration.load(root), root, "t" * 40, True, {}).base == "develop"
    assert prepare(configuration.load(root), root, "t" * 40, True, {}).tree == "t" * 40


def test_a_temporary_worktree_gate_takes_the_branch_of_its_origin(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    feature = tmp_path / "feature"
    git(root, "worktree", "add", "-q", "-b", "feature", str(feature))
    temporary = origin.temporaries(root / ".git") / "integrate" / "run" / "tree"
    git(root, "worktree", "add", "-q", "--detach", str(temporary))
    env = origin.handed_down(feature, "land")
    found = prepare(configuration.load(temporary), temporary, "", True, env)
    assert (found.origin.entry, found.origin.worktree, found.branch) == (
        "land",
        feature.resolve(),
        "feature",
    )


def test_outside_git_there_is_nothing_to_record_and_nothing_to_say(tmp_path: Path) -> None:
    report = Report(Status.PASSED, "all 1 enabled checks passed", (), None, {}, "0")
    recorder = Recorder(configuration.load(tmp_path), tmp_path, "", via_run=False)
    assert recorder.finish(report, whole_suite=True) == Recorded()
    assert recorder.prepared.result() == Prepared(
        None, origin.Origin("pytest", tmp_path), None, None, None
    )


def test_the_terminal_names_ten_flaky_failures_at_most() -> None:
    many = tuple(Flaky(f"tests/t.py::test_{i:02}", 2, 1, 1, 0.0) for i in range(12))
    lines = Recorded(warning="gatekeeper: warning: ...", flaky=many).lines()
    assert lines[0].startswith("known flaky among today's failures")
    assert lines[1] == "  tests/t.py::test_00 (failed 2, passed 1 on the same tree)"
    assert lines[10:] == [
        "  tests/t.py::test_09 (failed 2, passed 1 on the same tree)",
        "  ... and 2 more (gatekeeper status)",
        "gatekeeper: warning: ...",
    ]
