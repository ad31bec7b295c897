"""The JSON report (schema: ``docs/report-schema.md``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from gatekeeper.model import CheckResult, Finding, Report

SCHEMA_VERSION = 1


def finding_dict(finding: Finding) -> dict[str, object]:
    data: dict[str, object] = {
        "check": finding.check,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "code": finding.code,
        "message": finding.message,
        "severity": finding.severity.value,
        "fingerprint": finding.fingerprint,
    }
    if finding.new is not None:
        data["new"] = finding.new
    return data


def check_dict(result: CheckResult) -> dict[str, object]:
    return {
        "name": result.name,
        "status": result.status.value,
        "summary": result.summary,
        "rule": result.rule,
        "duration": round(result.duration, 3),
        "ran": list(result.ran),
        "cached": result.cached,
        "metrics": dict(result.metrics),
        "findings": [finding_dict(f) for f in result.findings],
    }


def to_dict(report: Report) -> dict[str, object]:
    git = report.git
    data: dict[str, object] = {
        "schema": SCHEMA_VERSION,
        "verdict": report.verdict.value,
        "rule": report.rule,
        "duration": round(report.duration, 3),
        "gatekeeper": report.version,
        "git": None if git is None else {"root": git.root, "branch": git.branch, "head": git.head},
        "config": dict(report.config),
        "checks": [check_dict(c) for c in report.checks],
    }
    if report.integration is not None:  # integration: the merge result's gate
        data["integration"] = dict(report.integration)
    return data


def write(report: Report, path: Path) -> None:
    """Write atomically, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_dict(report), indent=2, sort_keys=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    Path(temporary).chmod(0o644)  # mkstemp makes it private; a report is for everyone to read
    Path(temporary).replace(path)
