"""A sharded session (``--gatekeeper-shard I/N``): this shard's share of the suite, and its
partial result.

One object, registered with the plugin manager in the controlling process and in every xdist
worker. After collection (last, once ``-k``, ``-m`` and every other plugin have chosen) it keeps
the items :func:`gatekeeper.shard.balance.assign` gives this shard and deselects the rest. In
the controlling process it also records each item's outcome and duration, and the session
writes the partial result through :meth:`Shard.write` (gatekeeper/shard/partial.py). Under
xdist the controlling process collects nothing: the workers send the whole collection back.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pytest

from gatekeeper.checks.base import TestOutcome
from gatekeeper.gate import Gate
from gatekeeper.model import CheckResult
from gatekeeper.shard import balance, conditions, durations, partial
from gatekeeper.shard.coveragepaths import export
from gatekeeper.shard.spec import SHARDS, Spec, parse

PLUGIN: Final = "gatekeeper-shard"
# What an xdist worker hands back: the whole collection, before this shard's share was kept,
# and the digests of the parameters behind its ids.
COLLECTED: Final = "gatekeeper_shard_collected"
PARAMETERS: Final = "gatekeeper_shard_parameters"


def spec(namespace: object) -> Spec | None:
    """The shard this session is, when ``--gatekeeper-shard`` in ``namespace`` (the parsed
    options) asks for one; raises :class:`~gatekeeper.errors.UsageError` on a bad value."""
    given = getattr(namespace, "gatekeeper_shard", None)
    return None if given is None else parse(str(given))


def install(config: pytest.Config, shard: Spec, durations_file: Path) -> Shard:
    """The session's :class:`Shard`, registered once."""
    found = config.pluginmanager.get_plugin(PLUGIN)
    if isinstance(found, Shard):
        return found
    made = Shard(shard, durations.read(durations_file))
    config.pluginmanager.register(made, PLUGIN)
    return made


class Shard:
    """This shard's share of the collected items, and what happened to them."""

    def __init__(self, shard: Spec, recorded: dict[str, float]) -> None:
        self.spec = shard
        self.recorded = recorded  # the durations that balance the shards
        self.collected: list[str] | None = None  # None: not known (yet)
        self.selected: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self.parameters: dict[str, str] = {}  # node id -> digest of its parameters
        self.ran_under: tuple[tuple[str, ...], str | None, str] = ((), None, "")
        # Collection errors are facts about the whole tree, which every shard collects: combine
        # counts each once. pytest stopping for them (no --continue-on-collection-errors) ends
        # the session as it would end one unsharded run: the partial result is complete.
        self.collection_errors: list[str] = []
        self.stopped_by_collection = False

    # -- selection: controller without xdist, and every xdist worker ---------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        ids = [item.nodeid for item in items]
        share = set(balance.assign(ids, self.recorded, self.spec.count)[self.spec.index - 1])
        kept = [item for item in items if item.nodeid in share]
        dropped = [item for item in items if item.nodeid not in share]
        self.collected, self.selected = ids, [item.nodeid for item in kept]
        self.parameters = _parameters(items, config.rootpath)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        workeroutput = getattr(config, "workeroutput", None)
        if isinstance(workeroutput, dict):
            workeroutput[COLLECTED] = ids
            workeroutput[PARAMETERS] = self.parameters

    # -- the controller under xdist: what the workers collected and kept ----------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        self.selected = list(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        output = getattr(node, "workeroutput", {})
        sent = output.get(COLLECTED)
        if isinstance(sent, list) and self.collected is None:
            self.collected = [str(nodeid) for nodeid in sent]
            self.parameters = {str(k): str(v) for k, v in output.get(PARAMETERS, {}).items()}

    # -- what happened ------------------------------------------------------------------------

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(report.nodeid)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest's own stop after collection errors: "Interrupted: N errors during collection".
        stop = excinfo.value
        self.stopped_by_collection = (
            isinstance(stop, pytest.Session.Interrupted)
            and bool(self.collection_errors)
            and str(stop).endswith(" during collection")
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        self.durations[nodeid] = self.durations.get(nodeid, 0.0) + report.duration
        if report.failed or self.outcomes.get(nodeid) == "failed":
            self.outcomes[nodeid] = "failed"
        elif report.when == "call" or report.skipped:
            self.outcomes[nodeid] = report.outcome

    # -- the partial result -------------------------------------------------------------------

    def begin(self, config: pytest.Config, gate: Gate) -> None:
        """Record what this shard runs under, at its start (gatekeeper/shard/conditions.py):
        before any test can write an ignored file."""
        worktree = gate.setup.worktree
        addopts = os.environ.get("PYTEST_ADDOPTS", "")
        self.ran_under = (
            conditions.arguments(config.invocation_params.args, addopts, worktree),
            conditions.ignored(worktree, gate.cache.inputs),
            conditions.installed(worktree),
        )

    def folder(self, gate: Gate) -> Path:
        return self.spec.folder(gate.setup.worktree / SHARDS)

    def clear(self, gate: Gate) -> None:
        """Remove what an earlier run of this shard left in its folder, before this one runs: a
        run that ends without writing its partial result must leave none behind, or that
        earlier one would be combined as this run's. Only this shard's own folder, never another
        shard's. Raises :class:`OSError`."""
        folder = self.folder(gate)
        # The manifest first: a folder removed halfway never reads as a complete result.
        try:
            (folder / partial.MANIFEST).unlink(missing_ok=True)
        except NotADirectoryError:
            return  # a file where a folder belongs holds no result; writing one fails, and says so
        if folder.is_dir() and not folder.is_symlink():  # a link's target is not ours to remove
            shutil.rmtree(folder)

    def write(
        self,
        gate: Gate,
        content: partial.Content,
        outcome: TestOutcome,
        static: Sequence[CheckResult],
        done: tuple[str, bool],
    ) -> Path:
        """Write the partial result (coverage data first, the manifest last); returns the
        folder. ``done``: the verdict on the shard's own part, and whether its session finished.
        Raises :class:`OSError`."""
        folder = self.folder(gate)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / partial.MANIFEST).unlink(missing_ok=True)
        data = folder / partial.COVERAGE
        data.unlink(missing_ok=True)
        measured = outcome.coverage_dir
        has_data = measured is not None and export(measured, gate.setup.worktree, data)
        result = partial.Partial(
            spec=self.spec,
            identity=partial.Identity(
                content,
                partial.config_digest(gate.effective_config()),
                tuple(self.collected or ()),
                partial.durations_digest(self.recorded),
                self.parameters,
                *self.ran_under,
            ),
            root=str(gate.setup.worktree),
            outcome=outcome,
            selected=tuple(self.selected),
            outcomes=self.outcomes,
            durations=self.durations,
            static=tuple(static),
            coverage=has_data,
            coverage_sha256=partial.file_sha256(data) if has_data else "",
            collection_errors=tuple(dict.fromkeys(self.collection_errors)),
            verdict=done[0],
            complete=done[1] and self.collected is not None,
        )
        partial.write(folder, result)
        return folder


def _parameters(items: Sequence[pytest.Item], root: Path) -> dict[str, str]:
    """The digest of the parameters behind each parametrized item's id: shards may give one id
    to other values (a set's order under another hash seed, another file listing order)."""
    found = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            found[item.nodeid] = conditions.parameters(repr(callspec.params), root)
    return found
