"""Session state for the isolation fixtures: the run's identity, the basetemp of the run, and
the variables exported to child processes. One object, registered with the plugin manager.

Cheap at start: only stdlib and the small identity/locks modules are imported here; ports,
databases and configuration load when a fixture asks for them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gatekeeper.errors import GatekeeperError
from gatekeeper.resources import identity as identities
from gatekeeper.resources import tempdirs
from gatekeeper.resources.locks import Held, due, state_dir
from pytest_gatekeeper import options

if TYPE_CHECKING:
    from gatekeeper.gate import Setup

PLUGIN_NAME = "gatekeeper-isolation"


class Isolation:
    """Who this process works for, and the resources that live as long as the session."""

    def __init__(self, config: pytest.Config, run: str, worker: str) -> None:
        self.config = config
        self.run = run
        self.worker = worker
        self.basetemp: tempdirs.Basetemp | None = None
        self.owner: Held | None = None
        self._identity: identities.Identity | None = None
        self._saved: dict[str, str | None] = {}

    @classmethod
    def install(cls, config: pytest.Config) -> Isolation:
        """Make and register the state; give a controller its own basetemp."""
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        if workerinput is None:
            isolation = cls(config, identities.new_run_id(), identities.MAIN_WORKER)
            isolation.claim_basetemp()
        else:
            run = workerinput.get("gatekeeper_run") or str(workerinput["testrunuid"])[:12]
            isolation = cls(config, run, str(workerinput["workerid"]))
        isolation.export(
            {identities.RUN_ENV: isolation.run, identities.WORKER_ENV: isolation.worker}
        )
        config.pluginmanager.register(isolation, PLUGIN_NAME)
        return isolation

    def claim_basetemp(self) -> None:
        """Give this run its own basetemp; when the state dir is unusable, leave pytest's own
        basetemp in place with a warning: isolation must never break a plain pytest run."""
        if self.config.option.basetemp:
            return  # the user chose one; theirs to manage
        if _inspect_only(self.config):
            return  # --collect-only, --fixtures...: no test will ask for a tmp_path
        root = self.config.rootpath
        try:
            full = tempdirs.full_sweep_due()
            for path in tempdirs.dead(keep=self._retention(), worktree=None if full else root):
                tempdirs.remove(path)
            self.basetemp = tempdirs.claim(root, self.run)
        except (OSError, GatekeeperError) as error:
            _warn(self.config, f"gatekeeper kept pytest's own basetemp: {error}")
            return
        self.config.option.basetemp = str(self.basetemp.path)
        _sweep_owner_locks()

    def _retention(self) -> int:
        if self.config.getini("tmp_path_retention_policy") == "none":
            return 0
        try:
            count = int(self.config.getini("tmp_path_retention_count"))
        except (ValueError, KeyError):
            return tempdirs.KEEP  # pytest itself reports a bad value
        return max(count, 0)

    # -- lazily, when a fixture asks ----------------------------------------------------------

    def identity(self) -> identities.Identity:
        """The owner of this process's resources (git is asked once, on first use)."""
        if self._identity is None:
            from gatekeeper.git import repository

            facts = repository.facts(self.config.rootpath)
            root = Path(facts.root) if facts else self.config.rootpath
            branch = facts.branch if facts else None
            self._identity = identities.Identity(str(root.resolve()), self.run, self.worker, branch)
            self.export({identities.WORKTREE_ENV: self._identity.worktree})
        return self._identity

    def own(self) -> identities.Identity:
        """The identity, with its owner lock held so a sweep knows this owner is alive."""
        found = self.identity()
        if self.owner is None:
            from gatekeeper.resources import owners

            self.owner = owners.claim(found)
            # Every resource made from now on names this lock, so a sweep run with another
            # state dir still judges this owner by it.
            found = self._identity = owners.owned(found, self.owner)
        return found

    def setup(self) -> Setup:
        """The project's setup, shared by the whole pytest process (:func:`options.setup`)."""
        return options.setup(self.config, self.config.rootpath)

    def export(self, variables: dict[str, str]) -> None:
        """Set variables for child processes; the previous values come back at unconfigure."""
        for name, value in variables.items():
            self._saved.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    # -- hooks --------------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        # xdist's own channel to its workers: they share the controller's run id.
        node.workerinput["gatekeeper_run"] = self.run

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # What pytest does with a basetemp of its own choosing (not with a given one, which ours
        # is to pytest): "failed" keeps nothing of a passing run, "none" nothing at all. trylast:
        # after the session's fixtures, which may still use their tmp_path, are torn down.
        policy = self.config.getini("tmp_path_retention_policy")
        passed = int(exitstatus) == 0
        if self.basetemp is not None and (policy == "none" or (policy == "failed" and passed)):
            tempdirs.discard(self.basetemp)
            self.basetemp = None

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for held in (self.owner, self.basetemp.held if self.basetemp else None):
            if held is not None:
                held.release()


def _inspect_only(config: pytest.Config) -> bool:
    return options.inspects(config.option)


def _sweep_owner_locks() -> None:
    """Once an hour per state dir: the owner locks of ended sessions would pile up otherwise
    (``gatekeeper sweep`` removes them too). The sweep module is imported only when due."""
    # The state dir's problems surface when a fixture needs it, not here.
    with contextlib.suppress(OSError, GatekeeperError):
        if due(state_dir() / "owners" / ".swept", tempdirs.FULL_SWEEP_EVERY):
            from gatekeeper.resources.sweep import remove_stale_owners

            remove_stale_owners()


def _warn(config: pytest.Config, message: str) -> None:
    try:
        config.issue_config_time_warning(pytest.PytestConfigWarning(message), stacklevel=2)
    except Warning:
        # filterwarnings = error would turn it into a crash; say it plainly instead.
        sys.stderr.write(f"warning: {message}\n")


def current(config: pytest.Config) -> Isolation:
    """The registered state (installed by the plugin's ``pytest_configure``)."""
    found = config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(found, Isolation)
    return found
