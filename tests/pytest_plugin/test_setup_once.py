"""One setup per pytest process: the plugins are loaded, and the installed distributions scanned
for their entry points, once, however many parts of the adapter ask (the gate's session, the
eval datasets, the isolation fixtures, the database template), in every process of a run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Final

import pytest

from gatekeeper.history.store import Store, path_in
from gatekeeper.resources.locks import STATE_ENV
from tests import entry_point_scans
from tests.conftest import EVAL_GATE, git, make_project
from tests.githooks.test_prepush_trust import minimal_env
from tests.integration.repos import branch


@pytest.mark.parametrize("workers", [0, 2])
def test_each_process_of_a_gated_run_loads_the_plugins_once(
    tmp_path: Path, child_env: dict[str, str], workers: int
) -> None:
    root = make_project(tmp_path / "p", entry_point_scans.EVERY_READER, EVAL_GATE)
    counter = entry_point_scans.install(tmp_path / "counter")
    log = tmp_path / "scans.log"
    path = [str(counter), *filter(None, [child_env.get("PYTHONPATH")])]
    env = {**child_env, "PYTHONPATH": ":".join(path), entry_point_scans.LOG_ENV: str(log)}
    argv = [sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider"]

    done = subprocess.run(
        [*argv, "-n", str(workers)], cwd=root, env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "gatekeeper passed" in done.stdout
    scans = [scan for scan in entry_point_scans.read(log) if scan.caller == "gatekeeper.plugins"]
    by_process = Counter(scan.pid for scan in scans)
    # Was 5 in the one process (session, eval layout and its scorers, fixture, template), and
    # 2 to 4 in each of the processes of `-n 2`.
    assert sorted(by_process.values()) == [1] * (1 + workers), scans


INTEGRATE: Final = '[tool.gatekeeper]\nchecks = ["tests"]\nintegrate = true\n'


def test_a_merge_accepted_from_the_cache_of_passes_loads_no_second_setup(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # main and feature add the same file: the merge of feature onto main is main's own tree,
    # whose whole gate passed on main (a clean tree, the hook's scrubbed environment).
    shell = {**minimal_env(), STATE_ENV: child_env[STATE_ENV]}
    repo = make_project(tmp_path / "repo", {}, INTEGRATE)
    branch(repo, "feature", {"notes/same.txt": "same\n"})
    (repo / "notes").mkdir()
    (repo / "notes" / "same.txt").write_text("same\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the same note on main")
    on_main = subprocess.run(
        [sys.executable, "-m", "pytest", "--gatekeeper"],
        cwd=repo,
        env=shell,
        capture_output=True,
        text=True,
        check=False,
    )
    assert on_main.returncode == 0, on_main.stdout + on_main.stderr
    worktree = tmp_path / "feature"
    git(repo, "worktree", "add", "-q", str(worktree), "feature")
    counter = entry_point_scans.install(tmp_path / "counter")
    log = tmp_path / "scans.log"
    env = {**shell, "PYTHONPATH": str(counter), entry_point_scans.LOG_ENV: str(log)}

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider"],
        cwd=worktree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((worktree / ".gatekeeper" / "report.json").read_text())
    assert report["integration"]["verdict"] == "passed", report["integration"]
    with Store.open(path_in(repo / ".git"), create=False) as store:
        cached = [run for run in store.runs() if run.entry == "integrate" and run.cached]
    assert len(cached) == 1, cached  # the merge was accepted from the cache, and recorded
    scans = [scan for scan in entry_point_scans.read(log) if scan.caller == "gatekeeper.plugins"]
    # Was 2: recording the accepted merge loaded the setup again.
    assert len(scans) == 1, scans
