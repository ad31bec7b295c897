"""The terminal section and the JSON report, both read from the one report model."""

from __future__ import annotations

import json
from pathlib import Path

from gatekeeper.model import CheckResult, Finding, GitFacts, Report, Severity, Status, decide
from gatekeeper.reports import json as json_report
from gatekeeper.reports import terminal


def finding(line: int, severity: Severity = Severity.ERROR, new: bool | None = None) -> Finding:
    return Finding("lint", "a.py", line, 1, "F401", f"problem {line}", severity, f"fp{line}", new)


def make_report(*checks: CheckResult) -> Report:
    verdict, rule = decide(checks)
    git = GitFacts("/repo", "main", "a" * 40)
    return Report(verdict, rule, checks, git, {"paths": ["pkg"]}, "1.0", 2.5)


def test_findings_are_capped_with_a_count_of_the_rest() -> None:
    many = tuple(finding(n) for n in range(1, 15))
    report = make_report(CheckResult("lint", Status.FAILED, "14 finding(s)", findings=many))
    lines = [text for text, _ in terminal.render(report)]
    assert sum(1 for line in lines if "F401" in line) == terminal.FINDINGS_SHOWN
    assert "    ... and 4 more (see the JSON report)" in lines


def test_errors_come_first_and_known_findings_are_hidden() -> None:
    shown = (finding(1, Severity.WARNING), finding(2), finding(3, new=False))
    report = make_report(CheckResult("lint", Status.FAILED, "", findings=shown))
    lines = [text for text, _ in terminal.render(report) if "problem" in text]
    assert lines == ["    a.py:2:1: F401 problem 2", "    a.py:1:1: F401 problem 1"]


def test_the_verdict_names_what_failed() -> None:
    report = make_report(
        CheckResult("tests", Status.PASSED, "1 passed"),
        CheckResult("types", Status.ERROR, "mypy could not run"),
    )
    assert not report.passed
    assert report.rule == "every enabled check must pass; types error"
    assert terminal.verdict_line(report) == ("gatekeeper failed (types)", "red")


def test_an_empty_gate_is_not_a_pass() -> None:
    assert decide(()) == (Status.FAILED, "no check ran; an empty gate is not a pass")


def test_skipped_checks_do_not_fail_the_gate_and_are_counted_as_skipped() -> None:
    report = make_report(
        CheckResult("tests", Status.PASSED, "1 passed"),
        CheckResult("lint", Status.PASSED, "no findings"),
        CheckResult("evals", Status.SKIPPED, "no datasets"),
    )
    assert report.passed
    # Not "all 3 enabled checks passed": one of them judged nothing.
    assert report.rule == "2 passed, 1 skipped (evals); no enabled check failed"
    lines = [text for text, _ in terminal.render(report)]
    assert "gatekeeper passed: 2 passed, 1 skipped (evals); no enabled check failed" in lines


def test_a_gate_whose_every_check_skipped_judged_nothing_and_fails() -> None:
    report = make_report(CheckResult("evals", Status.SKIPPED, "no datasets"))
    assert not report.passed
    assert report.rule == (
        "0 passed, 1 skipped (evals): every enabled check skipped, so nothing was judged"
    )


def test_the_json_report_has_the_documented_shape(tmp_path: Path) -> None:
    report = make_report(
        CheckResult("lint", Status.FAILED, "1", rule="r", findings=(finding(3, new=True),))
    )
    path = tmp_path / "deep" / "report.json"
    json_report.write(report, path)
    data = json.loads(path.read_text())
    assert data["verdict"] == "failed"
    assert data["git"] == {"root": "/repo", "branch": "main", "head": "a" * 40}
    assert data["config"] == {"paths": ["pkg"]}
    assert data["gatekeeper"] == "1.0"
    (check,) = data["checks"]
    assert check["findings"] == [
        {
            "check": "lint",
            "path": "a.py",
            "line": 3,
            "column": 1,
            "code": "F401",
            "message": "problem 3",
            "severity": "error",
            "fingerprint": "fp3",
            "new": True,
        }
    ]
    assert list(path.parent.iterdir()) == [path]
