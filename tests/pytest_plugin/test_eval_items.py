"""Eval cases as pytest items: collection, -k, --lf and xdist, in real pytest sessions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

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
