"""``gatekeeper evals baseline [-- pytest options]``: record the eval baseline on purpose.

The eval cases run as a plain pytest session over the configured eval paths (no gate). A run in
which every case of every dataset ran (nothing deselected, nothing stopped early) records every
case and drops entries of cases that no longer exist; any other run (``-- -k smoke``, a ``-k``
in ``PYTEST_ADDOPTS`` or ``addopts``, ``-x``) updates only the cases it ran and keeps every
other entry, whatever the options that narrowed it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pluggy import HookimplMarker

from gatekeeper.errors import EXIT_FAILED, EXIT_OK, UsageError
from gatekeeper.evals import casebaseline as baselines
from gatekeeper.evals import dataset as datasets
from gatekeeper.evals.recorder import Recorder
from gatekeeper.evals.results import CaseResult
from gatekeeper.gate import load_setup

HELP = "Golden-dataset evals: `gatekeeper evals baseline` records the baseline of every case."

pytest_hookimpl = HookimplMarker("pytest")

# pytest exit statuses after which the recorded results cannot be trusted.
_BROKEN = {2: "was interrupted", 3: "hit an internal error", 4: "was called with bad arguments"}


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    record = actions.add_parser(
        "baseline",
        help="Run every eval case and write the baseline file ([tool.gatekeeper.evals] baseline).",
    )
    record.add_argument(
        "pytest_args", nargs="*", help="pytest options after `--`, e.g. -- -k smoke -n 2"
    )


def run(args: argparse.Namespace, rest: list[str]) -> int:
    setup = load_setup(Path.cwd())
    settings = setup.settings
    paths = settings.strings("evals.paths")
    found = datasets.discover(settings.root, paths)
    if not found:
        raise UsageError(
            f"no eval datasets (*.yaml) under {', '.join(paths) or '(none)'}; write one (see "
            "docs/evals.md) or set [tool.gatekeeper.evals] paths."
        )
    extra = [*args.pytest_args, *rest]
    recorder = _record(settings.root, paths, extra)
    shown = settings.text("evals.baseline")
    path = settings.root / shown
    before = baselines.read(path, shown) or baselines.Baseline()
    judged = [case for case in recorder.cases if case.verdict != "error"]
    errors = [(case.dataset, case.case) for case in recorder.cases if case.verdict == "error"]
    complete = _complete(recorder, settings.root, found)
    after = before.updated(judged, prune=complete, keep=errors)
    baselines.write(after, path)
    _print_summary(recorder.cases, before, shown)
    # A case that could not be judged keeps its previous entry, but the recording is incomplete.
    return EXIT_FAILED if errors else EXIT_OK


def _complete(recorder: Recorder, root: Path, found: list[Path]) -> bool:
    """Whether the run judged the whole of every dataset: only then may entries be pruned.

    Filters reach pytest from more places than this command's arguments (``PYTEST_ADDOPTS``,
    ``addopts``, a conftest), so the run itself is asked: nothing deselected, every collected
    case ran, and every case of every dataset file produced a result.
    """
    if recorder.deselected or recorder.not_run():
        return False
    ran: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for case in recorder.cases:
        ran.setdefault(case.dataset, set()).add(case.case)
        sizes[case.dataset] = case.dataset_cases
    names = {path.relative_to(root).as_posix() for path in found}
    return names <= set(ran) and all(len(ran[name]) == sizes[name] for name in ran)


def _record(root: Path, paths: list[str], extra: list[str]) -> Recorder:
    import pytest

    recorder = Recorder()
    targets = [str(root / p) for p in paths if (root / p).exists()]
    # Asking for a baseline is opting in, with or without a [tool.gatekeeper] table.
    opt_in = f"--gatekeeper-evals-paths={','.join(paths)}"
    status = int(pytest.main([*targets, opt_in, *extra], plugins=[_Hooks(recorder)]))
    if recorder.problems:
        raise UsageError(
            f"a dataset could not be loaded, nothing was written: {recorder.problems[0]}"
        )
    if status in _BROKEN:
        raise UsageError(f"pytest {_BROKEN[status]} (exit status {status}); nothing was written.")
    if not recorder.cases:
        raise UsageError("no eval case ran (all filtered out?); nothing was written.")
    return recorder


class _Hooks:
    """The pytest plugin that hands reports to the recorder."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def pytest_runtest_logreport(self, report: object) -> None:
        self.recorder.take(report)  # type: ignore[arg-type]

    def pytest_collectreport(self, report: object) -> None:
        self.recorder.take_collect(report)  # type: ignore[arg-type]

    def pytest_deselected(self, items: list[object]) -> None:
        self.recorder.deselected = self.recorder.deselected or bool(items)

    def pytest_collection_finish(self, session: object) -> None:
        items = getattr(session, "items", [])
        self.recorder.take_collected(item.nodeid for item in items)

    @pytest_hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        self.recorder.take_collected(ids)


def _print_summary(cases: list[CaseResult], before: baselines.Baseline, shown: str) -> None:
    passed = sum(1 for case in cases if case.passed)
    errors = [case for case in cases if case.verdict == "error"]
    print(
        f"gatekeeper evals: recorded {len(cases) - len(errors)} case(s) in {shown}: "
        f"{passed} passing, {len(cases) - passed - len(errors)} failing"
    )
    comparison = baselines.compare(before, cases)
    for result, _ in comparison.regressed:
        print(
            f"  now failing: {result.nodeid} (was passing; expected {result.expected}, "
            f"actual {result.actual})"
        )
    for result, entry in comparison.fixed:
        print(f"  now passing: {result.nodeid} (was failing with actual {entry.actual})")
    for case in errors:
        print(
            f"  not recorded (previous entry kept), could not be judged: {case.nodeid}: "
            f"{case.explanation}"
        )
    if errors:
        print(
            f"gatekeeper evals: {len(errors)} case(s) could not be judged: "
            f"{', '.join(case.nodeid for case in errors)}; fix them and record again"
        )
