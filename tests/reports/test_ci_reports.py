"""CI reports end to end: a gated pytest run inside a simulated GitHub Actions environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import make_project

SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0.json")
FAST_GATE = '\n[tool.gatekeeper]\nchecks = ["tests", "lint"]\n'


def gated_run(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", "run", "-q", *args],
        cwd=root,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    files = {"pkg/extra.py": '"""Extra."""\n\nimport os\n\nVALUE = 1\n'}
    return Path(make_project(tmp_path / "project", files, gatekeeper=FAST_GATE))


def test_a_lint_fault_in_actions_gives_annotation_summary_sarif_and_junit(
    faulty: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")

    done = gated_run(faulty, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})

    assert done.returncode == 1, done.stdout + done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    assert annotations == [
        "::error file=pkg/extra.py,line=3,col=8,title=gatekeeper lint%3A F401"
        "::`os` imported but unused"
    ]
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, never replaced
    assert "gatekeeper failed" in text and "| lint | ❌ failed |" in text
    assert "`pkg/extra.py:3:8` **F401**" in text

    sarif = json.loads((faulty / ".gatekeeper/report.sarif").read_text())
    sarif_validator().validate(sarif)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "lint/F401"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3,
        "startColumn": 8,
    }

    junit = ET.parse(faulty / ".gatekeeper/report.junit.xml").getroot()
    cases = {case.get("name"): case for case in junit.iter("testcase")}
    assert set(cases) == {"tests", "lint"}
    failure = cases["lint"].find("failure")
    assert failure is not None and "pkg/extra.py:3:8: F401" in (failure.text or "")
    assert cases["tests"].find("failure") is None


def test_outside_actions_no_ci_report_unless_asked(faulty: Path) -> None:
    quiet = gated_run(faulty, {})
    assert "::error" not in quiet.stdout
    assert not (faulty / ".gatekeeper/report.sarif").exists()

    asked = gated_run(faulty, {}, "--gatekeeper-report-format=sarif")
    assert "::error" not in asked.stdout
    sarif_validator().validate(json.loads((faulty / ".gatekeeper/report.sarif").read_text()))


def test_an_unknown_report_format_is_a_usage_error(faulty: Path) -> None:
    done = gated_run(faulty, {}, "--gatekeeper-report-format=html")
    assert done.returncode == 4
    assert "report-format does not accept 'html'" in done.stdout + done.stderr


def test_annotations_start_a_line_after_pytests_progress(tmp_path: Path) -> None:
    # Nothing to wait for after the tests: the annotation follows pytest's " [100%]" at once, on
    # a line pytest's own ensure_newline() does not know is open (-q).
    files = {"tests/test_add.py": "def test_bad() -> None:\n    assert 1 == 2\n"}
    root = make_project(
        tmp_path / "p", files, gatekeeper='\n[tool.gatekeeper]\nchecks = ["tests"]\n'
    )
    summary = tmp_path / "summary.md"
    done = gated_run(root, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1
    (annotation,) = [line for line in done.stdout.splitlines() if "::error" in line]
    assert annotation.startswith("::error file=tests/test_add.py,line=1,col=1,"), done.stdout
