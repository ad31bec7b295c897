from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gatekeeper.resources import ports
from gatekeeper.resources.identity import Identity, digest
from gatekeeper.resources.locks import ResourceError

SPAN = ports.PortRange(21000, 21099)


def test_preferred_port_is_stable_and_taken_first(state: Path) -> None:
    seed = Identity("/repo/a", "run1", "gw0").seed("web")
    again = Identity("/repo/a", "run2", "gw0").seed("web")  # another run, same worktree+worker
    assert seed == again
    lease = ports.reserve(seed, SPAN, {"owner": "x"})
    assert lease.port == SPAN.preferred(seed)
    lease.release()


def test_workers_of_different_worktrees_get_different_ports(state: Path) -> None:
    leases = [
        ports.reserve(Identity(f"/repo/{wt}", "r", f"gw{n}").seed("p"), SPAN, {})
        for wt in ("a", "b")
        for n in range(4)
    ]
    assert len({lease.port for lease in leases}) == 8
    for lease in leases:
        assert ports.bindable(lease.port)
        lease.release()


def test_a_held_lease_is_skipped_and_freed_on_release(state: Path) -> None:
    first = ports.reserve("seed", SPAN, {})
    second = ports.reserve("seed", SPAN, {})
    assert second.port != first.port
    first.release()
    third = ports.reserve("seed", SPAN, {})
    assert third.port == first.port
    second.release()
    third.release()


def test_a_port_bound_by_someone_else_is_skipped(state: Path) -> None:
    preferred = SPAN.preferred("seed")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", preferred))
        squatter.listen()
        lease = ports.reserve("seed", SPAN, {})
        assert lease.port != preferred
        assert ports.bindable(lease.port)
        lease.release()


def test_an_exhausted_range_is_an_error_naming_the_key(state: Path) -> None:
    tiny = ports.PortRange(21200, 21201)
    held = [ports.reserve("s", tiny, {}), ports.reserve("s", tiny, {})]
    with pytest.raises(ResourceError, match=r"tool.gatekeeper.ports"):
        ports.reserve("s", tiny, {})
    for lease in held:
        lease.release()


def test_a_bad_range_is_refused() -> None:
    with pytest.raises(ResourceError, match="first=30000 last=20000"):
        ports.PortRange(30000, 20000)


def test_named_reservation_persists_until_released(state: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    (worktree / ".git").mkdir(parents=True)
    port = ports.reserve_named(worktree, "web", SPAN)
    assert ports.reserve_named(worktree, "web", SPAN) == port
    assert ports.reserve_named(worktree, "api", SPAN) != port
    # A worker asking for exactly that port's slot never gets it while it is reserved.
    other = ports.reserve(digest(str(worktree.resolve()), "named", "web"), SPAN, {})
    assert other.port != port
    other.release()
    assert ports.release_named(worktree, "web") == port
    assert ports.release_named(worktree, "web") is None


def test_named_reservation_of_a_gone_worktree_is_reclaimed(state: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "gone"
    (worktree / ".git").mkdir(parents=True)
    port = ports.reserve_named(worktree, "web", SPAN)
    (worktree / ".git").rmdir()
    lease = ports.reserve(digest(str(worktree.resolve()), "named", "web"), SPAN, {})
    assert lease.port == port
    lease.release()


def test_pool_gives_each_name_its_own_port_once(state: Path) -> None:
    pool = ports.PortPool("seed", SPAN, {"owner": "o"})
    web, db = pool.get("web"), pool.get("db")
    assert web != db
    assert pool.get("web") == web
    pool.close()
    assert not pool.leases
    assert ports.environ_name("main") == "GATEKEEPER_PORT"
    assert ports.environ_name("web-2") == "GATEKEEPER_PORT_WEB_2"


def test_a_port_taken_only_on_the_ipv6_loopback_is_skipped(state: Path) -> None:
    try:
        squatter = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError as error:
        pytest.skip(f"this host has no IPv6: {error}")
    with squatter:
        try:
            squatter.bind(("::1", 0))
        except OSError as error:
            pytest.skip(f"this host has no IPv6 loopback (::1): {error}")
        squatter.listen()
        port = squatter.getsockname()[1]
        assert not ports.bindable(port)  # free on 127.0.0.1, but a server on ::1 has it
        with pytest.raises(ResourceError, match="every one is reserved or bound"):
            ports.reserve("s", ports.PortRange(port, port), {})
