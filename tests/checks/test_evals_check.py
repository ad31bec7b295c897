"""The evals check end to end: real pytest sessions on real git projects with a dataset."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def gate_report(root: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((root / ".gatekeeper" / "report.json").read_text())
    return report


def evals_result(root: Path) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in gate_report(root)["checks"] if c["name"] == "evals")
    return found


def test_19_of_20_passes_at_threshold_0_9(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    root = eval_project(broken=frozenset({7}), threshold=0.9)
    result = pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert result.ret == 0, result.stdout.str()
    assert evals["status"] == "passed"
    assert evals["metrics"]["cases"] == 20  # collected although testpaths is tests/ only
    assert evals["metrics"]["passed"] == 19
    assert "pass rate >= threshold" in evals["rule"]
    assert [f["code"] for f in evals["findings"]] == ["EVAL-FAILED"]
    assert gate_report(root)["verdict"] == "passed"


def test_19_of_20_fails_at_threshold_0_97(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    root = eval_project(broken=frozenset({7}), threshold=0.97)
    result = pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert result.ret == 1
    assert evals["status"] == "failed"
    assert evals["rule"].startswith("pass rate must be >= threshold")
    assert "19/20 = 0.95 (threshold 0.97)" in evals["rule"]
    result.stdout.fnmatch_lines(["FAILED*evals*pass rate must be >= threshold*"])
    assert gate_report(root)["verdict"] == "failed"


def test_regression_against_baseline_fails_at_the_same_rate(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_target: Callable[[set[int]], str],
) -> None:
    root = eval_project(broken=frozenset({7}), threshold=0.9)
    recorded = pytester.run(_gatekeeper(), "evals", "baseline")
    assert recorded.ret == 0, recorded.stderr.str()
    assert (root / "evals" / "baseline.json").is_file()
    # Fix c7, break c3: still 19 of 20, so only the baseline can tell.
    (root / "pkg" / "target.py").write_text(make_eval_target({3}))
    result = pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert result.ret == 1
    assert evals["status"] == "failed"
    assert "evals/double.yaml::c3 regressed" in evals["rule"]
    codes = {f["code"]: f["message"] for f in evals["findings"]}
    assert "expected 6, actual 7" in codes["EVAL-REGRESSED"]
    assert codes["EVAL-FIXED"].startswith("evals/double.yaml::c7")
    result.stdout.fnmatch_lines(["*EVAL-REGRESSED evals/double.yaml::c3*"])


def test_stale_baseline_entry_gates_nothing(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    root = eval_project(broken=frozenset(), threshold=0.9)
    assert pytester.run(_gatekeeper(), "evals", "baseline").ret == 0
    # c3's expected value changes: its recorded pass says nothing about the new case.
    dataset = root / "evals" / "double.yaml"
    dataset.write_text(dataset.read_text().replace("expected: 6\n", "expected: 60\n"))
    result = pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert result.ret == 0, result.stdout.str()
    assert evals["metrics"]["stale"] == 1
    assert evals["metrics"]["regressed"] == 0


def test_duplicate_ids_name_file_and_id(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_dataset: Callable[..., str],
) -> None:
    text = make_eval_dataset(count=3).replace("id: c3", "id: c2")
    root = eval_project(files={"evals/double.yaml": text})
    result = pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert result.ret != 0
    assert evals["status"] == "error"
    assert "evals/double.yaml line 11: case 'c2' duplicate case id" in evals["summary"]
    output = result.stdout.str()
    assert "evals/double.yaml line 11: case 'c2' duplicate case id" in output
    assert "Traceback" not in output


def test_flaky_case_is_reported_not_gated(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_dataset: Callable[..., str],
) -> None:
    text = make_eval_dataset(count=4, threshold=1.0).replace(
        "    expected: 8\n", "    expected: 8\n    flaky: true\n"
    )
    root = eval_project(broken=frozenset({4}), files={"evals/double.yaml": text})
    result = pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert result.ret == 0, result.stdout.str()
    assert [f["code"] for f in evals["findings"]] == ["EVAL-FLAKY"]
    assert "3/3 = 1" in evals["summary"]


NONDETERMINISTIC = '''\
CALLS = [0]


def sometimes(x: int) -> int:
    """Right on every other call, like a sampled model."""
    CALLS[0] += 1
    return x if CALLS[0] % 2 else -x
'''


@pytest.mark.parametrize(("must_pass", "status"), [(2, "passed"), (3, "failed")])
def test_repeats_k_of_n(
    pytester: pytest.Pytester, eval_project: Callable[..., Path], must_pass: int, status: str
) -> None:
    dataset = (
        "target: pkg.flip:sometimes\nthreshold: 1\nscorer: number\n"
        f"repeats: 4\nmust_pass: {must_pass}\ncases:\n  - id: one\n    input: 5\n    expected: 5\n"
    )
    root = eval_project(files={"evals/double.yaml": dataset, "pkg/flip.py": NONDETERMINISTIC})
    pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert evals["status"] == status
    if status == "failed":
        assert "2 of 4 runs passed, 3 needed" in evals["findings"][0]["message"]


def test_no_datasets_is_skipped_with_reason(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    root = project(gatekeeper='[tool.gatekeeper]\nchecks = ["tests", "evals"]\n')
    result = pytester.runpytest_subprocess("--gatekeeper")
    evals = evals_result(root)
    assert result.ret == 0
    assert evals["status"] == "skipped"
    assert "no eval datasets" in evals["summary"]


def test_datasets_but_no_case_ran_fails(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    root = eval_project()
    result = pytester.runpytest_subprocess("--gatekeeper", "tests")
    assert result.ret == 1
    assert evals_result(root)["status"] == "failed"


def _gatekeeper() -> str:
    import sys

    return str(Path(sys.executable).with_name("gatekeeper"))
