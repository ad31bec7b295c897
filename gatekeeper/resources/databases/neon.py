"""Neon: per-worker databases as branches, over Neon's HTTP API v2.

A Neon branch is a copy-on-write copy of its parent branch, made in about a second whatever the
size. Two layouts, chosen by ``[tool.gatekeeper.database] neon-mode``:

- ``database`` (default): one branch per run, made from the parent by the run's first worker;
  each worker gets its own database in it; the run's last worker deletes the branch. Costs one
  branch per concurrent run, which matters because a free plan caps a project at 10 branches.
- ``branch``: one branch per worker, each a copy of the parent's data, using
  ``neon-database`` inside it.

Every branch gatekeeper makes carries ``expires_at`` (Neon deletes it by itself once the
time-to-live passes, even if every machine of ours died) and an annotation
``{"gatekeeper": "1", owner metadata...}``. Only branches with that annotation are ever deleted.
Neon cannot copy one database into another, so ``setup`` runs once for each new database.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from gatekeeper.config import Settings
from gatekeeper.errors import ConfigError
from gatekeeper.resources import owners
from gatekeeper.resources.databases.base import Database, Leftover, Template, safe_name
from gatekeeper.resources.databases.neon_api import KEY_ENV, NeonApi
from gatekeeper.resources.identity import Identity, digest, machine
from gatekeeper.resources.locks import ResourceError, acquire, state_dir

NAME: Final = "neon"
MAX_TTL: Final = 30 * 86400.0  # Neon refuses an expires_at more than 30 days out
PAGE: Final = 100
# gk_<worker>_<owner key>_<label>: the owner of a worker's database, read back by the sweep.
_DATABASE_OWNER: Final = re.compile(r"^gk_[a-z0-9_]*?_([0-9a-f]{16})_")
# Neon's limits on ``annotation_value``: properties, and characters per (string) value.
ANNOTATION_PROPERTIES: Final = 50
ANNOTATION_VALUE: Final = 50
_CONTINUATION: Final = re.compile(r"^.+_[1-9][0-9]*$")


@dataclass(frozen=True, slots=True)
class Made:
    """Where a database this backend created lives: its branch, and its database when the
    branch is shared by the run (``None`` when the whole branch is the worker's)."""

    branch_id: str
    database: str | None
    lock: str = ""


def annotation(identity: Identity, kind: str, expires: float) -> dict[str, str]:
    """The annotation that marks a branch as gatekeeper's: the owner record as strings.

    Neon takes at most 50 properties of at most 50 characters each. A longer value (the owner
    lock's absolute path, a deep worktree) is split over ``key``, ``key_1``, ``key_2``... and
    joined again by :func:`_record`; a hash of the lock path would not do, since finding the
    lock from it needs an index in some state dir, which is the very thing that differs
    between the owner and the sweeper. A record that still does not fit is refused.
    """
    record = {**identity.record(), "kind": kind, "expires": f"{expires:.0f}"}
    flat: dict[str, str] = {}
    for key, value in record.items():
        if value is not None:
            flat.update(_split(key, str(value)))
    if len(flat) > ANNOTATION_PROPERTIES:
        raise ResourceError(
            f"the owner record of {identity.worktree} does not fit a Neon annotation "
            f"({len(flat)} properties of {ANNOTATION_VALUE} characters, at most "
            f"{ANNOTATION_PROPERTIES}): shorten GATEKEEPER_STATE_DIR or the worktree's path."
        )
    return flat


def _split(key: str, value: str) -> dict[str, str]:
    parts = [value[at : at + ANNOTATION_VALUE] for at in range(0, len(value), ANNOTATION_VALUE)]
    return {key if index == 0 else f"{key}_{index}": part for index, part in enumerate(parts)}


def _join(flat: dict[str, str]) -> dict[str, str]:
    """The record :func:`_split` flattened: every ``key_N`` appended to ``key`` in order."""
    joined: dict[str, str] = {}
    for key, value in flat.items():
        if _CONTINUATION.match(key) and key.rpartition("_")[0] in flat:
            continue
        parts, index = [value], 1
        while f"{key}_{index}" in flat:
            parts.append(flat[f"{key}_{index}"])
            index += 1
        joined[key] = "".join(parts)
    return joined


def rfc3339(epoch: float) -> str:
    """``epoch`` as Neon's ``expires_at``: RFC 3339, UTC, second precision."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_of(stamp: object) -> float | None:
    """An RFC 3339 timestamp (or epoch string) as seconds since the epoch; None if not one."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return float(stamp)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


class NeonBackend:
    """Branches (and databases in them) of one Neon project, made from ``parent``."""

    name = NAME

    def __init__(
        self,
        api: NeonApi,
        project: str,
        *,
        parent: str = "",
        mode: str = "database",
        role: str = "neondb_owner",
        database: str = "neondb",
        ttl: float = 86400.0,
        state: Path | None = None,
    ) -> None:
        self.api = api
        self.project = project
        self.parent = parent
        self.mode = mode
        self.role = role
        self.database = database
        self.ttl = ttl
        self.state = state
        self.made: dict[str, Made] = {}

    def __repr__(self) -> str:
        return f"NeonBackend(project={self.project!r}, mode={self.mode!r}, api={self.api!r})"

    @property
    def path(self) -> str:
        return f"/projects/{self.project}"

    # -- create -------------------------------------------------------------------------------

    def create(self, template: Template, identity: Identity, label: str) -> Database:
        """A database for ``identity`` and ``label``: a new branch (``branch`` mode) or a new
        database in the run's branch (``database`` mode), filled by ``template``."""
        if self.mode == "branch":
            name = f"gatekeeper-{identity.worktree_key}-{identity.run}-{identity.worker}-{label}"
            made = Made(self._create_branch(name, identity, "worker"), None)
            database_name = self.database
        else:
            name = safe_name("gk", identity.worker, identity.key, label)
            made = self._create_database(name, identity)
            database_name = name
        self.made[name] = made
        try:
            url = self.connection_uri(made.branch_id, database_name)
            template.build(url, self.api.secrets)
        except BaseException:
            with contextlib.suppress(ResourceError):  # the first error is the one to report
                self.drop(Database("", name, NAME))
            raise
        return Database(url, name, NAME)

    def _create_branch(self, name: str, identity: Identity, kind: str) -> str:
        expires = time.time() + self.ttl
        branch: dict[str, str] = {"name": name, "expires_at": rfc3339(expires)}
        if self.parent:
            branch["parent_id"] = self.parent
        body = {
            "branch": branch,
            "endpoints": [{"type": "read_write"}],
            "annotation_value": annotation(identity, kind, expires),
        }
        answer = self.api.call("POST", f"{self.path}/branches", body=body)
        self.api.wait(self.project, answer.get("operations") or [])
        return str(answer["branch"]["id"])

    def _create_database(self, name: str, identity: Identity) -> Made:
        lock = digest(self.project, identity.worktree, identity.run)[:16]
        with self._run_lock(lock):
            branch_id = self._run_branch(identity)
            body = {"database": {"name": name, "owner_name": self.role}}
            answer = self.api.call("POST", f"{self.path}/branches/{branch_id}/databases", body=body)
            self.api.wait(self.project, answer.get("operations") or [])
        return Made(branch_id, name, lock)

    def _run_branch(self, identity: Identity) -> str:
        """The run's shared branch, made now by the first worker that asks."""
        name = f"gatekeeper-{identity.worktree_key}-{identity.run}"
        for branch, record in self.branches(search=name):
            if branch.get("name") == name and record is not None:
                return str(branch["id"])
        return self._create_branch(name, identity, "run")

    @contextmanager
    def _run_lock(self, key: str) -> Iterator[None]:
        """Workers of one run make and delete its branch one at a time (one host)."""
        held = acquire((self.state or state_dir()) / "neon" / f"{key}.lock", wait=True)
        assert held is not None  # a blocking acquire always returns a lock
        try:
            yield
        finally:
            held.release()

    def connection_uri(self, branch_id: str, database: str) -> str:
        """The connection URI of ``database`` on ``branch_id`` for the configured role."""
        params = {
            "branch_id": branch_id,
            "database_name": database,
            "role_name": self.role,
            "pooled": "false",
        }
        answer = self.api.call("GET", f"{self.path}/connection_uri", params=params)
        return str(answer["uri"])

    # -- drop ---------------------------------------------------------------------------------

    def drop(self, database: Database) -> None:
        """Delete a database this backend made: its branch, or its database in the run's
        branch (and the branch too once no live worker of the run uses it)."""
        made = self.made.pop(database.name, None)
        if made is None:
            raise ResourceError(
                f"Neon database {database.name} was not made by this session; left alone "
                "(`gatekeeper sweep` removes gatekeeper's leftovers)."
            )
        if made.database is None:
            self.delete_branch(made.branch_id)
            return
        with self._run_lock(made.lock):
            path = f"{self.path}/branches/{made.branch_id}/databases/{made.database}"
            answer = self.api.call("DELETE", path)
            self.api.wait(self.project, answer.get("operations") or [])
            if not self._live_databases(made.branch_id):
                self.delete_branch(made.branch_id)

    def _live_databases(self, branch_id: str, folder: Path | None = None) -> list[str]:
        """gatekeeper's databases in a branch whose owner on this host still runs.

        A database's name carries only its owner's key. Every worker of a run shares the run's
        state dir, so ``folder`` is the ``owners`` folder of the lock recorded on the run's
        branch; without one, the owners are looked for in this process's state dir.
        """
        answer = self.api.call("GET", f"{self.path}/branches/{branch_id}/databases")
        live: list[str] = []
        for entry in answer.get("databases") or []:
            match = _DATABASE_OWNER.match(str(entry.get("name", "")))
            if match and owners.alive(_database_owner(match.group(1), folder), self.state):
                live.append(str(entry["name"]))
        return live

    def delete_branch(self, branch_id: str) -> None:
        """Delete a branch and wait for Neon to finish (a branch with children is refused)."""
        answer = self.api.call("DELETE", f"{self.path}/branches/{branch_id}")
        self.api.wait(self.project, answer.get("operations") or [])

    # -- listing and sweep --------------------------------------------------------------------

    def branches(self, search: str = "") -> Iterator[tuple[dict[str, Any], dict[str, str] | None]]:
        """Every branch of the project with gatekeeper's annotation record (None if not ours),
        page by page."""
        cursor = ""
        while True:
            answer = self._page(search, cursor)
            annotations = answer.get("annotations") or {}
            page = answer.get("branches") or []
            for branch in page:
                yield branch, _record(annotations.get(branch.get("id")))
            following = str((answer.get("pagination") or {}).get("next") or "")
            if not page or not following or following == cursor:
                return
            cursor = following

    def _page(self, search: str, cursor: str) -> dict[str, Any]:
        params = {"limit": str(PAGE), "sort_by": "name", "sort_order": "asc"}
        if search:
            params["search"] = search
        if cursor:
            params["cursor"] = cursor
        return self.api.call("GET", f"{self.path}/branches", params=params)

    def record_of(self, branch_id: str) -> dict[str, str] | None:
        """gatekeeper's annotation record of one branch; None when it has none or is gone."""
        for branch, record in self.branches(search=branch_id):
            if branch.get("id") == branch_id:
                return record
        return None

    def leftovers(self) -> list[Leftover]:
        """gatekeeper's branches whose time-to-live passed or whose owner is dead. Branches
        without gatekeeper's annotation, and branches with children, are never listed."""
        listed = list(self.branches())
        parents = {str(branch.get("parent_id")) for branch, _ in listed}
        found: list[Leftover] = []
        for branch, record in listed:
            if record is None or branch.get("id") in parents:
                continue
            reason = self._stale(branch, record)
            if reason:
                found.append(Leftover(NAME, str(branch["id"]), f"{branch.get('name')}: {reason}"))
        return found

    def _stale(self, branch: dict[str, Any], record: dict[str, str]) -> str:
        now = time.time()
        expiries = (epoch_of(branch.get("expires_at")), epoch_of(record.get("expires")))
        if any(expires is not None and expires < now for expires in expiries):
            return "time-to-live passed"
        if owners.alive(dict(record), self.state):
            return ""
        lock = owners.recorded_lock(dict(record))
        folder = lock.parent if lock else None
        if record.get("kind") == "run" and self._live_databases(str(branch["id"]), folder):
            return ""  # the run's first worker is gone, others still use the branch
        return f"owner {record.get('owner')} is dead"

    def remove(self, leftover: Leftover) -> None:
        """Delete a leftover branch, checking once more that it carries gatekeeper's
        annotation (a branch already gone is fine)."""
        if self.record_of(leftover.name) is not None:
            self.delete_branch(leftover.name)

    def close(self) -> None:
        """Close the API client."""
        self.api.close()


def _database_owner(key: str, folder: Path | None) -> dict[str, object]:
    # Every worker of a run runs where its maker does: this machine, judged by the caller.
    record: dict[str, object] = {"owner": key, "host": socket.gethostname(), "machine": machine()}
    if folder is not None:
        record["lock"] = str(folder / f"{key}.lock")
    return record


def _record(entry: object) -> dict[str, str] | None:
    """gatekeeper's record from one ``annotations`` entry; None for anybody else's branch."""
    value = entry.get("value") if isinstance(entry, dict) else None
    if not isinstance(value, dict) or value.get("gatekeeper") != "1":
        return None
    return _join({str(key): str(item) for key, item in value.items()})


def open_backend(settings: Settings) -> NeonBackend:
    """The Neon backend for ``[tool.gatekeeper.database] neon-project``, with the API key
    from ``$NEON_API_KEY`` (never from a file, so it cannot be committed)."""
    project = settings.text("database.neon-project")
    if not project:
        raise ConfigError(
            "[tool.gatekeeper.database] backend = 'neon' needs the project id: set "
            "[tool.gatekeeper.database] neon-project (Neon console, Settings)."
        )
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ConfigError(
            f"[tool.gatekeeper.database] backend = 'neon' needs an API key in ${KEY_ENV}."
        )
    ttl = settings.number("database.ttl") or 86400.0
    if not 0 < ttl <= MAX_TTL:
        raise ConfigError(
            f"[tool.gatekeeper.database] ttl = {ttl:g} does not fit Neon: a branch may expire "
            f"at most {MAX_TTL:.0f} seconds (30 days) from now."
        )
    return NeonBackend(
        NeonApi(key, settings.text("database.neon-api")),
        project,
        parent=settings.text("database.neon-parent"),
        mode=settings.text("database.neon-mode"),
        role=settings.text("database.neon-role"),
        database=settings.text("database.neon-database"),
        ttl=ttl,
    )
