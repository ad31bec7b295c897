"""Hook specifications: how plugins extend gatekeeper.

A plugin is a module (or object) with functions marked ``@gatekeeper.hookimpl``, made known through
the ``gatekeeper`` entry-point group or the ``plugins`` key of ``[tool.gatekeeper]``. The built-in
checks register through the same hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from gatekeeper.checks.base import Check
    from gatekeeper.evals.scorers import Scorer

PROJECT = "gatekeeper"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def gatekeeper_checks() -> list[Check]:  # type: ignore[empty-body]
    """Return the checks this plugin adds. Names must be unique across all plugins."""


@hookspec
def gatekeeper_database_template(url: str, root: Path) -> None:
    """Fill the template database at ``url`` (after ``[tool.gatekeeper.database] setup``).

    Called once per template build, never for a worker's copy. ``root`` is the project root.
    The template's content key includes the names of the plugins implementing this hook; list
    the files your content comes from in ``[tool.gatekeeper.database] inputs`` so that a change
    to them rebuilds the template.
    """


@hookspec
def gatekeeper_scorers() -> list[Scorer]:  # type: ignore[empty-body]
    """Return the eval scorers this plugin adds. Names must be unique across all plugins."""
