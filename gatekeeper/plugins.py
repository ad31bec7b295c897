"""The plugin manager: built-in checks, entry-point plugins and ``plugins`` from the config."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import pluggy

from gatekeeper import hookspecs
from gatekeeper.checks.base import Check
from gatekeeper.config import Table, check_options
from gatekeeper.errors import ConfigError, UsageError
from gatekeeper.evals.scorers import Registry, Scorer

ENTRY_POINT_GROUP = "gatekeeper"


def plugin_manager(
    extra: Iterable[str] = (), *, entry_points: bool = True, root: Path | None = None
) -> pluggy.PluginManager:
    """A plugin manager with the built-ins, ``gatekeeper`` entry points and ``extra`` modules.

    ``extra`` (the ``plugins`` key) is imported with ``root``, the project root, first on
    ``sys.path``, so a project-local module such as ``docplugin.py`` is found. An entry point or a
    module that cannot be loaded raises :class:`UsageError` naming it; nothing else is registered
    then.
    """
    from gatekeeper.checks import builtin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(builtin, name="gatekeeper.builtin")
    if entry_points:
        _load_entry_points(manager)
    for name in extra:
        if manager.get_plugin(name) is None:
            manager.register(_import_plugin(name, root), name=name)
    return manager


def _load_entry_points(manager: pluggy.PluginManager) -> None:
    """Register every ``gatekeeper`` entry point, as pluggy's loader does, but name the one that
    fails: pluggy's own loader lets a broken distribution's traceback escape unnamed."""
    for distribution in metadata.distributions():
        for entry_point in distribution.entry_points:
            if entry_point.group != ENTRY_POINT_GROUP:
                continue
            if manager.get_plugin(entry_point.name) or manager.is_blocked(entry_point.name):
                continue  # the same distribution found twice on sys.path, or blocked
            try:
                manager.register(entry_point.load(), name=entry_point.name)
            except Exception as error:
                raise _broken_entry_point(distribution, entry_point, error) from None


def _broken_entry_point(
    distribution: metadata.Distribution, entry_point: metadata.EntryPoint, error: Exception
) -> UsageError:
    project = distribution.name
    return UsageError(
        f"the installed distribution {project} {distribution.version} declares the gatekeeper "
        f"plugin entry point `{entry_point.name} = {entry_point.value}`, which cannot be loaded "
        f"({type(error).__name__}: {error}). Fix that distribution or uninstall it "
        f"(pip uninstall {project})."
    )


def _import_plugin(name: str, root: Path | None) -> object:
    """Import one ``plugins`` module, the project root searched first while it is imported.

    The root is taken off ``sys.path`` again afterwards, so the project's top-level directories
    never shadow installed packages for the rest of the process.
    """
    entry = None if root is None else str(root)
    if entry is not None:
        sys.path.insert(0, entry)
    try:
        return importlib.import_module(name)
    except Exception as error:
        raise ConfigError(
            f"pyproject.toml: [tool.gatekeeper] plugins names {name!r}, which cannot be "
            f"imported ({type(error).__name__}: {error}). Install it, fix the name, or fix the "
            "module."
        ) from None
    finally:
        if entry is not None:
            with contextlib.suppress(ValueError):  # the plugin took it off itself
                sys.path.remove(entry)


def collect_checks(manager: pluggy.PluginManager) -> dict[str, Check]:
    """Every registered check by name, built-ins first, in registration order."""
    checks: dict[str, Check] = {}
    for batch in reversed(manager.hook.gatekeeper_checks()):
        for check in batch:
            if not isinstance(check, Check):
                raise UsageError(f"gatekeeper plugin returned {check!r}, which is not a Check.")
            if check.name in checks:
                raise UsageError(f"two gatekeeper plugins register a check named {check.name!r}.")
            checks[check.name] = check
    return checks


def collect_scorers(manager: pluggy.PluginManager) -> Registry:
    """Every registered eval scorer by name, built-ins first; a duplicate name or an object
    that is not a scorer raises ``ValueError``."""
    batches: list[list[Scorer]] = manager.hook.gatekeeper_scorers()
    return Registry(scorer for batch in reversed(batches) for scorer in batch)


def table_for(checks: dict[str, Check]) -> Table:
    """The configuration table extended with every plugin check's keys."""
    table = Table()
    for name, check in checks.items():
        if name in table.checks:
            continue
        table = table.extended(name, (*check_options(name, timeout=600.0), *check.options()))
    return table
