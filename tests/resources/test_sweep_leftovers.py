"""What ended runs leave outside the databases: owner lock files in the state dir and coverage
data folders in the worktree. The sweep removes them once their owner is dead, never before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gatekeeper.resources import owners
from gatekeeper.resources.identity import Identity
from tests.conftest import make_project

GATEKEEPER = str(Path(sys.executable).parent / "gatekeeper")

PORT_TEST = "def test_port(gatekeeper_port):\n    assert gatekeeper_port\n"

# Signals that the gated session is running its test, then waits to be killed.
SLOW_TEST = """\
import os
import time
from pathlib import Path


def test_slow():
    Path(os.environ["SLOW_OUT"]).write_text("running")
    time.sleep(120)
"""


def gatekeeper(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GATEKEEPER, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def pytest_in(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_owner_locks_of_ended_sessions_are_swept_and_live_ones_kept(
    tmp_path: Path, state: Path, child_env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "p", {"tests/test_port.py": PORT_TEST})
    done = pytest_in(root, child_env, "tests/test_port.py")
    assert done.returncode == 0, done.stdout
    (ended,) = (state / "owners").glob("*.lock")  # an ordinary session's, left when it ended
    live = owners.claim(Identity(str(root), "live-run"), state)
    try:
        swept = gatekeeper(root, child_env, "sweep")
        assert swept.returncode == 0, swept.stderr
        assert f"removed owner {ended} (owner is dead)" in swept.stdout
        assert not ended.exists()
        assert live.path.exists() and str(live.path) not in swept.stdout
    finally:
        live.release()
    assert [p.name for p in (state / "owners").glob("*.lock")] == [live.path.name]


def start_gated_run(root: Path, env: dict[str, str], running: Path) -> subprocess.Popen[bytes]:
    """``pytest --gatekeeper`` in ``root``, returned once its (endless) test runs."""
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider"],
        cwd=root,
        env={**env, "SLOW_OUT": str(running)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not running.exists():
        assert run.poll() is None and time.monotonic() < deadline, "the test never ran"
        time.sleep(0.05)
    return run


def test_coverage_data_of_a_killed_run_is_swept_once_its_run_is_dead(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    config = '\n[tool.gatekeeper]\nchecks = ["tests", "coverage"]\n'
    root = make_project(tmp_path / "p", {"tests/test_slow.py": SLOW_TEST}, config)
    run = start_gated_run(root, child_env, tmp_path / "running")
    try:
        (data,) = (p for p in (root / ".gatekeeper" / "coverage").iterdir() if p.is_dir())
        alive = gatekeeper(root, child_env, "sweep")
        assert alive.returncode == 0, alive.stderr
        assert data.is_dir()  # its run is alive: left alone
    finally:
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
    assert data.is_dir()  # nothing cleaned up after a SIGKILL
    dry = gatekeeper(root, child_env, "sweep", "--dry-run")
    assert f"would remove coverage {data} (run is dead)" in dry.stdout
    swept = gatekeeper(root, child_env, "sweep")
    assert swept.returncode == 0, swept.stderr
    assert f"removed coverage {data} (run is dead)" in swept.stdout
    assert list((root / ".gatekeeper" / "coverage").iterdir()) == []


def test_a_gated_session_sweeps_its_worktree_s_dead_coverage_data(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    config = '\n[tool.gatekeeper]\nchecks = ["tests", "coverage"]\n'
    root = make_project(tmp_path / "p", gatekeeper=config)
    left = root / ".gatekeeper" / "coverage" / "0123456789ab"  # as a killed run leaves it
    left.mkdir(parents=True)
    (left / ".coverage.host.1.x").write_text("")
    done = pytest_in(root, child_env, "--gatekeeper")
    assert done.returncode == 0, done.stdout
    assert list((root / ".gatekeeper" / "coverage").iterdir()) == []


def test_a_session_start_removes_ended_owners_locks_once_an_hour(
    tmp_path: Path, state: Path, child_env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "p")
    ended = owners.claim(Identity(str(root), "ended-run"), state)
    ended.release()
    assert pytest_in(root, child_env).returncode == 0
    assert not ended.path.exists()
    again = owners.claim(Identity(str(root), "ended-later"), state)
    again.release()
    assert pytest_in(root, child_env).returncode == 0
    assert again.path.exists()  # swept within the hour already: left for the next sweep
