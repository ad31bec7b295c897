"""PostgreSQL clones made ahead of demand: while a session starts (xdist spawns workers, they
collect), the session's own process clones the template once per worker; a worker's fixture
then takes a ready clone by renaming it, a few milliseconds instead of a full copy.

A prepared clone is named ``gk_pre_<preparer>_<template key>_<n>_<tag>`` (a marked name) and
its comment names the preparer as owner (kind ``prepared``), so a sweep keeps it while the
session runs and removes it once the session is dead. Taking it is one ``ALTER DATABASE ...
RENAME``, which either succeeds or finds the name gone (another worker took it): no two
workers ever get the one clone. The taker then records itself as the owner. Only a template
that is already built is cloned ahead: its setup never runs in the background.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from gatekeeper.resources.databases.base import NAME_PREFIX, Template, marked_name, marker_record
from gatekeeper.resources.identity import MAIN_WORKER, Identity
from gatekeeper.resources.locks import ResourceError

if TYPE_CHECKING:
    from gatekeeper.resources.databases.postgres import PostgresBackend

PREPARED = "prepared"  # the kind in a prepared clone's record
WORD = "pre"  # the first word of its name


def preparer(identity: Identity) -> Identity:
    """The identity that prepares clones for ``identity``'s run: the run's own session."""
    return Identity(identity.worktree, identity.run, MAIN_WORKER, identity.branch)


def prepared_name(owner: Identity, template: Template, index: int) -> str:
    """The name of the ``index``-th clone of ``template`` prepared by ``owner``."""
    return marked_name(WORD, owner.key, template.key, str(index))


def pattern(owner: Identity, template: Template | None = None) -> str:
    """A LIKE pattern for the clones ``owner`` prepared (of ``template``, when given)."""
    stem = f"{NAME_PREFIX}{WORD}_{owner.key}_{template.key + '_' if template else ''}"
    return stem.replace("_", "\\_") + "%"


def prepare(
    backend: PostgresBackend, template: Template, owner: Identity, count: int, stop: threading.Event
) -> list[str]:
    """Clone the built template ``count`` times for ``owner``'s run, stopping early when
    ``stop`` is set; nothing when the template is not built. Returns the names made."""
    source = backend.template_name(template)
    made: list[str] = []
    for index in range(count):
        if stop.is_set() or not backend.exists(source):
            break
        name = prepared_name(owner, template, index)
        record = {**marker_record(owner, backend.ttl, PREPARED), "template": template.key}
        backend.lock(source)
        try:
            if not backend.exists(source):
                break  # swept meanwhile: the workers build it again themselves
            backend.clone(name, record, source)
        finally:
            backend.unlock(source)
        made.append(name)
    return made


def take(backend: PostgresBackend, template: Template, identity: Identity, name: str) -> bool:
    """Rename a clone the run's session prepared of ``template`` to ``name`` and record
    ``identity`` as its owner; False when none is ready."""
    ready = backend.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname",
        (pattern(preparer(identity), template),),
    )
    for (candidate,) in ready:
        try:
            backend.rename(candidate, name)
        except ResourceError:
            continue  # another worker took it first
        record = {**marker_record(identity, backend.ttl, "clone"), "prepared_as": candidate}
        backend.record(name, record)
        return True
    return False


def discard(backend: PostgresBackend, owner: Identity) -> None:
    """Drop every clone ``owner`` prepared that no worker took."""
    left = backend.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern(owner),)
    )
    for (name,) in left:
        if (backend.marker(name) or {}).get("kind") == PREPARED:
            backend.drop_database(name)
