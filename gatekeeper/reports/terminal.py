"""The terminal section: every check, its status and duration, the findings, and the rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from gatekeeper.model import CheckResult, Report, Status

# How each status is shown: a label and a colour keyword understood by pytest's TerminalWriter.
STYLE: Final = {
    Status.PASSED: ("PASSED", "green"),
    Status.FAILED: ("FAILED", "red"),
    Status.ERROR: ("ERROR", "red"),
    Status.SKIPPED: ("SKIPPED", "yellow"),
}
FINDINGS_SHOWN: Final = 10

Line = tuple[str, str | None]  # text, colour
Writer = Callable[[str, str | None], None]


def render(report: Report, report_path: str | None = None) -> Iterator[Line]:
    """The lines of the section, most severe findings first, capped with a count of the rest."""
    for result in report.checks:
        yield from _check_lines(result)
    label, colour = STYLE[report.verdict]
    yield "", None
    yield f"gatekeeper {label.lower()}: {report.rule}", colour
    if report_path:
        yield f"report: {report_path}", None


def _check_lines(result: CheckResult) -> Iterator[Line]:
    label, colour = STYLE[result.status]
    cached = ", cached" if result.cached else ""
    yield f"{label:<8} {result.name:<11} {result.summary} ({result.duration:.1f}s{cached})", colour
    if result.status is Status.ERROR:
        return
    shown = sorted(result.findings, key=lambda f: f.sort_key())
    fresh = [f for f in shown if f.new is not False]
    for finding in fresh[:FINDINGS_SHOWN]:
        yield (
            f"    {finding.path}:{finding.line}:{finding.column}: {finding.code} "
            + finding.message,
            None,
        )
    if len(fresh) > FINDINGS_SHOWN:
        yield f"    ... and {len(fresh) - FINDINGS_SHOWN} more (see the JSON report)", None


def verdict_line(report: Report) -> Line:
    """One closing line: the verdict and which checks decided it."""
    label, colour = STYLE[report.verdict]
    bad = [c.name for c in report.checks if not c.ok]
    detail = f" ({', '.join(bad)})" if bad else ""
    return f"gatekeeper {label.lower()}{detail}", colour


def emit(lines: Iterator[Line], write: Writer) -> None:
    for text, colour in lines:
        write(text, colour)
