"""Neon branches name their owner's lock within Neon's annotation limits, and a sweep with
another state dir judges the owner by that lock (against the local stand-in of Neon's API)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.resources import owners
from gatekeeper.resources.databases.neon import annotation
from gatekeeper.resources.identity import Identity
from gatekeeper.resources.locks import Held, ResourceError
from gatekeeper.resources.sweep import sweep
from tests.resources.databases.neon_standin import NeonStandIn
from tests.resources.databases.test_neon import PROJECT, backend_for, empty, ours, standin

__all__ = ["standin"]  # the fixture, imported so pytest finds it here

DEEP = "/" + "/".join(f"folder{n:02d}" for n in range(12))  # a worktree path of 108 characters


def claimed(state: Path, identity: Identity) -> tuple[Identity, Held]:
    held = owners.claim(identity, state)
    return owners.owned(identity, held), held


def test_annotation_values_fit_neon_and_read_back_whole(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    owner_state = tmp_path / "a-state-dir-with-a-rather-long-name" / "below-it"
    identity, held = claimed(owner_state, Identity(DEEP, "run1", "gw0", "feature"))
    try:
        flat = annotation(identity, "worker", 2e9)
        assert all(len(value) <= 50 for value in flat.values()) and len(flat) <= 50
        backend = backend_for(standin)  # the stand-in refuses values over 50 characters
        backend.create(empty(tmp_path), identity, "main")
        (branch,) = ours(standin.projects[PROJECT])
        record = backend.record_of(branch)
        assert record is not None
        assert record["lock"] == str(held.path) and len(record["lock"]) > 50
        assert record["worktree"] == DEEP and record["owner"] == identity.key
        assert not any(key.startswith(("lock_", "worktree_")) for key in record)
        backend.close()
    finally:
        held.release()
    with pytest.raises(ResourceError, match="does not fit a Neon annotation"):
        annotation(Identity("/" + "x" * 3000, "r"), "worker", 2e9)


def test_a_sweep_with_another_state_dir_keeps_a_live_owners_branch(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    identity, held = claimed(tmp_path / "a", Identity("/wt/a", "run1", "gw0"))
    backend = backend_for(standin)
    backend.create(empty(tmp_path), identity, "main")
    (branch,) = ours(standin.projects[PROJECT])
    assert not [left for left in sweep([backend], state) if left.backend == "neon"]
    assert branch in standin.projects[PROJECT].branches
    held.release()  # the owner under state dir a dies
    removed = [left.name for left in sweep([backend], state) if left.backend == "neon"]
    assert removed == [branch]
    assert branch not in standin.projects[PROJECT].branches
    backend.close()


def test_a_runs_branch_lives_while_any_worker_under_its_state_dir_does(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    run_state = tmp_path / "a"
    first, first_held = claimed(run_state, Identity("/wt/a", "run1", "gw0"))
    second, second_held = claimed(run_state, Identity("/wt/a", "run1", "gw1"))
    backend = backend_for(standin, mode="database")
    backend.create(empty(tmp_path), first, "main")
    backend.create(empty(tmp_path), second, "main")
    (branch,) = ours(standin.projects[PROJECT])
    first_held.release()  # the branch's maker dies; gw1, under state dir a, still runs
    assert not [left for left in sweep([backend], state) if left.backend == "neon"]
    second_held.release()
    removed = [left.name for left in sweep([backend], state) if left.backend == "neon"]
    assert removed == [branch]
    backend.close()
