"""JUnit XML of the gate's checks: one test case per check, so CI test views show the gate.

A failed check is a ``<failure>`` whose text lists its findings; a check that could not judge is
an ``<error>``; a skipped check is ``<skipped>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.model import CheckResult, Report, Status

# Characters XML 1.0 cannot hold, even escaped (tool output sometimes carries them).
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("?", text)


def to_element(report: Report) -> ET.Element:
    """The ``<testsuites>`` element of ``report``."""
    counts = {status: sum(c.status is status for c in report.checks) for status in Status}
    attributes = {
        "name": "gatekeeper",
        "tests": str(len(report.checks)),
        "failures": str(counts[Status.FAILED]),
        "errors": str(counts[Status.ERROR]),
        "skipped": str(counts[Status.SKIPPED]),
        "time": f"{report.duration:.3f}",
    }
    suites = ET.Element("testsuites", attributes)
    suite = ET.SubElement(suites, "testsuite", attributes)
    for result in report.checks:
        suite.append(_case(result))
    return suites


def _case(result: CheckResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {"classname": "gatekeeper", "name": result.name, "time": f"{result.duration:.3f}"},
    )
    tag = {Status.FAILED: "failure", Status.ERROR: "error", Status.SKIPPED: "skipped"}
    if result.status in tag:
        outcome = ET.SubElement(
            case, tag[result.status], {"message": _clean(result.summary), "type": result.name}
        )
        outcome.text = _clean(_details(result))
    return case


def _details(result: CheckResult) -> str:
    lines = [f"rule: {result.rule}"] if result.rule else []
    lines += [
        f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}"
        for f in sorted(result.findings, key=lambda f: f.sort_key())
    ]
    return "\n".join(lines)


def write(report: Report, path: Path) -> None:
    """Write the JUnit XML to ``path`` (parents created), replacing it in one rename."""
    root = to_element(report)
    ET.indent(root)
    text = ET.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8")
    atomic.write_text(path, text, mode=0o644)  # a report is for everyone to read
