"""Owner liveness across state dirs: a resource records the absolute path of its owner's lock,
and every sweep, whatever its own state dir, judges the owner by that lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.resources import owners, ports
from gatekeeper.resources.databases.base import Template
from gatekeeper.resources.databases.sqlite import OWNER_FILE, SqliteBackend
from gatekeeper.resources.identity import WORKTREE, Identity, machine
from gatekeeper.resources.locks import Held, read_record
from tests.resources.test_sweep import HOLDER_TEST, database_exists, wait_for

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")


def run_sweep(tree: Path, env: dict[str, str]) -> str:
    """What ``gatekeeper sweep`` run in ``tree`` prints; it must succeed."""
    gatekeeper = [str(Path(sys.executable).parent / "gatekeeper"), "sweep"]
    done = subprocess.run(
        gatekeeper, cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def claimed(state: Path, worker: str = "gw0") -> tuple[Identity, Held]:
    """An identity whose owner lock is held (by this process) in ``state``."""
    identity = Identity("/wt/a", "run1", worker)
    held = owners.claim(identity, state)
    return owners.owned(identity, held), held


def test_record_carries_the_absolute_lock_path(tmp_path: Path) -> None:
    identity, held = claimed(tmp_path / "a")
    try:
        lock = identity.record()["lock"]
        assert lock == str(tmp_path / "a" / "owners" / f"{identity.key}.lock")
        assert Path(str(lock)).is_absolute()
        assert owners.recorded_lock(identity.record()) == Path(str(lock))
    finally:
        held.release()
    worktree = Identity("/wt/a", "wt", "wt", lifetime=WORKTREE, lock="/x/owners/k.lock")
    assert worktree.record()["lock"] is None  # a worktree-lifetime resource has no owner process


def test_sqlite_sidecar_and_port_lease_name_the_owner_lock(state: Path, tmp_path: Path) -> None:
    identity, held = claimed(tmp_path / "a")
    backend = SqliteBackend(60.0)
    pool = ports.PortPool(identity.seed("ports"), ports.PortRange(), identity.record())
    try:
        database = backend.create(Template("k", "", tmp_path), identity, "main")
        sidecar = Path(database.url.removeprefix("sqlite:///")).parent / OWNER_FILE
        assert json.loads(sidecar.read_text())["lock"] == str(held.path)
        lease = read_record(ports.lock_path(pool.get("web")))
        assert lease["lock"] == str(held.path) and lease["name"] == "web"
        assert [left.name for left in backend.leftovers()] == []  # judged by a's held lock
        held.release()
        assert [left.name for left in backend.leftovers()] == [str(sidecar.parent)]
    finally:
        pool.close()
        held.release()


def test_a_held_lock_in_another_state_dir_is_alive_and_a_free_one_dead(tmp_path: Path) -> None:
    identity, held = claimed(tmp_path / "a")
    record = identity.record()
    sweeper = tmp_path / "b"
    assert owners.alive(record, sweeper)
    assert not (sweeper / "owners").exists()  # judging never creates anything
    held.release()
    assert not owners.alive(record, sweeper)
    assert Path(str(record["lock"])).exists()  # the file stays; only its flock is gone


def test_a_missing_lock_is_dead_only_in_the_sweepers_own_dir_or_a_gone_dir(
    tmp_path: Path,
) -> None:
    own, other = tmp_path / "own", tmp_path / "other"
    key = Identity("/wt/a", "run1", "gw0").key
    base: dict[str, object] = {"owner": key, "host": socket.gethostname(), "machine": machine()}
    (own / "owners").mkdir(parents=True)
    (other / "owners").mkdir(parents=True)
    in_own = {**base, "lock": str(own / "owners" / f"{key}.lock")}
    in_other = {**base, "lock": str(other / "owners" / f"{key}.lock")}
    in_gone = {**base, "lock": str(tmp_path / "gone" / "owners" / f"{key}.lock")}
    assert not owners.alive(in_own, own)
    assert not owners.alive(in_gone, own)
    # Another state dir that exists but lacks the file: nobody can tell; the time-to-live decides.
    assert owners.alive(in_other, own)
    assert not (other / "owners" / f"{key}.lock").exists()


def test_records_without_a_lock_path_fall_back_to_the_sweepers_own_dir(tmp_path: Path) -> None:
    identity, held = claimed(tmp_path / "a")
    old = {k: v for k, v in identity.record().items() if k != "lock"}
    try:
        assert owners.alive(old, tmp_path / "a")
        assert not owners.alive(old, tmp_path / "b")  # the old rule: only its own dir counts
        mismatched = {**identity.record(), "lock": str(tmp_path / "a" / "owners" / "other.lock")}
        assert owners.alive(mismatched, tmp_path / "a")  # a lock not named for the owner: old rule
    finally:
        held.release()


def test_live_owner_in_another_state_dir_keeps_its_clone_until_it_dies(
    worktrees: Callable[..., list[Path]],
    child_env: dict[str, str],
    postgres_admin: str,
    state: Path,
    tmp_path: Path,
) -> None:
    """The CI flake: two runs with different state dirs against one PostgreSQL server. A sweep
    under state dir B must keep the clone of a live owner under A, and remove it once A's owner
    is SIGKILLed."""
    config = '\n[tool.gatekeeper.database]\nbackend = "postgres"\n'
    (tree,) = worktrees(1, {"tests/test_hold.py": HOLDER_TEST}, config)
    out = tmp_path / "hold.json"
    owner_env = {
        **child_env,
        "GATEKEEPER_STATE_DIR": str(tmp_path / "state-a"),
        "GATEKEEPER_DATABASE_URL": postgres_admin,
        "HOLD_OUT": str(out),
    }
    holder = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_hold.py"],
        cwd=tree,
        env=owner_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sweeper_env = {**child_env, "GATEKEEPER_DATABASE_URL": postgres_admin}  # state dir B
    try:
        name = str(wait_for(out, holder)["database"])
        assert name not in run_sweep(tree, sweeper_env)
        assert database_exists(postgres_admin, name)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert f"removed postgres {name}" in run_sweep(tree, sweeper_env)
    assert not database_exists(postgres_admin, name)
    assert state != tmp_path / "state-a"
