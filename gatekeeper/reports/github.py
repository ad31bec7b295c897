"""GitHub Actions output: workflow-command annotations and the Markdown step summary.

Annotations are printed worst first and within GitHub's display caps (10 errors and 10 warnings
per step), then one line counts the rest, so the problems that matter are the ones shown.
The step summary is Markdown appended to ``$GITHUB_STEP_SUMMARY``, kept under GitHub's 1 MiB.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from gatekeeper.model import CheckResult, Finding, Report, Severity, Status

# GitHub shows at most this many annotations of each level per step.
SHOWN_PER_LEVEL: Final = 10
# $GITHUB_STEP_SUMMARY accepts at most 1 MiB per step; leave room for the closing lines.
SUMMARY_LIMIT: Final = 1024 * 1024 - 4096
SUMMARY_FINDINGS: Final = 50
_ICON: Final = {
    Status.PASSED: "✅",
    Status.FAILED: "❌",
    Status.ERROR: "💥",
    Status.SKIPPED: "⏭️",
}


def escape_data(text: str) -> str:
    """Escape an annotation message (the part after ``::``) as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, properties: Mapping[str, str | int]) -> str:
    """One workflow command line, e.g. ``::error file=a.py,line=3::message``."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return (
        f"::{level} {props}::{escape_data(message)}"
        if props
        else f"::{level}::{escape_data(message)}"
    )


def annotation(finding: Finding) -> str:
    """The annotation of one finding; line and column only when known."""
    properties: dict[str, str | int] = {"file": finding.path}
    if finding.line > 0:
        properties["line"] = finding.line
    if finding.column > 0:
        properties["col"] = finding.column
    properties["title"] = f"gatekeeper {finding.check}: {finding.code}"
    return command(finding.severity.value, finding.message, properties)


def _shown_findings(report: Report) -> list[Finding]:
    """Findings that fail the gate (not the ones a baseline accepts), worst first."""
    found = [f for c in report.checks if not c.ok for f in c.findings if f.new is not False]
    return sorted(found, key=lambda f: f.sort_key())


def annotation_lines(report: Report) -> Iterator[str]:
    """Every annotation line to print, capped per level, then a count of what was left out.

    A check that could not run is an error annotation too, and comes first: it counts within
    the errors' cap like any finding.
    """
    errored = [
        command("error", result.summary, {"title": f"gatekeeper {result.name} error"})
        for result in report.checks
        if result.status is Status.ERROR
    ]
    findings = _shown_findings(report)
    left_out = 0
    for level in (Severity.ERROR, Severity.WARNING):
        lines = [annotation(f) for f in findings if f.severity is level]
        if level is Severity.ERROR:
            lines = errored + lines
        yield from lines[:SHOWN_PER_LEVEL]
        left_out += max(0, len(lines) - SHOWN_PER_LEVEL)
    if left_out:
        yield (
            f"gatekeeper: {left_out} more annotation(s) not shown "
            "(GitHub shows 10 per level and step); see the step summary and the JSON report."
        )


def summary(report: Report) -> str:
    """The step summary in Markdown: verdict, rule, a table of checks, then findings."""
    parts = [_head(report), *(_findings_section(c) for c in report.checks if c.findings)]
    text = "\n".join(parts)
    if len(text.encode()) <= SUMMARY_LIMIT:
        return text
    cut = text.encode()[:SUMMARY_LIMIT].decode(errors="ignore")
    return cut + "\n\n_The summary was cut to stay under GitHub's 1 MiB limit._\n"


def _head(report: Report) -> str:
    lines = [
        f"## {_ICON[report.verdict]} gatekeeper {report.verdict.value}",
        "",
        f"**Rule:** {_cell(report.rule)}",
        "",
        "| check | status | summary | duration |",
        "|---|---|---|---|",
    ]
    lines += [_row(result) for result in report.checks]
    return "\n".join(lines) + "\n"


def _row(result: CheckResult) -> str:
    status = f"{_ICON[result.status]} {result.status.value}"
    return f"| {result.name} | {status} | {_cell(result.summary)} | {result.duration:.1f}s |"


def _findings_section(result: CheckResult) -> str:
    shown = sorted(result.findings, key=lambda f: f.sort_key())
    lines = [f"### {result.name}: {len(shown)} finding(s)", ""]
    lines += [
        f"- `{f.path}:{f.line}:{f.column}` **{_cell(f.code)}** {_cell(f.message)}"
        for f in shown[:SUMMARY_FINDINGS]
    ]
    if len(shown) > SUMMARY_FINDINGS:
        lines.append(f"- ... and {len(shown) - SUMMARY_FINDINGS} more (see the JSON report)")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell or list item."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def write(report: Report, env: Mapping[str, str]) -> list[str]:
    """Print the annotations to stdout and append the summary to ``$GITHUB_STEP_SUMMARY``.

    Returns the annotation lines printed. Without ``GITHUB_STEP_SUMMARY`` only annotations are
    printed (outside Actions they are harmless text).
    """
    lines = list(annotation_lines(report))
    for line in lines:
        print(line, flush=True)
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(summary(report) + "\n")
    return lines
