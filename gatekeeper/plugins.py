"""The plugin manager: built-in checks, entry-point plugins and ``plugins`` from the config."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import pluggy

from gatekeeper import hookspecs
from gatekeeper.checks.base import Check
from gatekeeper.config import Table, check_options
from gatekeeper.errors import ConfigError, UsageError

ENTRY_POINT_GROUP = "gatekeeper"


def plugin_manager(extra: Iterable[str] = (), *, entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the built-ins, ``gatekeeper`` entry points and ``extra`` modules."""
    from gatekeeper.checks import builtin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(builtin, name="gatekeeper.builtin")
    if entry_points:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name in extra:
        if manager.get_plugin(name) is not None:
            continue
        try:
            module = importlib.import_module(name)
        except Exception as error:
            raise ConfigError(
                f"pyproject.toml: [tool.gatekeeper] plugins names {name!r}, which cannot be "
                f"imported ({type(error).__name__}: {error}). Install it or fix the name."
            ) from None
        manager.register(module, name=name)
    return manager


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


def table_for(checks: dict[str, Check]) -> Table:
    """The configuration table extended with every plugin check's keys."""
    table = Table()
    for name, check in checks.items():
        if name in table.checks:
            continue
        table = table.extended(name, (*check_options(name, timeout=600.0), *check.options()))
    return table
