"""Fixtures: each real project prepared once per test run (xdist workers share it), and a
private checkout of it for each test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.realprojects.catalog import PROJECTS
from tests.realprojects.workspace import Checkout, Prepared, checkout, prepare


def _run_folder(factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run that every xdist worker of the run shares."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return shared / "realprojects"


@pytest.fixture(scope="session")
def prepared_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Prepared]:
    """``prepared_project(name)``: the named project, prepared once for the whole run."""
    folder = _run_folder(tmp_path_factory)
    known: dict[str, Prepared] = {}

    def get(name: str) -> Prepared:
        if name not in known:
            known[name] = prepare(PROJECTS[name], folder)
        return known[name]

    return get


def _grouped(name: str) -> object:
    # One xdist group per project: under `--dist loadgroup` one worker takes click's long gate
    # runs and another pluggy's. With this pytest loadgroup does not group (tests/conftest.py);
    # the suite's `--dist load` deals the first tests out in turn, and the two projects' tests
    # alternate, so they start on different workers all the same.
    return pytest.param(name, marks=pytest.mark.xdist_group(f"realprojects-{name}"), id=name)


@pytest.fixture(params=[_grouped(name) for name in sorted(PROJECTS)])
def real_project(
    request: pytest.FixtureRequest,
    prepared_project: Callable[[str], Prepared],
    tmp_path: Path,
) -> Checkout:
    """A private checkout of each real project in turn, adopted and ready to gate."""
    return checkout(prepared_project(request.param), tmp_path)
