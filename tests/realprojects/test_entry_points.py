"""Every entry point judges a real project alike: ``pytest --gatekeeper``, ``gatekeeper run`` and
``pytest --gatekeeper -n 2`` give one verdict and the same findings, and each measures the
coverage figure coverage.py itself measures in the same checkout, to 0.01 percentage points.

One test runs the three entry points once each (every run of a real suite is long) and compares
them all; the result cache is bypassed, so each run judges for itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coverage.results import display_covered

from tests.realprojects.workspace import Checkout

# Each run does the whole work, and leaves no pytest cache in the checkout.
COMMON = ("--gatekeeper-no-cache", "-q", "-p", "no:cacheprovider")
# Part of a check's result that may differ from run to run of the same tree.
VARYING = ("duration",)


def entry_points(project: Checkout) -> dict[str, tuple[str, ...]]:
    """The three commands, as a developer with the project's venv types them."""
    pytest = (str(project.venv / "bin" / "python"), "-m", "pytest", "--gatekeeper", *COMMON)
    return {
        "pytest --gatekeeper": pytest,
        "gatekeeper run": (str(project.venv / "bin" / "gatekeeper"), "run", *COMMON),
        "pytest --gatekeeper -n 2": (*pytest, "-n", "2"),
    }


def coverage_figure(project: Checkout) -> str:
    """The total coverage.py reports for the project's own suite, to two decimals: `coverage
    run` around plain pytest (gatekeeper's plugin blocked), parallel data combined."""
    measure = ("-m", "coverage", "run", "--parallel-mode")
    tests = ("-m", "pytest", "-p", "no:gatekeeper", "-q", "-p", "no:cacheprovider")
    ran = project.python(*measure, *project.project.coverage_args, *tests)
    assert ran.returncode == 0, ran.stdout[-3000:]
    combined = project.python("-m", "coverage", "combine")
    assert combined.returncode == 0, combined.stdout
    total = project.python("-m", "coverage", "report", "--format=total", "--precision=2")
    assert total.returncode == 0, total.stdout
    return total.stdout.strip()


@dataclass(frozen=True, slots=True)
class Judgement:
    """What one entry point decided: its exit status, the report's verdict and rule, and every
    check's result but its duration; with the coverage figure and the output's tail apart."""

    decided: dict[str, Any]
    coverage: str
    output: str


def judge(project: Checkout, argv: Sequence[str]) -> Judgement:
    """Run one entry point and read the report it wrote (it must write one)."""
    report_file = project.root / ".gatekeeper" / "report.json"
    report_file.unlink(missing_ok=True)  # only this run's report counts
    done = project.run(*argv)
    output = done.stdout[-3000:]
    assert report_file.is_file(), f"`{' '.join(argv)}` wrote no report:\n{output}"
    report = project.report()
    checks = {
        check["name"]: {k: v for k, v in check.items() if k not in VARYING}
        for check in report["checks"]
    }
    decided = {"exit": done.returncode, "verdict": report["verdict"], "rule": report["rule"]}
    percent = checks["coverage"]["metrics"]["percent"]
    return Judgement({**decided, **checks}, display_covered(percent, 2), output)


def differences(one: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Where two judgements differ (a check, the verdict, ...), each with both values."""
    keys = sorted({*one, *other})
    return [f"{k}: {one.get(k)} != {other.get(k)}" for k in keys if one.get(k) != other.get(k)]


def test_every_entry_point_gives_one_verdict_and_coverage_s_own_figure(
    real_project: Checkout,
) -> None:
    reference = coverage_figure(real_project)
    judged = {name: judge(real_project, argv) for name, argv in entry_points(real_project).items()}

    (first, one), *others = judged.items()
    for name, other in others:
        differ = differences(one.decided, other.decided)
        assert not differ, f"{first} and {name} judge otherwise:\n" + "\n".join(differ)
    figures = {name: j.coverage for name, j in judged.items()}
    assert figures == dict.fromkeys(judged, reference), f"coverage.py measures {reference}%"
    # Adopted with a baseline and a fail-under below what its suite covers: the project passes.
    for name, j in judged.items():
        assert (j.decided["verdict"], j.decided["exit"]) == ("passed", 0), f"{name}:\n{j.output}"
