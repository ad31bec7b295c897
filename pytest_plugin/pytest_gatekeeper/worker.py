"""Coverage in an xdist worker of a gated session.

Imports only the measuring code, so the project's modules (gatekeeper's own included) are first
imported after measuring has started and their module-level lines count.
"""

from __future__ import annotations

import pytest

from gatekeeper.checks.measure import Measurement, Plan


class WorkerCoverage:
    """Started when the worker loads its conftests; saved before the worker reports done."""

    def __init__(self, plan: Plan) -> None:
        self.measurement = Measurement(plan)
        self.measurement.start()

    def pytest_configure(self, config: pytest.Config) -> None:
        # evals: trace eval targets, not pytest's machinery around them
        from pytest_gatekeeper import evalcoverage

        evalcoverage.install(config, self.measurement)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.measurement.stop()
