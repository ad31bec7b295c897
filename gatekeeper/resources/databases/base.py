"""The database backend protocol, the values it trades in, and the registry of backends."""

from __future__ import annotations

import hashlib
import importlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from gatekeeper.config import Settings
from gatekeeper.errors import ConfigError
from gatekeeper.redaction import redact
from gatekeeper.resources.databases.template_key import (
    EMPTY,
    INPUTS,
    content,
    project_identity,
    template_key,
)
from gatekeeper.resources.identity import WORKTREE, Identity
from gatekeeper.resources.locks import ResourceError
from gatekeeper.setup_environment import run_setup_command, setup_environment

if TYPE_CHECKING:
    import pluggy

URL_ENV: Final = "GATEKEEPER_DATABASE_URL"
# Marks every database, file and branch gatekeeper creates; nothing without it is ever dropped.
MARKER: Final = "gatekeeper:"
SETUP_TIMEOUT: Final = 600.0
SETUP_TAIL: Final = 15  # lines of a failed setup's output shown
NAME_PREFIX: Final = "gk_"
NAME_TAG: Final = 8  # hex digits of a marked name's tag: a chance match is 1 in 4 billion


@dataclass(frozen=True, slots=True, repr=False)
class Database:
    """A database a worker may use freely: ``url`` to connect, ``name``, and its ``backend``.

    Its repr masks the URL's password: pytest prints the repr of a fixture value in a failing
    assertion, and that output ends up in CI logs.
    """

    url: str
    name: str
    backend: str

    def __repr__(self) -> str:
        return f"Database(url={redact(self.url)!r}, name={self.name!r}, backend={self.backend!r})"


@dataclass(frozen=True, slots=True)
class Leftover:
    """A resource of gatekeeper's that the sweep removes: what it is and why."""

    backend: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Template:
    """What every worker's database starts from.

    ``key`` is a digest of the project and of what the template is built from (see
    :mod:`~gatekeeper.resources.databases.template_key`; ``basis`` says which), so a schema
    change gives a new template. ``setup`` is a shell command run with ``DATABASE_URL``
    pointing at the template; ``hooks`` are callables given the template's URL (pluggy hook
    results).
    """

    key: str
    setup: str
    cwd: Path
    hooks: tuple[Callable[[str], None], ...] = field(default=())
    basis: str = INPUTS
    # The project it was built for (its common git dir or root); empty when it serves any.
    project: str = ""

    def build(self, url: str, secrets: Iterable[str] = ()) -> None:
        """Fill the template at ``url``; a failing setup raises with its (redacted) output."""
        if self.setup:
            _run_setup(self.setup, self.cwd, url, tuple(secrets))
        for hook in self.hooks:
            hook(url)


def _run_setup(command: str, cwd: Path, url: str, secrets: tuple[str, ...]) -> None:
    shown = redact(command, (url, *secrets))
    env = setup_environment({"DATABASE_URL": url})
    key = "[tool.gatekeeper.database] setup"
    run_setup_command(
        command,
        cwd,
        env,
        (SETUP_TIMEOUT, SETUP_TAIL),
        (url, *secrets),
        timed_out=lambda: ResourceError(f"{key} `{shown}` ran longer than {SETUP_TIMEOUT:.0f}s."),
        failed=lambda status, tail: ResourceError(
            f"{key} `{shown}` failed with exit status {status} while building the template "
            f"database: {tail}"
        ),
    )


def marker_record(identity: Identity, ttl: float, kind: str) -> dict[str, object]:
    """Owner metadata stored with a database: who made it, what it is, when it expires."""
    now = time.time()
    # A worktree's own database lives as long as the worktree: no time-to-live.
    expires = None if identity.lifetime == WORKTREE else now + ttl
    return {**identity.record(), "kind": kind, "created": now, "expires": expires}


def safe_name(*parts: str, limit: int = 63) -> str:
    """A lowercase name of ``[a-z0-9_]`` within ``limit`` bytes (PostgreSQL's is 63)."""
    raw = "_".join(parts).lower()
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in raw)
    if len(cleaned) <= limit:
        return cleaned
    tail = hashlib.sha256(cleaned.encode()).hexdigest()[:10]
    return f"{cleaned[: limit - 11]}_{tail}"


def marked_name(*parts: str, limit: int = 63) -> str:
    """``gk_<parts>_<tag>``: a name that carries gatekeeper's marker itself, the tag being a
    digest of the rest. A database exists under its name the moment it is created, before any
    comment or sidecar can say whose it is; a name marked so is recognised even then."""
    body = safe_name(*parts, limit=limit - len(NAME_PREFIX) - NAME_TAG - 1)
    return f"{NAME_PREFIX}{body}_{_name_tag(body)}"


def is_marked(name: str) -> bool:
    """Whether ``name`` was made by :func:`marked_name` (its tag matches the rest)."""
    body, _, tag = name.removeprefix(NAME_PREFIX).rpartition("_")
    return name.startswith(NAME_PREFIX) and bool(body) and tag == _name_tag(body)


def _name_tag(body: str) -> str:
    return hashlib.sha256(f"{MARKER}{body}".encode()).hexdigest()[:NAME_TAG]


@runtime_checkable
class Backend(Protocol):
    """A kind of database server. Implementations create only marked resources and drop only
    resources carrying gatekeeper's marker."""

    name: str

    def create(self, template: Template, identity: Identity, label: str) -> Database:
        """A new database for ``identity``, copied from ``template`` (built first if needed)."""
        ...

    def drop(self, database: Database) -> None:
        """Remove a database this backend created."""
        ...

    def leftovers(self) -> list[Leftover]:
        """Marked resources whose owner is dead or whose time-to-live passed."""
        ...

    def remove(self, leftover: Leftover) -> None:
        """Remove one of :meth:`leftovers`."""
        ...

    def close(self) -> None:
        """Release connections and clients."""
        ...


Factory = Callable[[Settings], Backend]

# name -> "module:function"; modules are imported only when their backend is used.
BACKENDS: dict[str, str | Factory] = {
    "sqlite": "gatekeeper.resources.databases.sqlite:open_backend",
    "postgres": "gatekeeper.resources.databases.postgres:open_backend",
    "neon": "gatekeeper.resources.databases.neon:open_backend",
}


def register(name: str, factory: str | Factory) -> None:
    """Make a backend available under ``name`` (a factory, or ``"module:function"``)."""
    BACKENDS[name] = factory


def open_backend(settings: Settings) -> Backend:
    """The backend ``[tool.gatekeeper.database] backend`` names, opened with ``settings``."""
    name = settings.text("database.backend")
    factory = BACKENDS.get(name)
    if factory is None:
        raise ConfigError(
            f"[tool.gatekeeper.database] backend = {name!r} is unknown. Known: "
            f"{', '.join(sorted(BACKENDS))}."
        )
    if isinstance(factory, str):
        module, _, attribute = factory.partition(":")
        factory = getattr(importlib.import_module(module), attribute)
    assert callable(factory)
    return factory(settings)


def template_for(
    settings: Settings,
    plugins: pluggy.PluginManager,
    hooks: tuple[Callable[[str], None], ...] = (),
    run: str | None = None,
) -> Template:
    """The template described by ``[tool.gatekeeper.database] setup`` and ``inputs``, filled
    also by the ``gatekeeper_database_template`` hook of any plugin that implements it.

    ``plugins`` is the loaded setup's plugin manager (:attr:`gatekeeper.gate.Setup.manager`).
    ``run`` is the session a template of a project outside git without ``inputs`` serves.
    """
    setup = settings.text("database.setup")
    fillers = _template_plugins(plugins)
    if fillers:
        hooks = (*hooks, _call_template_hook(settings, plugins))
    basis, digest = content(
        settings.root, settings.strings("database.inputs"), bool(setup or hooks), run
    )
    backend = f"{settings.text('database.backend')}\0{','.join(fillers)}"
    project = project_identity(settings.root)
    key = template_key(backend, setup, project, basis, digest)
    return Template(key, setup, settings.root, hooks, basis, "" if basis == EMPTY else project)


def _template_plugins(plugins: pluggy.PluginManager) -> list[str]:
    """Names of the plugins that fill templates through the hook (part of the content key)."""
    return sorted(
        plugins.get_name(impl.plugin) or repr(impl.plugin)
        for impl in plugins.hook.gatekeeper_database_template.get_hookimpls()
    )


def _call_template_hook(settings: Settings, plugins: pluggy.PluginManager) -> Callable[[str], None]:
    def fill(url: str) -> None:
        try:
            plugins.hook.gatekeeper_database_template(url=url, root=settings.root)
        except Exception as error:
            raise ResourceError(
                f"a gatekeeper_database_template hook failed while filling the template "
                f"database ({type(error).__name__}: {redact(str(error), (url,))}); fix the "
                "plugin that implements it."
            ) from None

    return fill
