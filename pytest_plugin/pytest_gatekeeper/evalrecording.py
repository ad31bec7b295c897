"""Eval recording in a gated session: the eval cases' results, for the evals check.

One object, registered with the plugin manager by the gate's session. It gathers what the
evals check judges (every case's result, datasets that failed to load, the cases collected to
run) from the reports, under pytest-xdist too; the session asks it at the end what the evals
took from the test outcome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pytest

from gatekeeper.config import Settings
from gatekeeper.evals.recorder import Recorder
from gatekeeper.evals.results import EvalOutcome

PLUGIN: Final = "gatekeeper-eval-recording"


def repeats(root: Path, settings: Settings) -> bool:
    """Whether an eval dataset repeats a case: a nondeterministic target's pass is not reused."""
    from gatekeeper.evals.dataset import repeats_anywhere

    return repeats_anywhere(root, settings.strings("evals.paths"))


class EvalRecording:
    """The eval cases of one gated session: collected, run, failed."""

    def __init__(self) -> None:
        self.recorder = Recorder()

    # -- what the session did ---------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.recorder.take(report)

    # Every collected eval case must run (-x/--maxfail must not hide a regression).
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.recorder.take_collected(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        self.recorder.take_collected(ids)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.recorder.take_collect(report)

    # -- asked by the session at the end -------------------------------------------------------

    @property
    def collected(self) -> int:
        """Eval cases collected to run (counted as items by pytest, never as tests)."""
        return len(self.recorder.collected)

    def incomplete(self) -> bool:
        """Whether a collected eval case produced no result (the session stopped early)."""
        return bool(self.recorder.not_run())

    def only_they_failed(self, counts: Counter[str]) -> bool:
        """Whether the session's only failures are eval items (the evals check judges them)."""
        return bool(self.recorder.failed_items) and not (counts["failed"] or counts["errors"])

    def outcome(self) -> EvalOutcome:
        return self.recorder.outcome()
