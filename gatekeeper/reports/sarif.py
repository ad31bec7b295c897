"""SARIF 2.1.0: the gate's findings for GitHub code scanning and other SARIF readers.

One run, one rule per check and code (``lint/F401``). Paths are relative to ``%SRCROOT%`` (the
worktree root), as code scanning expects; a finding's fingerprint becomes a partial fingerprint,
so code scanning tracks a problem across line shifts the same way the baseline does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.model import Finding, Report, Severity, Status

SCHEMA: Final = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
VERSION: Final = "2.1.0"
# GitHub code scanning rejects runs with more results than this.
MAX_RESULTS: Final = 25_000
INFORMATION_URI: Final = "https://pypi.org/project/pytest-gatekeeper/"


def rule_id(finding: Finding) -> str:
    return f"{finding.check}/{finding.code}"


def to_dict(report: Report) -> dict[str, object]:
    """The SARIF log of ``report``: findings that fail the gate, worst first, capped."""
    findings = sorted(
        (f for c in report.checks for f in c.findings if f.new is not False),
        key=lambda f: f.sort_key(),
    )[:MAX_RESULTS]
    rules = sorted({rule_id(f) for f in findings})
    index = {rule: number for number, rule in enumerate(rules)}
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "gatekeeper",
                "version": report.version,
                "informationUri": INFORMATION_URI,
                "rules": [{"id": rule, "name": rule.replace("/", "-")} for rule in rules],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The worktree root."}}},
        "invocations": [_invocation(report)],
        "results": [_result(f, index[rule_id(f)]) for f in findings],
    }
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}


def _invocation(report: Report) -> dict[str, object]:
    notes = [
        {"level": "error", "message": {"text": f"{c.name}: {c.summary}"}}
        for c in report.checks
        if c.status is Status.ERROR
    ]
    invocation: dict[str, object] = {"executionSuccessful": not notes}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _result(finding: Finding, rule_index: int) -> dict[str, object]:
    location: dict[str, object] = {
        "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"}
    }
    if finding.line > 0:
        region: dict[str, int] = {"startLine": finding.line}
        if finding.column > 0:
            region["startColumn"] = finding.column
        location["region"] = region
    result: dict[str, object] = {
        "ruleId": rule_id(finding),
        "ruleIndex": rule_index,
        "level": "error" if finding.severity is Severity.ERROR else "warning",
        "message": {"text": finding.message or finding.code},
        "locations": [{"physicalLocation": location}],
    }
    if finding.fingerprint:
        result["partialFingerprints"] = {"gatekeeperFingerprint/v1": finding.fingerprint}
    return result


def write(report: Report, path: Path) -> None:
    """Write the SARIF log to ``path`` (parents created), replacing it in one rename."""
    text = json.dumps(to_dict(report), indent=2) + "\n"
    atomic.write_text(path, text, mode=0o644)  # a report is for everyone to read
