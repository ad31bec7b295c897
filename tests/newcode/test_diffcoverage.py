"""Diff coverage: every changed executable line is judged, and the uncovered ones are named."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.newcode.diffcoverage import DiffCoverage

# A tested module large enough that one untested function leaves the total above fail-under.
TESTED = "".join(f"def f{i}(x: int) -> int:\n    return x + {i}\n\n\n" for i in range(20))
TESTED_TEST = "from pkg.tested import *  # noqa: F403\n\n\ndef test_all() -> None:\n" + "".join(
    f"    assert f{i}(0) == {i}  # noqa: F405\n" for i in range(20)
)
GATEKEEPER = """\
[tool.gatekeeper]
checks = ["tests", "coverage"]
cache = false

[tool.gatekeeper.coverage]
fail-under = 80
diff-fail-under = 100
"""
UNTESTED = """

def untested(x: int) -> int:
    y = x * 2
    return y + 1
"""


def test_meets_counts_lines_exactly() -> None:
    assert DiffCoverage(0, 0).meets(100)
    assert DiffCoverage(3, 3).meets(100)
    assert not DiffCoverage(1000, 999).meets(100)
    assert DiffCoverage(10, 9).meets(90) and not DiffCoverage(10, 8).meets(90)


def test_an_untested_new_function_fails_diff_coverage_with_its_lines_named(
    project: Callable[..., Path], pytester: pytest.Pytester, run_git: Callable[..., str]
) -> None:
    root = project(
        {"pkg/tested.py": TESTED, "tests/test_tested.py": TESTED_TEST}, gatekeeper=GATEKEEPER
    )
    run_git(root, "switch", "-q", "-c", "feature")
    clean = pytester.run(sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider")
    assert clean.ret == 0, clean.stdout.str()

    path = Path(root, "pkg", "tested.py")
    path.write_text(path.read_text(encoding="utf-8") + UNTESTED, encoding="utf-8")
    run_git(root, "commit", "-q", "-am", "add an untested function")
    result = pytester.run(sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider")

    assert result.ret == 1
    start = len(TESTED.splitlines()) + 3  # the def line; its two body lines follow
    result.stdout.fnmatch_lines(
        [
            "FAILED*coverage*>= fail-under 80%; changed lines 33.3% covered (2 of 3 uncovered)*",
            f"*pkg/tested.py:{start + 1}:1: diff-coverage changed lines not covered by the "
            f"tests: {start + 1}-{start + 2}",
        ]
    )
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    [coverage] = report["checks"][1:]
    assert coverage["metrics"]["percent"] >= 80  # the total alone would have passed
    assert coverage["metrics"]["diff_uncovered"] == 2


def test_a_diff_attribute_does_not_switch_diff_coverage_off(
    project: Callable[..., Path], pytester: pytest.Pytester, run_git: Callable[..., str]
) -> None:
    # `*.py -diff` makes git call the files binary: no hunks, "0 of 0" changed lines.
    root = project(
        {"pkg/tested.py": TESTED, "tests/test_tested.py": TESTED_TEST}, gatekeeper=GATEKEEPER
    )
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("*.py -diff\n")
    run_git(root, "switch", "-q", "-c", "feature")
    path = Path(root, "pkg", "tested.py")
    path.write_text(path.read_text(encoding="utf-8") + UNTESTED, encoding="utf-8")
    run_git(root, "commit", "-q", "-am", "add an untested function")

    result = pytester.run(sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider")

    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*changed lines 33.3% covered (2 of 3 uncovered)*"])
