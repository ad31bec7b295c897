"""Owner liveness never trusts the host name alone: containers share it (and a PostgreSQL
server or a Neon project) but not their processes or files. A record carries the owner's
machine (boot id, pid and mount namespaces); only an owner on this very machine is judged,
and one whose machine cannot be established is never judged dead."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.resources import owners
from gatekeeper.resources.databases.base import Leftover
from gatekeeper.resources.identity import Identity, machine
from tests.resources.test_owners import run_sweep
from tests.resources.test_sweep import HOLDER_TEST, database_exists, wait_for

# They use (and sweep) the one PostgreSQL server: never beside each other.
pytestmark = pytest.mark.xdist_group("postgres-server")


def dead_here(state: Path) -> dict[str, object]:
    """The record of an owner of this host whose lock is gone from the sweeper's own state dir:
    judged on this machine, that owner is dead."""
    key = Identity("/wt/a", "run1", "gw0").key
    (state / "owners").mkdir(parents=True, exist_ok=True)
    lock = str(state / "owners" / f"{key}.lock")
    return {"owner": key, "host": socket.gethostname(), "lock": lock, "machine": machine()}


def test_machine_names_the_boot_and_the_namespaces() -> None:
    found = machine()
    assert found is not None  # this suite runs on Linux
    boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
    assert found.split(";") == [
        boot,
        str(Path("/proc/self/ns/pid").readlink()),
        str(Path("/proc/self/ns/mnt").readlink()),
    ]
    assert Identity("/wt/a", "r").record()["machine"] == found


def test_only_an_owner_on_this_machine_is_judged(tmp_path: Path) -> None:
    record = dead_here(tmp_path)
    assert not owners.alive(record, tmp_path)
    # Same host name, another pid namespace (another container): its lock is not ours to see.
    boot, _, mounts = str(machine()).split(";")
    elsewhere = {**record, "machine": f"{boot};pid:[1];{mounts}"}
    assert owners.alive(elsewhere, tmp_path)
    # A record whose owner's machine is unknown (written before it was recorded, or where it
    # cannot be read) is never judged dead; its time-to-live decides.
    unknown = {k: v for k, v in record.items() if k != "machine"}
    assert owners.alive(unknown, tmp_path)
    # A worktree-lifetime resource: its worktree is looked for only on the owner's machine.
    gone: dict[str, object] = {"host": socket.gethostname(), "lifetime": "worktree"}
    gone["worktree"] = "/no/such/tree"
    assert not owners.alive({**gone, "machine": machine()}, tmp_path)
    assert owners.alive({**gone, "machine": elsewhere["machine"]}, tmp_path)
    assert owners.alive(gone, tmp_path)


def unshare_prefix() -> list[str]:
    """A command prefix that runs its command in new pid and mount namespaces (as a container
    would), killed with it; skips when this host does not allow that."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    prefix = [unshare, "--pid", "--mount", "--fork", "--kill-child", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make namespaces here: {probe.stderr.strip()}")
    return prefix


def test_a_live_owner_in_another_container_keeps_its_clone(
    worktrees: Callable[..., list[Path]],
    child_env: dict[str, str],
    postgres_admin: str,
    state: Path,
    tmp_path: Path,
) -> None:
    """Two containers with one host name and one PostgreSQL server, each with its own /tmp:
    the same state dir path, different files. The sweep in one must keep the clone of a live
    session in the other."""
    from gatekeeper.resources.databases.postgres import PostgresBackend

    prefix = unshare_prefix()
    config = '\n[tool.gatekeeper.database]\nbackend = "postgres"\n'
    (tree,) = worktrees(1, {"tests/test_hold.py": HOLDER_TEST}, config)
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = tmp_path / "hold.json"
    env = {**child_env, "GATEKEEPER_DATABASE_URL": postgres_admin, "HOLD_OUT": str(out)}
    # The owner's state dir is a private tmpfs at the very path the sweeper uses as its own.
    private = 'mount -t tmpfs -o mode=0700 tmpfs "$GATEKEEPER_STATE_DIR" && exec "$0" "$@"'
    pytest_argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    holder = subprocess.Popen(
        [*prefix, "sh", "-c", private, *pytest_argv, "tests/test_hold.py"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    name = ""
    try:
        name = str(wait_for(out, holder)["database"])
        assert not list(state.iterdir())  # the owner's files are invisible out here
        assert name not in run_sweep(tree, env)
        assert database_exists(postgres_admin, name)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        if name and database_exists(postgres_admin, name):
            backend = PostgresBackend(postgres_admin, 60.0)
            backend.remove(Leftover("postgres", name, "test over"))
            backend.close()
