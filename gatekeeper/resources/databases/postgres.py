"""PostgreSQL: a template database built once per template content, cloned per worker with
``CREATE DATABASE ... TEMPLATE``.

PostgreSQL refuses to copy a template while any other session is connected to it (SQLSTATE
55006), so clones of one template are serialised with an advisory lock, and nobody connects to
a template once it is built. Admin work runs from the ``postgres`` database given in the admin
URL, never ``template1``. Every database gatekeeper creates carries ``COMMENT ON DATABASE`` with
its marker and owner; a database without that marker is never dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zlib
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from gatekeeper.config import Settings
from gatekeeper.errors import ConfigError
from gatekeeper.redaction import redact
from gatekeeper.resources import owners
from gatekeeper.resources.databases.base import (
    MARKER,
    URL_ENV,
    Database,
    Leftover,
    Template,
    marker_record,
    safe_name,
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

    def __init__(self, admin_url: str, ttl: float) -> None:
        parts = urlsplit(admin_url)
        if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
            raise ConfigError(
                f"[tool.gatekeeper.database] url (or ${URL_ENV}) must be a postgresql:// URL "
                f"with a host, got {redact(admin_url)!r}."
            )
        self.admin_url = admin_url
        self.ttl = ttl
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

    def _lock(self, name: str) -> None:
        self.execute("SELECT pg_advisory_lock(%s)", (zlib.crc32(name.encode()),))

    def _unlock(self, name: str) -> None:
        self.execute("SELECT pg_advisory_unlock(%s)", (zlib.crc32(name.encode()),))

    def exists(self, name: str) -> bool:
        return bool(self.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)))

    def marker(self, name: str) -> dict[str, object] | None:
        """The ownership marker of database ``name``; None when it has none (not ours)."""
        rows = self.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        )
        return _parse_marker(rows[0][0]) if rows else None

    def _create(self, name: str, record: dict[str, object], template: str | None = None) -> None:
        sql = self.psycopg.sql
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        self.execute(query)
        self._comment(name, record)

    def _comment(self, name: str, record: dict[str, object]) -> None:
        """Store ``record`` as the owner marker of database ``name``."""
        sql = self.psycopg.sql
        comment = MARKER + json.dumps(record, sort_keys=True)
        self.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(comment)
            )
        )

    def _drop(self, name: str) -> None:
        sql = self.psycopg.sql
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        self.execute(query)

    def template(self, template: Template, identity: Identity) -> str:
        """The name of the built template for ``template``; builds it if missing."""
        name = f"{TEMPLATE_PREFIX}{template.key}"
        if self.exists(name):
            return name
        self._lock(name)
        try:
            if not self.exists(name):
                self._build(template, identity, name)
        finally:
            self._unlock(name)
        return name

    def _build(self, template: Template, identity: Identity, name: str) -> None:
        building = safe_name("gk_build", template.key, str(os.getpid()))
        self._create(building, marker_record(identity, self.ttl, "building"))
        try:
            template.build(database_url(self.admin_url, building), (self.admin_url,))
            sql = self.psycopg.sql
            self.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(building), sql.Identifier(name)
                )
            )
        except BaseException:
            # The original failure is the one to report, not a failed clean-up after it.
            with contextlib.suppress(ResourceError):
                self._drop(building)
            raise
        record = marker_record(identity, self.ttl, "template")
        record.update(expires=None, used=record["created"], basis=template.basis)
        self.execute(
            self.psycopg.sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(
                self.psycopg.sql.Identifier(name)
            )
        )
        self._comment(name, record)

    # -- clones -------------------------------------------------------------------------------

    def create(self, template: Template, identity: Identity, label: str) -> Database:
        """A clone of the template, named uniquely for ``identity`` and ``label``."""
        name = safe_name("gk", identity.worker, identity.key, label)
        source = self._locked_template(template, identity)
        try:
            self._create(name, marker_record(identity, self.ttl, "clone"), template=source)
            self._used(source)
        finally:
            self._unlock(source)
        return Database(database_url(self.admin_url, name), name, NAME)

    def _used(self, template: str) -> None:
        """Record that ``template`` was just cloned (at most once per ``USED_EVERY``): a
        template unused for ``ttl`` is swept."""
        record = self.marker(template)
        used = record.get("used") if record else None
        if record is not None and not (isinstance(used, int | float) and used > _ago(USED_EVERY)):
            self._comment(template, {**record, "used": time.time()})

    def _locked_template(self, template: Template, identity: Identity) -> str:
        """The built template, locked: one clone of a template at a time (else SQLSTATE
        55006), and a sweep dropping it meanwhile is seen and the template built again."""
        for _ in range(3):
            source = self.template(template, identity)
            self._lock(source)
            if self.exists(source):
                return source
            self._unlock(source)
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
        self._drop(database.name)

    def leftovers(self) -> list[Leftover]:
        """Marked clones (and unfinished templates) whose owner is dead or expired."""
        rows = self.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE shobj_description(oid, 'pg_database') LIKE %s ORDER BY datname",
            (MARKER + "%",),
        )
        found: list[Leftover] = []
        for name, comment in rows:
            record = _parse_marker(comment)
            if record is None:
                continue
            if record.get("kind") == "template":
                reason = self._stale_template(record)
                if reason:
                    found.append(Leftover(NAME, name, reason))
                continue
            if owners.expired(record):
                found.append(Leftover(NAME, name, "time-to-live passed"))
            elif not owners.alive(record):
                found.append(Leftover(NAME, name, f"owner {record.get('owner')} is dead"))
        return found

    def _stale_template(self, record: dict[str, object]) -> str:
        """Why a built template goes: unused for ``ttl``, or it served one session (a project
        outside git without ``inputs``) whose owner is dead. Empty: it stays."""
        used = record.get("used", record.get("created"))
        if isinstance(used, int | float) and used < _ago(self.ttl):
            return "template unused for longer than ttl"
        if record.get("basis") == SESSION and not owners.alive(record):
            return f"template of a finished session (owner {record.get('owner')} is dead)"
        return ""

    def remove(self, leftover: Leftover) -> None:
        """Drop a leftover database, checking its marker once more first; a template under
        its clone lock, so no clone is being made from it meanwhile."""
        marker = self.marker(leftover.name)
        if marker is None:
            return
        if marker.get("kind") != "template":
            self._drop(leftover.name)
            return
        self._lock(leftover.name)
        try:
            sql = self.psycopg.sql
            self.execute(
                sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(leftover.name))
            )
            self._drop(leftover.name)
        finally:
            self._unlock(leftover.name)


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
