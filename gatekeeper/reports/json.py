"""The JSON report (schema: ``docs/report-schema.md``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from gatekeeper import atomic
from gatekeeper.model import CheckResult, Finding, Report, Severity, Status

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


def check_from_dict(data: Mapping[str, object]) -> CheckResult:
    """The inverse of :func:`check_dict` (``cached`` is not read back); raises ValueError,
    TypeError or KeyError on bad input."""
    findings = data["findings"]
    metrics = data["metrics"]
    ran = data["ran"]
    if not (isinstance(findings, list) and isinstance(metrics, dict) and isinstance(ran, list)):
        raise TypeError("findings, metrics and ran must be a list, a mapping and a list")
    return CheckResult(
        name=str(data["name"]),
        status=Status(str(data["status"])),
        summary=str(data["summary"]),
        rule=str(data["rule"]),
        findings=tuple(finding_from_dict(item) for item in findings),
        metrics={str(k): _metric(v) for k, v in metrics.items()},
        duration=float(str(data["duration"])),
        ran=tuple(str(item) for item in ran),
    )


def finding_from_dict(item: Mapping[str, object]) -> Finding:
    """The inverse of :func:`finding_dict`; raises ValueError, TypeError or KeyError."""
    new = item.get("new")  # the report's form: present only when a baseline judged it
    if new is not None and not isinstance(new, bool):
        raise TypeError(f"new is {new!r}")
    return Finding(
        check=str(item["check"]),
        path=str(item["path"]),
        line=int(str(item["line"])),
        column=int(str(item["column"])),
        code=str(item["code"]),
        message=str(item["message"]),
        severity=Severity(str(item["severity"])),
        fingerprint=str(item["fingerprint"]),
        new=new,
    )


def _metric(value: object) -> float | int | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"metric value {value!r}")
    return value


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
    text = json.dumps(to_dict(report), indent=2, sort_keys=False) + "\n"
    atomic.write_text(path, text, mode=0o644)  # a report is for everyone to read
