"""The GitHub, SARIF and JUnit writers over hand-built reports: escaping, order, caps, limits."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from gatekeeper.model import CheckResult, Finding, Report, Severity, Status, decide
from gatekeeper.reports import github, junit, sarif

SCHEMA = json.loads(Path(__file__).with_name("sarif-schema-2.1.0.json").read_text())


def finding(line: int, severity: Severity = Severity.ERROR, **extra: str) -> Finding:
    fields = {"path": "pkg/a.py", "code": "E1", "message": f"problem {line}", **extra}
    return Finding("lint", fields["path"], line, 1, fields["code"], fields["message"], severity)


def report(*results: CheckResult) -> Report:
    verdict, rule = decide(results)
    return Report(verdict, rule, results, None, {}, "1.0")


def failed(*findings: Finding, name: str = "lint") -> CheckResult:
    return CheckResult(name, Status.FAILED, f"{len(findings)} finding(s)", "none", findings)


def test_annotation_escapes_message_and_properties() -> None:
    odd = finding(2, path="dir,x/a:b.py", code="E%1", message="50% off\r\nsecond line")
    line = github.annotation(odd)
    assert line == (
        "::error file=dir%2Cx/a%3Ab.py,line=2,col=1,title=gatekeeper lint%3A E%251"
        "::50%25 off%0D%0Asecond line"
    )


def test_annotations_are_worst_first_capped_per_level_with_a_count() -> None:
    warnings = [finding(n, Severity.WARNING) for n in range(1, 13)]
    errors = [finding(n) for n in range(100, 115)]
    lines = list(github.annotation_lines(report(failed(*warnings, *errors))))

    assert [line.split(" ")[0] for line in lines[:20]] == ["::error"] * 10 + ["::warning"] * 10
    assert "line=100," in lines[0]
    assert lines[-1].startswith("gatekeeper: 7 more annotation(s) not shown")
    assert len(lines) == 21


def test_a_check_that_could_not_run_is_an_error_annotation() -> None:
    broken = CheckResult("types", Status.ERROR, "mypy crashed: 100% sad", "must run")
    (line,) = github.annotation_lines(report(broken))
    assert line == "::error title=gatekeeper types error::mypy crashed: 100%25 sad"


def test_baseline_accepted_and_passing_findings_are_not_annotated() -> None:
    accepted = Finding("lint", "a.py", 1, 1, "E1", "old", new=False)
    passing = CheckResult("types", Status.PASSED, "ok", findings=(finding(3),))
    assert list(github.annotation_lines(report(failed(accepted), passing))) == []


def test_step_summary_stays_under_the_limit_and_is_appended(tmp_path: Path) -> None:
    huge = [finding(n, message="x" * 5000) for n in range(1, 400)]
    many = tuple(failed(*huge, name=f"check{n}") for n in range(5))
    text = github.summary(report(*many))
    assert len(text.encode()) <= 1024 * 1024
    assert "... and 349 more" in text

    target = tmp_path / "summary.md"
    github.write(report(failed(finding(1, message="a | b"))), {"GITHUB_STEP_SUMMARY": str(target)})
    github.write(report(failed(finding(2))), {"GITHUB_STEP_SUMMARY": str(target)})
    written = target.read_text()
    assert written.count("## ❌ gatekeeper failed") == 2
    assert "a \\| b" in written


def test_sarif_is_valid_with_and_without_lines_and_caps_results() -> None:
    no_line = Finding("types", "pyproject.toml", 0, 0, "misc", "", fingerprint="abc")
    broken = CheckResult("complexity", Status.ERROR, "radon crashed", "must run")
    log = sarif.to_dict(report(failed(finding(1), no_line, name="types"), broken))

    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]  # type: ignore[index]
    assert run["invocations"][0]["executionSuccessful"] is False
    first, second = run["results"]
    assert "region" not in second["locations"][0]["physicalLocation"]
    assert second["partialFingerprints"] == {"gatekeeperFingerprint/v1": "abc"}
    assert second["message"]["text"] == "misc"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["lint/E1", "types/misc"]
    assert first["ruleIndex"] == 0 and second["ruleIndex"] == 1


def test_sarif_caps_results_per_run() -> None:
    many = failed(*(finding(n) for n in range(1, sarif.MAX_RESULTS + 5)))
    assert len(sarif.to_dict(report(many))["runs"][0]["results"]) == sarif.MAX_RESULTS  # type: ignore[index]


def test_junit_has_one_case_per_check_with_outcome_and_clean_xml(tmp_path: Path) -> None:
    results = (
        CheckResult("tests", Status.PASSED, "3 passed", duration=1.5),
        failed(finding(4, message="bad \x1b[31m colour")),
        CheckResult("types", Status.ERROR, "mypy crashed", "must run"),
        CheckResult("complexity", Status.SKIPPED, "no paths"),
    )
    path = tmp_path / "out" / "junit.xml"
    junit.write(report(*results), path)

    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    assert suite.get("skipped") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["tests"].get("time") == "1.500" and len(cases["tests"]) == 0
    lint_failure = cases["lint"].find("failure")
    assert lint_failure is not None and "bad ?[31m colour" in (lint_failure.text or "")
    assert cases["types"].find("error") is not None
    assert cases["complexity"].find("skipped") is not None
