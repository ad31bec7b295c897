"""PostgreSQL: a template database built once per template content, cloned per worker with
``CREATE DATABASE ... TEMPLATE``.

PostgreSQL refuses to copy a template while any other session is connected to it (SQLSTATE
55006), so clones of one template are serialised with an advisory lock, and nobody connects to
a template once it is built. Admin work runs from the ``postgres`` database given in the admin
URL, never ``template1``. Every database gatekeeper creates carries its marker twice: in its name
(:func:`~gatekeeper.resources.databases.base.marked_name`, there from the moment it exists) and in
``COMMENT ON DATABASE`` with its owner. A database with neither is never dropped; one with a
marked name but somebody else's comment neither.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from gatekeeper.config import Settings
from gatekeeper.errors import ConfigError
from gatekeeper.redaction import redact
from gatekeeper.resources import owners
from gatekeeper.resources.databases import postgres_prepared
from gatekeeper.resources.databases.base import (
    MARKER,
    NAME_PREFIX,
    URL_ENV,
    Database,
    Leftover,
    Template,
    is_marked,
    marked_name,
    marker_record,
)
from gatekeeper.resources.databases.template_key import SESSION
from gatekeeper.resources.identity import Identity
from gatekeeper.resources.locks import ResourceError

if TYPE_CHECKING:
    import psycopg

NAME: Final = "postgres"
TEMPLATE_PREFIX: Final = "gk_tpl_"
# A template's last use is written at most this often (seconds): one statement per clone is
# cheap, one per clone per worker per run is not needed to judge "unused for ttl".
USED_EVERY: Final = 3600.0
# Templates from this size (bytes) are cloned with STRATEGY FILE_COPY, smaller ones with the
# default WAL_LOG. WAL_LOG's cost grows with the size; FILE_COPY's is dominated by the two
# checkpoints it forces (about 1 s on a busy server whatever the size), so it pays off only
# for large templates: measured, WAL_LOG still won at 261 MB (1.9 s against 2.7 s).
FILE_COPY_FROM: Final = 1 << 30


def database_url(admin_url: str, name: str) -> str:
    """``admin_url`` pointing at database ``name`` instead."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "[tool.gatekeeper.database] backend = 'postgres' needs psycopg: "
            "pip install 'pytest-gatekeeper[postgres]'."
        ) from None
    return psycopg


class PostgresBackend:
    """Clones on the server named by an admin URL (a role allowed to CREATE DATABASE)."""

    name = NAME

    def __init__(self, admin_url: str, ttl: float, file_copy_from: int = FILE_COPY_FROM) -> None:
        parts = urlsplit(admin_url)
        if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
            raise ConfigError(
                f"[tool.gatekeeper.database] url (or ${URL_ENV}) must be a postgresql:// URL "
                f"with a host, got {redact(admin_url)!r}."
            )
        self.admin_url = admin_url
        self.ttl = ttl
        self.file_copy_from = file_copy_from
        self._sizes: dict[str, int] = {}  # template name -> bytes, measured once
        self.psycopg = _import_psycopg()
        self._connection: psycopg.Connection[Any] | None = None

    # -- connection ---------------------------------------------------------------------------

    def connection(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            try:
                self._connection = self.psycopg.connect(self.admin_url, autocommit=True)
            except self.psycopg.Error as error:
                raise ResourceError(
                    f"cannot connect to PostgreSQL at {redact(self.admin_url)} "
                    f"([tool.gatekeeper.database] url): {redact(str(error)).strip()}"
                ) from None
        assert self._connection is not None
        return self._connection

    def execute(self, query: Any, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of ``query``; any psycopg error becomes a one-paragraph ResourceError."""
        connection = self.connection()
        try:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []
        except self.psycopg.Error as error:
            raise ResourceError(self._refusal(query, error)) from None

    def _refusal(self, query: Any, error: Exception) -> str:
        shown = query if isinstance(query, str) else _statement(query, self._connection)
        message = redact(str(error), (self.admin_url,)).strip().replace("\n", " ").rstrip(".") + "."
        text = (
            f"PostgreSQL at {redact(self.admin_url)} ([tool.gatekeeper.database] url) refused "
            f"`{shown}`: {message}"
        )
        if isinstance(error, self.psycopg.errors.InsufficientPrivilege):
            text += (
                " The role in the URL needs CREATEDB, and may drop only databases it owns "
                "(a superuser may drop any)."
            )
        return text

    def close(self) -> None:
        """Close the admin connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- templates ----------------------------------------------------------------------------

    # Session-level advisory locks, keyed by a database's name: the server releases them when
    # the holder's connection ends, even when its process was SIGKILLed.

    def lock(self, name: str) -> None:
        """Hold the advisory lock of ``name`` (waiting for its holder, if any)."""
        self.execute("SELECT pg_advisory_lock(%s)", (zlib.crc32(name.encode()),))

    def _try_lock(self, name: str) -> bool:
        rows = self.execute("SELECT pg_try_advisory_lock(%s)", (zlib.crc32(name.encode()),))
        return bool(rows[0][0])

    def unlock(self, name: str) -> None:
        self.execute("SELECT pg_advisory_unlock(%s)", (zlib.crc32(name.encode()),))

    def exists(self, name: str) -> bool:
        return bool(self.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)))

    def comment(self, name: str) -> tuple[bool, str | None]:
        """Whether database ``name`` exists, and its comment (None when it has none)."""
        rows = self.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        )
        return (True, rows[0][0]) if rows else (False, None)

    def marker(self, name: str) -> dict[str, object] | None:
        """The ownership marker of database ``name``; None when it has none (not ours)."""
        return _parse_marker(self.comment(name)[1])

    def _create(self, name: str, record: dict[str, object], template: str | None = None) -> None:
        """Create database ``name`` (a :func:`marked_name`) and record its owner.

        ``CREATE DATABASE`` cannot run in a transaction, so the owner's comment follows it in
        a second statement. Until the comment is written the creator holds the name's advisory
        lock: a sweep that finds a marked name without a comment and can take that lock knows
        the creator died in between (see :meth:`_unrecorded`).
        """
        sql = self.psycopg.sql
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("{} TEMPLATE {}{}").format(
                query, sql.Identifier(template), sql.SQL(self._strategy(template))
            )
        self.lock(name)
        try:
            self.execute(query)
            try:
                self.record(name, record)
            except BaseException:
                with contextlib.suppress(ResourceError):  # the first failure is the one to report
                    self.drop_database(name)
                raise
        finally:
            self.unlock(name)

    def _strategy(self, template: str) -> str:
        """The ``STRATEGY`` clause for cloning ``template``: ``FILE_COPY`` (two checkpoints,
        then a file copy) from ``file_copy_from`` bytes, else ``WAL_LOG`` (the copy written
        through the WAL), which ``benchmarks/clone.py`` measured faster at every size up to
        261 MB on a busy 2-core machine. Nothing before PostgreSQL 15, which lacks both."""
        if self.connection().info.server_version < 150000:
            return ""
        if template not in self._sizes:
            rows = self.execute("SELECT pg_database_size(%s)", (template,))
            self._sizes[template] = int(rows[0][0])
        return " STRATEGY FILE_COPY" if self._sizes[template] >= self.file_copy_from else ""

    def record(self, name: str, record: dict[str, object]) -> None:
        """Store ``record`` as the owner marker of database ``name``."""
        sql = self.psycopg.sql
        comment = MARKER + json.dumps(record, sort_keys=True)
        self.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(comment)
            )
        )

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (its sessions ended first); check its marker before."""
        sql = self.psycopg.sql
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        self.execute(query)

    @staticmethod
    def template_name(template: Template) -> str:
        """The name of the database ``template`` is built as."""
        return f"{TEMPLATE_PREFIX}{template.key}"

    def template(self, template: Template, identity: Identity) -> str:
        """The name of the built template for ``template``; builds it if missing."""
        name = self.template_name(template)
        if self.exists(name):
            return name
        self.lock(name)
        try:
            if not self.exists(name):
                self._build(template, identity, name)
        finally:
            self.unlock(name)
        return name

    def _build(self, template: Template, identity: Identity, name: str) -> None:
        building = marked_name("build", template.key, str(os.getpid()))
        self._create(building, marker_record(identity, self.ttl, "building"))
        try:
            template.build(database_url(self.admin_url, building), (self.admin_url,))
            self.rename(building, name)
        except BaseException:
            # The original failure is the one to report, not a failed clean-up after it.
            with contextlib.suppress(ResourceError):
                self.drop_database(building)
            raise
        record = marker_record(identity, self.ttl, "template")
        record.update(
            expires=None, used=record["created"], basis=template.basis, project=template.project
        )
        self.execute(
            self.psycopg.sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(
                self.psycopg.sql.Identifier(name)
            )
        )
        self.record(name, record)

    # -- clones -------------------------------------------------------------------------------

    def create(self, template: Template, identity: Identity, label: str) -> Database:
        """A clone of the template, named uniquely for ``identity`` and ``label``: one the
        run's session prepared ahead when one is ready, else a new one."""
        name = marked_name(identity.worker, identity.key, label)
        if not postgres_prepared.take(self, template, identity, name):
            source = self._locked_template(template, identity)
            try:
                # One may have become ready while this worker waited for the template.
                if not postgres_prepared.take(self, template, identity, name):
                    self.clone(name, marker_record(identity, self.ttl, "clone"), source)
            finally:
                self.unlock(source)
        return Database(database_url(self.admin_url, name), name, NAME)

    def clone(self, name: str, record: dict[str, object], source: str) -> None:
        """Clone the built template ``source`` (whose clone lock the caller holds) as
        ``name``, owned by ``record``."""
        self._create(name, record, template=source)
        self._used(source)

    def rename(self, name: str, new: str) -> None:
        """Rename database ``name``; raises when it is gone (or in use)."""
        sql = self.psycopg.sql
        self.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(name), sql.Identifier(new)
            )
        )

    def prepare(
        self, template: Template, owner: Identity, count: int, stop: threading.Event
    ) -> list[str]:
        """Clones made ahead for the workers of ``owner``'s run (see ``postgres_prepared``)."""
        return postgres_prepared.prepare(self, template, owner, count, stop)

    def discard_prepared(self, owner: Identity) -> None:
        """Drop the clones ``owner`` prepared that no worker took."""
        postgres_prepared.discard(self, owner)

    def _used(self, template: str) -> None:
        """Record that ``template`` was just cloned (at most once per ``USED_EVERY``): a
        template unused for ``ttl`` is swept."""
        record = self.marker(template)
        used = record.get("used") if record else None
        if record is not None and not (isinstance(used, int | float) and used > _ago(USED_EVERY)):
            self.record(template, {**record, "used": time.time()})

    def _locked_template(self, template: Template, identity: Identity) -> str:
        """The built template, locked: one clone of a template at a time (else SQLSTATE
        55006), and a sweep dropping it meanwhile is seen and the template built again."""
        for _ in range(3):
            source = self.template(template, identity)
            self.lock(source)
            if self.exists(source):
                return source
            self.unlock(source)
        raise ResourceError(f"template {source} kept disappearing while being cloned; retry.")

    def drop(self, database: Database) -> None:
        """Drop a clone; refuses any database without gatekeeper's marker."""
        marker = self.marker(database.name)
        if marker is None:
            if self.exists(database.name):
                raise ResourceError(
                    f"database {database.name} has no gatekeeper marker; it was left alone."
                )
            return
        self.drop_database(database.name)

    def leftovers(self) -> list[Leftover]:
        """Marked clones (and unfinished templates) whose owner is dead or expired, templates
        no longer used, and marked names whose creator died before recording the owner."""
        rows = self.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE shobj_description(oid, 'pg_database') LIKE %s OR datname LIKE %s "
            "ORDER BY datname",
            (MARKER + "%", NAME_PREFIX.replace("_", "\\_") + "%"),
        )
        found: list[Leftover] = []
        for name, comment in rows:
            reason = self._unrecorded(name) if comment is None else self._stale(comment)
            if reason:
                found.append(Leftover(NAME, name, reason))
        return found

    def _stale(self, comment: str | None) -> str:
        """Why the database with ``comment`` goes; empty when it stays (or is not ours)."""
        record = _parse_marker(comment)
        if record is None:
            return ""  # somebody else's comment: not ours, whatever the name says
        if record.get("kind") == "template":
            return self._stale_template(record)
        if owners.expired(record):
            return "time-to-live passed"
        if not owners.alive(record):
            return f"owner {record.get('owner')} is dead"
        return ""

    def _unrecorded(self, name: str) -> str:
        """Why a database without a comment goes: its name carries gatekeeper's marker and
        nobody holds its creation lock, so its creator died between ``CREATE DATABASE`` and
        ``COMMENT ON DATABASE``. Empty: not ours, or still being created."""
        if not is_marked(name) or not self._try_lock(name):
            return ""
        try:
            # Still without one under the lock: the creator may have finished just now.
            unrecorded = self.comment(name) == (True, None)
        finally:
            self.unlock(name)
        return "its creator died before recording its owner" if unrecorded else ""

    def _stale_template(self, record: dict[str, object]) -> str:
        """Why a built template goes: unused for ``ttl``, or it served one session (a project
        outside git without ``inputs``) whose owner is dead. Empty: it stays."""
        used = record.get("used", record.get("created"))
        if isinstance(used, int | float) and used < _ago(self.ttl):
            return "template unused for longer than ttl"
        if record.get("basis") == SESSION and not owners.alive(record):
            return f"template of a finished session (owner {record.get('owner')} is dead)"
        project = record.get("project")
        if isinstance(project, str) and project and _gone(project, record):
            return f"template of a project that is gone ({project})"
        return ""

    def remove(self, leftover: Leftover) -> None:
        """Drop a leftover database once judged again, since things change between listing
        and removing: a template under its clone lock (no clone is being made from it), a
        database whose creator died before recording its owner under its creation lock."""
        exists, comment = self.comment(leftover.name)
        if exists and comment is None:
            self._remove_unrecorded(leftover.name)
        elif exists and _parse_marker(comment) is not None:
            self._remove_recorded(leftover.name)

    def _remove_recorded(self, name: str) -> None:
        template = (self.marker(name) or {}).get("kind") == "template"
        if template:
            self.lock(name)  # its clone lock: no clone is being made from it meanwhile
        try:
            if self._stale(self.comment(name)[1]):
                if template:
                    sql = self.psycopg.sql
                    self.execute(
                        sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(name))
                    )
                self.drop_database(name)
        finally:
            if template:
                self.unlock(name)

    def _remove_unrecorded(self, name: str) -> None:
        if not is_marked(name) or not self._try_lock(name):
            return  # not ours, or a creator holds it: it may be writing the comment now
        try:
            if self.comment(name) == (True, None):
                self.drop_database(name)
        finally:
            self.unlock(name)


def _gone(project: str, record: dict[str, object]) -> bool:
    """Whether the project a template was built for is gone, judged only on the machine that
    built it (another machine's paths prove nothing)."""
    return owners.on_this_machine(record) and not Path(project).exists()


def _ago(seconds: float) -> float:
    return time.time() - seconds


def _statement(query: Any, connection: Any) -> str:
    """The text of a composed statement (identifiers only, never a secret)."""
    try:
        return str(query.as_string(connection))
    except Exception:  # a closed connection cannot quote; the kind of statement still helps
        return type(query).__name__


def _parse_marker(comment: object) -> dict[str, object] | None:
    if not isinstance(comment, str) or not comment.startswith(MARKER):
        return None
    try:
        record = json.loads(comment.removeprefix(MARKER))
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def admin_url(settings: Settings) -> str:
    """``[tool.gatekeeper.database] url``, else ``$GATEKEEPER_DATABASE_URL``; one is required."""
    url = settings.text("database.url") or os.environ.get(URL_ENV, "")
    if not url:
        raise ConfigError(
            "[tool.gatekeeper.database] backend = 'postgres' needs an admin connection URL: set "
            f"[tool.gatekeeper.database] url or ${URL_ENV}."
        )
    return url


def open_backend(settings: Settings) -> PostgresBackend:
    """The PostgreSQL backend for the configured admin URL."""
    ttl = settings.number("database.ttl") or 86400.0
    return PostgresBackend(admin_url(settings), ttl)
