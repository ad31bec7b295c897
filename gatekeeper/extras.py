"""Optional dependencies: what a missing one is needed for, and the extra that installs it.

The core install stays small on purpose. Every dependency is installed into the user's test
environment, and some bring pytest plugins of their own that every plain ``pytest`` session then
loads (httpx brings anyio's, which nearly doubles a small session's start). So HTTP clients come
with extras: ``github`` for ``gatekeeper ci require``, ``neon`` for the Neon database backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from importlib.metadata import Distribution

from gatekeeper.errors import UsageError


def missing(module: str, extra: str, needed_by: str) -> UsageError:
    """The error for ``module`` missing where ``needed_by`` needs it: names the extra to add."""
    return UsageError(
        f"{needed_by} needs {module}, which pytest-gatekeeper installs only with its "
        f"`{extra}` extra: install it again with that extra (from a clone: pip install "
        f"'/path/to/pytest-gatekeeper[{extra}]'; or add {extra} to the extras of the install you "
        "already use), then run the command again."
    )


def installed_closure(name: str, extras: frozenset[str] = frozenset()) -> list[Distribution]:
    """Distribution ``name`` and every installed distribution it requires (with ``extras``),
    recursively: what installing it brings into an environment. A requirement that is not
    installed (left out by its environment markers) is skipped."""
    found: dict[str, Distribution] = {}
    pending = [(name, extras)]
    while pending:
        current, wanted = pending.pop()
        try:
            distribution = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue
        key = distribution.metadata["Name"].lower()
        if key not in found:
            found[key] = distribution
            pending.extend(_required(distribution, wanted))
    return list(found.values())


def _required(
    distribution: Distribution, extras: frozenset[str]
) -> Iterator[tuple[str, frozenset[str]]]:
    """The requirements of ``distribution`` in force with ``extras``: (name, their extras)."""
    from packaging.requirements import Requirement  # pytest's own dependency

    environments = [{"extra": extra} for extra in extras or {""}]
    for line in distribution.requires or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate(e) for e in environments):
            yield requirement.name, frozenset(requirement.extras)
