"""Coverage around eval cases: trace the target and the scorer, not pytest's machinery.

On Python 3.11 coverage.py traces through ``sys.settrace``, which slows every line Python runs,
measured or not; pytest runs a few hundred lines of its own per item, so for 10,000 trivial
eval cases the tracer, not the cases, dominated the gate. While an eval item runs, the only
code of the project that runs is its target and its scorer (both inside
:meth:`~pytest_gatekeeper.evalitems.EvalItem.runtest`), so tracing is paused for the rest of the
item and resumed around that call.

Pausing never hides project code, so an item is paused only when all of these hold:

- it lies between two items of the same dataset, so its setup and teardown touch only the item
  itself (the first and last item of a dataset may set up or finish a module, a package or the
  session, and run traced);
- no hook implementation in measured code can run during an item (checked again whenever a
  plugin or conftest registers): a project that is itself a pytest plugin is traced throughout;
- coverage.py has no dynamic contexts configured, and no other collector is on top of ours.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Final

import pytest

from gatekeeper.checks.measure import Measurement

PLUGIN: Final = "gatekeeper-eval-coverage"
# Hooks that run only before the run loop starts or after it ends, never while an item runs and
# never with a frame on the stack around one: a measured implementation of these loses nothing.
OUTSIDE_ITEMS: Final = frozenset(
    {
        "pytest_addhooks",
        "pytest_addoption",
        "pytest_plugin_registered",
        "pytest_load_initial_conftests",
        "pytest_cmdline_parse",
        "pytest_configure",
        "pytest_unconfigure",
        "pytest_sessionstart",
        "pytest_sessionfinish",
        "pytest_collection",
        "pytest_collection_modifyitems",
        "pytest_collection_finish",
        "pytest_collect_directory",
        "pytest_collect_file",
        "pytest_ignore_collect",
        "pytest_pycollect_makemodule",
        "pytest_pycollect_makeitem",
        "pytest_generate_tests",
        "pytest_make_parametrize_id",
        "pytest_collectstart",
        "pytest_make_collect_report",
        "pytest_collectreport",
        "pytest_itemcollected",
        "pytest_deselected",
        "pytest_report_header",
        "pytest_report_collectionfinish",
        "pytest_terminal_summary",
    }
)
_FOCUS = pytest.StashKey["EvalCoverage"]()


class FocusedItem(pytest.Item):
    """An item whose only project code runs inside :func:`measured` (eval items): tracing may
    be paused for the rest of its run."""


def install(config: pytest.Config, measurement: Measurement) -> None:
    """Pause ``measurement`` around the pytest machinery of eval items in this process."""
    if measurement.may_pause() and not config.pluginmanager.has_plugin(PLUGIN):
        focus = EvalCoverage(measurement)
        config.stash[_FOCUS] = focus
        config.pluginmanager.register(focus, PLUGIN)


def measured(config: pytest.Config) -> AbstractContextManager[None]:
    """Around an eval item's call of its target and scorer: traced, whatever is paused."""
    focus = config.stash.get(_FOCUS, None)
    return nullcontext() if focus is None else focus.target()


class EvalCoverage:
    """Pauses tracing for the eval items it may pause (see the module's docstring)."""

    def __init__(self, measurement: Measurement) -> None:
        self.measurement = measurement
        self.paused = False
        self._previous: pytest.Item | None = None
        self._hooks_clear: bool | None = None  # None: to be checked before the next item

    def pytest_plugin_registered(self) -> None:
        self._hooks_clear = None  # a new conftest or plugin may bring measured hooks

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        previous, self._previous = self._previous, item
        if not self._may_pause(item, previous, nextitem):
            return (yield)
        self.paused = self.measurement.pause()
        try:
            return (yield)
        finally:
            self.paused = False
            self.measurement.resume()

    @contextmanager
    def target(self) -> Iterator[None]:
        resumed = self.paused and self.measurement.resume()
        try:
            yield
        finally:
            if resumed:
                self.measurement.pause()

    def _may_pause(
        self, item: pytest.Item, previous: pytest.Item | None, nextitem: pytest.Item | None
    ) -> bool:
        if not isinstance(item, FocusedItem):
            return False
        if previous is None or nextitem is None:
            return False
        if not (previous.parent is item.parent is nextitem.parent):
            return False
        if self._hooks_clear is None:
            self._hooks_clear = not measured_hooks(item.config.pluginmanager, self.measurement)
        return self._hooks_clear


def measured_hooks(
    pluginmanager: pytest.PytestPluginManager, measurement: Measurement
) -> list[str]:
    """Hook implementations in measured code that may run while an item runs, as
    ``hook (file)``; an implementation whose file cannot be told counts as measured."""
    found: list[str] = []
    seen: dict[str, bool] = {}
    for name, caller in vars(pluginmanager.hook).items():
        if name in OUTSIDE_ITEMS or not hasattr(caller, "get_hookimpls"):
            continue
        for impl in caller.get_hookimpls():
            filename = _filename(impl.function)
            if filename not in seen:
                seen[filename] = filename == "" or measurement.traces(filename)
            if seen[filename]:
                found.append(f"{name} ({filename or impl.plugin_name})")
    return found


def _filename(function: Callable[..., Any]) -> str:
    code = getattr(function, "__code__", None)
    return code.co_filename if code is not None else ""
