"""Coverage measurement around a pytest process, and combining it across xdist workers.

The controller and every xdist worker measure into one directory with unique suffixes; the
controller combines them when the session ends. This works with or without pytest-cov.

The directory (``.gatekeeper/coverage/<id>/``) and its owner are
:mod:`gatekeeper.resources.coveragedata`'s.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper.checks import earlycoverage
from gatekeeper.errors import ToolError

# Handed to xdist workers: where to write and which process they must be a child of, so that
# a nested pytest in the same environment does not start measuring too.
ENV = "GATEKEEPER_COVERAGE"


@dataclass(frozen=True, slots=True)
class Plan:
    """What to measure and where to put the data."""

    directory: Path
    source: tuple[str, ...]
    parent: int

    def to_env(self) -> str:
        return json.dumps(
            {"dir": str(self.directory), "source": self.source, "parent": self.parent}
        )

    @classmethod
    def from_env(cls, environ: dict[str, str] | os._Environ[str]) -> Plan | None:
        """The plan meant for this process, if it is an xdist worker spawned by the measuring
        controller (its direct child); any other process, such as a pytest run by a test, is not."""
        raw = environ.get(ENV)
        if not raw or not environ.get("PYTEST_XDIST_WORKER"):
            return None
        try:
            data = json.loads(raw)
            plan = cls(Path(data["dir"]), tuple(data["source"]), int(data["parent"]))
        except (ValueError, KeyError, TypeError):
            return None
        return plan if plan.parent == os.getppid() else None


class Measurement:
    """One process's coverage collector."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._coverage: Any = None
        self._paused = False

    def start(self) -> None:
        self.plan.directory.mkdir(parents=True, exist_ok=True)
        cov = earlycoverage.new_coverage(str(self.plan.directory / ".coverage"), self.plan.source)
        earlycoverage.start(cov)
        self._coverage = cov

    def adopt(self, cov: Any) -> None:
        """Measure with ``cov``, started for this plan before pytest was imported
        (:mod:`gatekeeper.checks.earlycoverage`)."""
        self._coverage = cov

    def imported_early(self) -> list[str]:
        """Measured modules that were imported before measuring started."""
        if self._coverage is None:
            return []
        return earlycoverage.imported_early(self._coverage, sys.modules)

    def discard(self) -> None:
        """Stop measuring and keep nothing: the run starts again (an exec follows)."""
        if self._coverage is not None:
            with _quiet():
                self._coverage.stop()
            self._coverage = None

    def stop(self) -> None:
        if self._coverage is None:
            return
        self.resume()
        with _quiet():
            self._coverage.stop()
            self._coverage.save()
        self._coverage = None

    # -- pausing: stop tracing while only code that is never measured runs (evalcoverage) --
    # coverage.py's public start()/stop() re-scan sys.modules and re-apply patches on every
    # start, far too slow to call per test item; its collector's start()/stop() are what they
    # call to switch tracing. A stopped collector and a fresh one started later is exactly
    # what coverage.py does around a nested Coverage, so no frame is misattributed.

    def pause(self) -> bool:
        """Stop tracing until :meth:`resume`; returns whether it did. It does not when
        measuring has not started, is paused already, or another collector (one the code
        under test started) is on top, or another thread is alive: then tracing simply goes
        on."""
        collector = getattr(self._coverage, "_collector", None)
        if self._paused or collector is None or not _on_top(collector) or _other_threads():
            return False
        collector.stop()
        self._paused = True
        return True

    def resume(self) -> bool:
        """Trace again after :meth:`pause`; returns whether tracing was paused."""
        if not self._paused:
            return False
        self._paused = False
        self._coverage._collector.start()
        return True

    def traces(self, filename: str) -> bool:
        """Whether coverage would measure code in ``filename``; True when it cannot tell."""
        try:
            return bool(self._coverage._inorout.should_trace(filename).trace)
        except Exception:  # an unknown coverage.py: assume measured, so nothing is paused
            return True

    def may_pause(self) -> bool:
        """Whether pausing keeps the data exact: not with dynamic contexts, whose per-test
        context switches happen in the frames a pause would hide."""
        if self._coverage is None or not hasattr(self._coverage, "_collector"):
            return False
        return not self._coverage.get_option("run:dynamic_context")


# Gatekeeper's own background checks run in threads named so; they run tools, not the tests.
_OWN_THREADS = "gatekeeper-"


def _other_threads() -> bool:
    """Whether a thread other than the main one (and gatekeeper's own) is alive. Pausing stops
    the tracer of every thread, but resuming re-arms only the current one: a thread that
    already exists (a worker pool the code under test keeps) would run untraced from then on."""
    main = threading.main_thread()
    return any(
        thread is not main and not thread.name.startswith(_OWN_THREADS)
        for thread in threading.enumerate()
    )


def _on_top(collector: Any) -> bool:
    stack: list[Any] = getattr(collector, "_collectors", None) or []
    return bool(stack) and stack[-1] is collector


@dataclass(frozen=True, slots=True)
class Totals:
    percent: float
    files: int
    precision: int
    fail_under: float


def combine(directory: Path, source: Sequence[str]) -> Totals:
    """Combine every data file in ``directory`` and total it. Raises ToolError when nothing was
    measured or coverage cannot report."""
    import coverage
    from coverage.exceptions import CoverageException

    with _quiet():
        cov = coverage.Coverage(data_file=str(directory / ".coverage"), config_file=True)
        if not cov.get_option("run:source"):
            cov.set_option("run:source", list(source))
        try:
            cov.combine([str(directory)], keep=False)
            percent = cov.report(file=io.StringIO())
            files = len(cov.get_data().measured_files())
        except CoverageException as error:
            raise ToolError(
                f"coverage could not report on {', '.join(source)}: {str(error).rstrip('.')}. "
                "Check that the tests import the code under `paths` in [tool.gatekeeper]."
            ) from None
    precision = cov.get_option("report:precision")
    fail_under = cov.get_option("report:fail_under")
    assert isinstance(precision, int) and isinstance(fail_under, int | float)
    return Totals(float(percent), files, precision, float(fail_under))


class _quiet(warnings.catch_warnings):
    """Coverage warns through ``warnings``; a project's ``filterwarnings = error`` must not turn
    that into a crash of the gate. What matters is reported through the result instead."""

    def __enter__(self) -> None:
        super().__enter__()
        from coverage.exceptions import CoverageWarning

        warnings.simplefilter("ignore", CoverageWarning)
