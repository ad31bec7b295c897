"""Coverage of a gated session: measured in this process, handed to the xdist workers, judged
by the coverage check when the session ends.

One object, registered with the plugin manager by the gate's session only when it measures
(the coverage check is on and the session is not reused). The session starts and stops it at
the points the gate's order needs: started after the background checks' threads are prepared
(so they are never traced) and before they run, stopped just before the gate is judged.
Measuring may restart the whole command with coverage started first
(:mod:`gatekeeper.checks.earlycoverage`); the restarted process adopts the running collector.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from gatekeeper import receipt
from gatekeeper.checks import earlycoverage
from gatekeeper.checks.measure import ENV, Measurement, Plan
from gatekeeper.resources.coveragedata import DataDir, claim_data_dir
from gatekeeper.resources.locks import Held
from pytest_gatekeeper.options import FIRST_PATH

PLUGIN: Final = "gatekeeper-coverage"


@dataclass(frozen=True, slots=True)
class Measured:
    """What the coverage check is told: the data's folder (None: nothing measured), why
    measuring could not start, and the modules imported before it started."""

    directory: Path | None = None
    problem: str | None = None
    note: str | None = None


NOT_MEASURED: Final = Measured()


def refuse_pytest_cov(config: pytest.Config) -> None:
    """A usage error when pytest-cov was asked to measure this session too (``--cov``, maybe
    in addopts): two collectors in one process corrupt each other."""
    if getattr(config.known_args_namespace, "cov_source", None):
        raise pytest.UsageError(
            "pytest-cov is measuring this session (--cov), and so is gatekeeper's coverage "
            "check: two collectors in one process corrupt each other. Drop --cov (and "
            "--cov-* options in addopts) for gated runs, or leave coverage out of "
            "[tool.gatekeeper] checks."
        )


def drop_early() -> None:
    """Stop the collector this process was restarted with (:mod:`gatekeeper.checks.earlycoverage`)
    and remove its data, when the session measures nothing after all (a run stored meanwhile
    is reused); nothing when there is none."""
    early = earlycoverage.adopt(os.environ)
    if early is not None:
        folder, measurement = _adopted(early, tuple(early["source"]))
        measurement.discard()
        folder.discard()


class SessionCoverage:
    """The session's measurement: its data folder, and what the coverage check must be told
    (``problem``: it could not start; ``note``: modules were imported before it started)."""

    def __init__(self, config: pytest.Config, worktree: Path, proof: Path | None) -> None:
        self.config = config
        self.worktree = worktree
        self.proof = proof  # `gatekeeper run`'s receipt, which a restarted command needs
        self.measurement: Measurement | None = None
        self.data_dir: DataDir | None = None
        self.problem: str | None = None
        self.note: str | None = None

    def start(self, source: tuple[str, ...]) -> None:
        """Start coverage of ``source``, or adopt the collector this process was restarted
        with (:mod:`gatekeeper.checks.earlycoverage`)."""
        early = earlycoverage.adopt(os.environ)
        if early is not None and tuple(early["source"]) == source:
            self.data_dir, self.measurement = _adopted(early, source)
        else:
            if early is not None:  # made for other paths: start afresh (never expected)
                folder, measurement = _adopted(early, source)
                measurement.discard()
                folder.discard()
            self.data_dir = claim_data_dir(self.worktree)
            self.measurement = Measurement(Plan(self.data_dir.path, source, os.getpid()))
            try:
                self.measurement.start()
            except Exception as error:  # reported by the coverage check, never silently passed
                self.problem = f"coverage could not start: {error}"
                self.measurement = None
                return
            self._measure_from_the_start(source, restarted=early is not None)
        os.environ[ENV] = self.measurement.plan.to_env()
        # evals: trace eval targets, not pytest's machinery around them
        from pytest_gatekeeper import evalcoverage

        evalcoverage.install(self.config, self.measurement)

    def _measure_from_the_start(self, source: tuple[str, ...], restarted: bool) -> None:
        """When measured modules were imported before measuring started, start this command
        again with coverage started first; where it cannot be, say so in the coverage result."""
        assert self.measurement is not None and self.data_dir is not None
        early = self.measurement.imported_early()
        if not early:
            return
        argv = earlycoverage.command_line(self.config.invocation_params.args)
        if argv is not None and not restarted:
            self.measurement.discard()
            if self.proof is not None:  # taken from the environment: the new process needs it
                os.environ[receipt.ENV] = str(self.proof)
            # pytest captures the standard streams into files: hand the real ones back first
            capture = self.config.pluginmanager.getplugin("capturemanager")
            if capture is not None:
                capture.stop_global_capturing()
            data_file = str(self.data_dir.path / ".coverage")
            earlycoverage.restart(data_file, source, self.data_dir.held.fd, argv[1:], FIRST_PATH)
        shown = ", ".join(early[:5]) + (f" and {len(early) - 5} more" if len(early) > 5 else "")
        self.note = (
            f"{len(early)} measured module(s) were imported before measuring started ({shown}): "
            "their import-time lines count as not run. Run the gate as `pytest --gatekeeper` or "
            "`gatekeeper run`, which start measuring first"
        )

    def stop(self) -> Measured:
        """Stop measuring; what the coverage check is to judge."""
        if self.measurement is None:
            return Measured(None, self.problem, self.note)
        self.measurement.stop()
        return Measured(self.measurement.plan.directory, self.problem, self.note)

    def discard(self) -> None:
        """Remove the data: judged, or never to be judged."""
        if self.data_dir is not None:
            self.data_dir.discard()
            self.data_dir = None

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # A session that never finished (a usage error, an interrupt): its data is never judged.
        # After a finished one both are done already.
        if self.measurement is not None:
            self.measurement.stop()
        self.discard()


def _adopted(early: dict[str, Any], source: tuple[str, ...]) -> tuple[DataDir, Measurement]:
    """The data folder (its lock held across the exec) and the running measurement this process
    was restarted with."""
    import coverage

    folder = Path(early["data_file"]).parent
    fd = int(early["lock_fd"])
    os.set_inheritable(fd, False)  # nothing this process starts may hold the folder's lock
    measurement = Measurement(Plan(folder, source, os.getpid()))
    measurement.adopt(coverage.Coverage.current())
    return DataDir(folder, Held(folder.with_name(f"{folder.name}.lock"), fd)), measurement
