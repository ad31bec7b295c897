"""One setup per pytest process: the plugins are loaded, and the installed distributions scanned
for their entry points, once, however many parts of the adapter ask (the gate's session, the
eval datasets, the isolation fixtures, the database template), in every process of a run."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests import entry_point_scans
from tests.conftest import EVAL_GATE, make_project


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
