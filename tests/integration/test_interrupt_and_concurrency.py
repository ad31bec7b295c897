"""Interrupted and killed runs leave nothing behind (after the next run); two runs from two
worktrees at the same time do not collide."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import git
from tests.integration.repos import base_repo, branch, gatekeeper, harmless, rename, state_of

# Holds a port for the whole test: the gate child then owns a basetemp, an owner lock and a
# port lease in the state dir, the state a killed run must not leave behind.
SLOW_TEST = "import time\n\n\ndef test_slow(gatekeeper_port: int) -> None:\n    time.sleep(120)\n"
# A test that starts a server of its own which ignores Ctrl-C (as a server that handles its own
# shutdown does); the server writes its pid to $SERVER_PIDFILE once it is deaf to Ctrl-C.
SERVER_TEST = """\
import os
import subprocess
import sys
import time

# Deaf to Ctrl-C before it says it is up.
SERVER = (
    "import os, signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "open(sys.argv[1] + '.tmp', 'w').write(str(os.getpid())); "
    "os.replace(sys.argv[1] + '.tmp', sys.argv[1]); time.sleep(300)"
)


def test_with_a_server() -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVER, os.environ["SERVER_PIDFILE"]])
    time.sleep(120)
    server.kill()
"""
# Runs argv with SIGINT at its default: a suite started with SIGINT ignored (a background job of
# a non-interactive shell) hands that on to every child, and no Ctrl-C could reach them.
DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def gate_state(state: Path, repo: Path) -> list[str]:
    """The basetemps, owner locks and port leases in ``state`` of worktrees that integration
    runs made (those live in ``repo``'s git directory, under ``gatekeeper/worktrees``)."""
    runs = (repo / ".git" / "gatekeeper" / "worktrees").resolve()
    found = []
    for recorded in state.glob("basetemp/*/worktree"):
        if Path(recorded.read_text()).is_relative_to(runs):
            found.append(f"basetemp {recorded.parent.name}")
    for lock in [*state.glob("owners/*.lock"), *state.glob("ports/*.lock")]:
        text = lock.read_text()
        worktree = json.loads(text).get("worktree") if text else None
        if isinstance(worktree, str) and Path(worktree).is_relative_to(runs):
            found.append(f"{lock.parent.name} {lock.name}")
    return sorted(found)


def start_slow_integration(
    repo: Path, env: dict[str, str], test: str = SLOW_TEST
) -> subprocess.Popen[str]:
    """``gatekeeper integrate slow`` in its own process group, with Ctrl-C at its default
    whatever this process inherited, returned once its gate runs."""
    branch(repo, "slow", {"tests/test_slow.py": test})
    argv = [sys.executable, "-m", "gatekeeper", "integrate", "slow", "--onto", "main"]
    process = subprocess.Popen(
        [sys.executable, "-c", DEFAULT_SIGINT, *argv],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches the whole foreground group: so do we
    )
    deadline = time.monotonic() + 120
    while len(git(repo, "worktree", "list").splitlines()) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "the gate never started"
        time.sleep(0.2)
    time.sleep(2)  # well inside the gate's test session by now
    return process


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_an_interrupted_run_leaves_nothing_after_the_next_run(
    tmp_path: Path, child_env: dict[str, str], sig: signal.Signals
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    before = state_of(repo)
    process = start_slow_integration(repo, child_env)
    state = Path(child_env["GATEKEEPER_STATE_DIR"])
    deadline = time.monotonic() + 120
    while not any(kind.startswith("ports") for kind in gate_state(state, repo)):
        assert process.poll() is None and time.monotonic() < deadline, "the test never ran"
        time.sleep(0.2)  # until the gate's test holds its port

    os.killpg(process.pid, sig)
    _, stderr = process.communicate(timeout=60)
    if sig is signal.SIGKILL:  # nothing cleaned up: the gate's state is all still there
        left = gate_state(state, repo)
        assert {kind.split()[0] for kind in left} == {"basetemp", "owners", "ports"}, left

    if sig is signal.SIGINT:
        assert process.returncode == 2 and "interrupted" in stderr
        assert "Traceback" not in stderr
        assert {**state_of(repo), "branches": ""} == {**before, "branches": ""}
    assert gatekeeper(repo, "integrate", "docs", "--onto", "main", env=child_env).returncode == 0
    after = state_of(repo)
    assert after["worktrees"] == before["worktrees"] and after["private"] == ""
    assert after["status"] == before["status"] and after["head"] == before["head"]
    assert gate_state(state, repo) == []  # nor any basetemp, owner lock or port lease of its gates


def test_two_worktrees_integrate_at_the_same_time(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    rename(repo)
    trees = [tmp_path / "wt-docs", tmp_path / "wt-rename"]
    for tree, name in zip(trees, ("docs", "rename"), strict=True):
        git(repo, "worktree", "add", "-q", str(tree), name)
    before = state_of(repo)

    running = [
        subprocess.Popen(
            [sys.executable, "-m", "gatekeeper", "integrate", "--onto", "main"],
            cwd=tree,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tree in trees
    ]
    results = [p.communicate(timeout=300) for p in running]

    assert [p.returncode for p in running] == [0, 0], results
    for tree, name in zip(trees, ("docs", "rename"), strict=True):
        report = json.loads((tree / ".gatekeeper/integration.json").read_text())["integration"]
        assert report["landable"] == [name]
    assert state_of(repo) == before


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def is_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (reaped or not, a zombie runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_gate_child_dies_with_a_killed_integrate(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    before = state_of(repo)
    process = start_slow_integration(repo, child_env)
    (gate,) = children_of(process.pid)
    assert is_running(gate)

    os.kill(process.pid, signal.SIGKILL)  # the parent only, not its group
    process.communicate(timeout=60)

    deadline = time.monotonic() + 30
    while is_running(gate):
        if time.monotonic() > deadline:
            os.kill(gate, signal.SIGKILL)  # do not leave it behind for the next test
            pytest.fail("the gate child outlived its killed parent")
        time.sleep(0.1)
    assert gatekeeper(repo, "integrate", "docs", "--onto", "main", env=child_env).returncode == 0
    after = state_of(repo)
    assert after["worktrees"] == before["worktrees"] and after["private"] == ""


def wait_for_file(path: Path, process: subprocess.Popen[str]) -> str:
    """The text of ``path`` once it exists (written atomically), while ``process`` runs."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, "it never appeared"
        time.sleep(0.1)
    return path.read_text(encoding="utf-8")


def wait_until_gone(pid: int) -> bool:
    """Whether ``pid`` stops running within a minute (killed if not, for the next test)."""
    deadline = time.monotonic() + 60
    while is_running(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "terminated"])
def test_an_interrupted_run_stops_what_its_gate_started(
    tmp_path: Path, child_env: dict[str, str], sig: signal.Signals
) -> None:
    """A server a test started, deaf to Ctrl-C, is stopped with the run, and the gate's own
    fixtures are torn down: Ctrl-C reaches the run's process group; SIGTERM the run alone."""
    repo = base_repo(tmp_path / "repo")
    harmless(repo, "docs")
    before = state_of(repo)
    pidfile = tmp_path / "server.pid"
    env = {**child_env, "SERVER_PIDFILE": str(pidfile)}
    process = start_slow_integration(repo, env, SERVER_TEST)
    server = int(wait_for_file(pidfile, process))

    if sig is signal.SIGINT:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        stopped = wait_until_gone(server)
    assert stopped, "the test's server outlived the interrupted run"
    assert process.returncode == 2 and "interrupted" in stderr, stderr
    assert "Traceback" not in stderr
    assert {**state_of(repo), "branches": ""} == {**before, "branches": ""}
    state = Path(child_env["GATEKEEPER_STATE_DIR"])
    assert gate_state(state, repo) == []  # the gate tore its fixtures down: nothing for a sweep


def test_a_suite_run_with_ctrl_c_ignored_still_interrupts(tmp_path: Path) -> None:
    """The suite may be started with SIGINT ignored (a background job of a non-interactive
    shell): the interrupt tests must deliver a real Ctrl-C to the run all the same."""
    node = (
        f"{Path(__file__).resolve()}::test_an_interrupted_run_leaves_nothing_after_the_next_run"
        "[ctrl-c]"
    )
    ignore = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "os.execv(sys.executable, [sys.executable, '-m', 'pytest', *sys.argv[1:]])"
    )
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GATEKEEPER_"))}
    env["GATEKEEPER_STATE_DIR"] = str(tmp_path / "state")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            ignore,
            "-p",
            "no:cacheprovider",
            "-q",
            "--basetemp",
            str(tmp_path / "basetemp"),
            "--rootdir",
            str(root),
            "-c",
            str(root / "pyproject.toml"),
            node,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
