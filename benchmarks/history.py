"""What recording a gate run in the history costs: the same gate with and without recording,
side by side in one run, alternating, several repeats, median ratio.

    python benchmarks/history.py [--repeats 9] [--prefill 5000] [--checks tests,lint]

The sample project (the tests' one, plus 200 tests of which one fails, so the session runs every
time and every recorded run looks its failure up among the known flaky tests) is gated with
``pytest --gatekeeper``, once with the result cache on (the tree id is the cache's) and once with
it off (every check runs, and recording computes the tree id itself: the costlier path). The
store is filled with ``--prefill`` runs first, so pruning and the flaky lookup work on a store of
some size; the variant without recording passes ``--gatekeeper-no-history-record``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from timing import compare, summarise

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package holds the sample project

from gatekeeper.history.model import CheckRun, Run  # noqa: E402
from gatekeeper.history.store import Store, path_in  # noqa: E402
from tests.conftest import make_project  # noqa: E402

TESTS = "".join(f"def test_{i}() -> None:\n    assert {i} + 1 == {i + 1}\n\n\n" for i in range(199))
FAILING = "def test_fails() -> None:\n    assert 1 == 2\n"
WITHOUT = "not recorded"
SCENARIOS = {
    # the usual gate: lint's pass is reused, the failing test keeps the session running
    "result cache on (the tree id comes from the cache)": [],
    # every check runs, and recording computes the tree id itself
    "result cache off (--gatekeeper-no-cache)": ["--gatekeeper-no-cache"],
}


def prefill(store: Path, count: int) -> None:
    """``count`` runs of other worktrees, a day apart in minutes, some with failing tests."""
    checks = (CheckRun("tests", "passed", 2.0, 0, False), CheckRun("lint", "passed", 0.3, 0, False))
    run = Run(0.0, "pytest", "/elsewhere", "other", None, "t", "main", "passed", 3.0, False, True)
    with Store.open(store) as opened:
        for number in range(count):
            failing = ("tests/test_many.py::test_fails",) if number % 7 == 0 else ()
            opened.add(
                replace(
                    run,
                    finished=time.time() - 86400 + number,
                    tree=f"tree-{number // 3}",
                    checks=checks,
                    failed_tests=failing,
                    tests_failing=len(failing),
                    verdict="failed" if failing else "passed",
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--prefill", type=int, default=5000)
    parser.add_argument("--checks", default="tests,lint", help="the gate's checks")
    args = parser.parse_args()
    checks = [name.strip() for name in args.checks.split(",") if name.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        files = {"tests/test_many.py": TESTS + "\n\n" + FAILING}
        root = make_project(
            Path(tmp) / "sample", files, f"\n[tool.gatekeeper]\nchecks = {checks}\n"
        )
        prefill(path_in(root / ".git"), args.prefill)
        gate = [sys.executable, "-m", "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider"]
        print(f"checks {', '.join(checks)}; store prefilled with {args.prefill} runs")
        for title, extra in SCENARIOS.items():
            variants = {
                "recorded": [*gate, *extra],
                WITHOUT: [*gate, *extra, "--gatekeeper-no-history-record"],
            }
            times = compare(variants, root, args.repeats)
            ratios = [a / b for a, b in zip(times["recorded"], times[WITHOUT], strict=True)]
            print(f"\n{title}")
            print(summarise(times, WITHOUT))
            print(f"median of the paired ratios: {statistics.median(ratios):.3f}")
        with Store.open(path_in(root / ".git"), create=False) as store:
            print(f"\nruns in the store afterwards: {store.count()}")


if __name__ == "__main__":
    main()
