"""Eval cases as pytest items: collection, -k, --lf and xdist, in real pytest sessions."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def test_collect_only_lists_each_case(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    eval_project()
    result = pytester.runpytest_subprocess("--collect-only", "-q", "evals")
    result.stdout.fnmatch_lines([f"evals/double.yaml::c{i}" for i in range(1, 21)])
    gated = pytester.runpytest_subprocess("--gatekeeper", "--collect-only", "-q")
    gated.stdout.fnmatch_lines(["tests/test_add.py::test_add", "evals/double.yaml::c20"])


def test_plain_pytest_fails_the_failing_case_and_lf_reruns_it(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    eval_project(broken=frozenset({7}))
    first = pytester.runpytest_subprocess("evals")
    first.assert_outcomes(passed=19, failed=1)
    first.stdout.fnmatch_lines(["*expected: 14*", "*actual:   15*"])
    again = pytester.runpytest_subprocess("evals", "--lf", "-q")
    again.assert_outcomes(failed=1)  # only c7 runs again
    again.stdout.fnmatch_lines(["FAILED evals/double.yaml::c7*"])


def test_k_selects_by_id_and_by_tag(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_dataset: Callable[..., str],
) -> None:
    text = make_eval_dataset(count=3).replace("id: c2\n", "id: c2\n    tags: [smoke]\n")
    eval_project(files={"evals/double.yaml": text})
    pytester.runpytest_subprocess("evals", "-k", "c3").assert_outcomes(passed=1, deselected=2)
    pytester.runpytest_subprocess("evals", "-k", "smoke").assert_outcomes(passed=1, deselected=2)


def test_xdist_results_reach_the_controller(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    root = eval_project(broken=frozenset({7}), threshold=0.97)
    result = pytester.runpytest_subprocess("--gatekeeper", "-p", "xdist", "-n", "2")
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    evals = next(c for c in report["checks"] if c["name"] == "evals")
    assert result.ret == 1
    assert evals["metrics"]["cases"] == 20
    assert evals["status"] == "failed"
    assert "evals/double.yaml::c7" in evals["findings"][0]["message"]


def test_yaml_outside_the_eval_paths_is_not_collected(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    eval_project(files={"tests/data.yaml": "just: data\n"})
    result = pytester.runpytest_subprocess("tests", "-q")
    result.assert_outcomes(passed=1)


def evals_check(root: Path) -> dict[str, Any]:
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    found: dict[str, Any] = next(c for c in report["checks"] if c["name"] == "evals")
    return found


@pytest.mark.parametrize("stop", [["-x"], ["--maxfail", "1"]])
def test_a_run_stopped_by_a_tolerated_failing_case_fails_the_evals_check(
    pytester: pytest.Pytester, eval_project: Callable[..., Path], stop: list[str]
) -> None:
    root = eval_project(broken=frozenset({7}), threshold=0.9)  # 19 of 20 would pass the gate
    result = pytester.runpytest_subprocess("--gatekeeper", *stop)
    evals = evals_check(root)
    assert result.ret == 1
    assert evals["status"] == "failed"
    assert "13 of 20 collected eval case(s) did not run" in evals["summary"]
    assert evals["rule"] == "every collected eval case runs"


def test_a_run_stopped_early_is_never_stored_as_a_cached_pass(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    # Only the tests check is gated, so the stopped run's verdict is a pass; it must not be
    # stored, or the next whole-suite run would reuse it without running c8..c20.
    ignore = ".gatekeeper/\n__pycache__/\n.pytest_cache/\nstdout\nstderr\n"
    gate = 'testpaths = ["tests"]\n\n[tool.gatekeeper]\nchecks = ["tests"]\n'
    eval_project(broken=frozenset({7}), files={".gitignore": ignore}, gatekeeper=gate)
    # Not runpytest_subprocess: its --basetemp inside the project would change the tree.
    argv = (sys.executable, "-m", "pytest", "--gatekeeper", "-x")
    stopped = pytester.run(*argv)
    assert stopped.ret == 0
    again = pytester.run(*argv)
    assert "tests not run again" not in again.stdout.str()
    again.assert_outcomes(passed=7, failed=1)  # test_add and c1..c6 ran again, c7 failed


@pytest.mark.parametrize("where", ["dataset", "case"])
def test_repeats_bypass_the_cached_pass_of_the_session(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_dataset: Callable[..., str],
    where: str,
) -> None:
    text = make_eval_dataset()
    if where == "dataset":
        text = text.replace("threshold:", "repeats: 3\nthreshold:")
    else:
        text = text.replace("id: c2\n", "id: c2\n    repeats: 2\n")
    ignore = ".gatekeeper/\n__pycache__/\n.pytest_cache/\nstdout\nstderr\n"
    eval_project(broken=frozenset(), files={"evals/double.yaml": text, ".gitignore": ignore})
    argv = (sys.executable, "-m", "pytest", "--gatekeeper")  # the tree stays as it is
    assert pytester.run(*argv).ret == 0
    again = pytester.run(*argv)
    assert again.ret == 0
    assert "tests not run again" not in again.stdout.str()
    again.assert_outcomes(passed=21)  # test_add and every case ran again


def test_without_repeats_the_session_pass_is_reused(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    # The control for the test above: the same project without repeats reuses its pass.
    ignore = ".gatekeeper/\n__pycache__/\n.pytest_cache/\nstdout\nstderr\n"
    eval_project(broken=frozenset(), files={".gitignore": ignore})
    argv = (sys.executable, "-m", "pytest", "--gatekeeper")
    assert pytester.run(*argv).ret == 0
    again = pytester.run(*argv)
    assert again.ret == 0
    assert "tests not run again" in again.stdout.str()


# Right on every call but the first: one of five runs fails.
ONCE_WRONG = """CALLS = []


def double(x):
    CALLS.append(x)
    return 2 * x + (1 if len(CALLS) == 1 else 0)
"""


def test_a_case_that_only_repeats_fails_when_one_run_fails(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_dataset: Callable[..., str],
) -> None:
    text = make_eval_dataset(count=1).replace("id: c1\n", "id: c1\n    repeats: 5\n")
    eval_project(files={"evals/double.yaml": text, "pkg/target.py": ONCE_WRONG})
    result = pytester.runpytest_subprocess("evals")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*runs: 4 of 5 passed, 5 needed*"])
