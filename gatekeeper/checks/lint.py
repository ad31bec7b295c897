"""``lint``: ``ruff check`` and ``ruff format --check``, both with JSON output.

Ruff reads the project's own configuration, and never one above the project's root
(:mod:`gatekeeper.project.discovery`). Exit status 2 (or output that is not
the JSON we expect) means ruff could not judge, which is an error, never "no findings". One
exception: ``ruff format --check`` also exits 2 when a file does not parse. That is a finding about
the user's code (``ruff check`` reports the same syntax errors), not a broken configuration.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gatekeeper.checks import ruffpin
from gatekeeper.checks.base import CheckContext
from gatekeeper.checks.tools import python_module, require_module, run_tool
from gatekeeper.config import Option
from gatekeeper.errors import ToolError
from gatekeeper.model import CheckResult, Finding, Status
from gatekeeper.newcode.fingerprint import edits_fingerprint
from gatekeeper.process import Completed
from gatekeeper.project import discovery
from gatekeeper.project.paths import relative


class LintCheck:
    name = "lint"
    description = "ruff check and ruff format --check"
    needs_session = False

    def options(self) -> Sequence[Option]:
        return ()

    def run(self, context: CheckContext) -> CheckResult:
        require_module("ruff", "ruff")
        settings = context.settings
        timeout = settings.number("lint.timeout")
        paths = settings.strings("lint.paths") or ["."]
        extra = settings.strings("lint.args")
        check_argv = python_module(
            "ruff",
            "check",
            "--output-format",
            "json",
            "--no-fix",
            "--force-exclude",
            # ruff's cache trusts a file's modification time: an edit that keeps it is missed.
            "--no-cache",
            # Never a configuration above the project's root (gatekeeper/project/discovery.py).
            *discovery.ruff_args(context.root, extra),
            *extra,
            *paths,
        )
        ruff = ruffpin.judge(context.root, settings.text("lint.ruff-version"))
        runs = [run_tool(check_argv, context.root, timeout)]
        findings = parse_ruff(runs[0], context.root, "lint")
        if settings.flag("lint.format"):
            format_argv = python_module(
                "ruff",
                "format",
                "--check",
                "--output-format",
                "json",
                "--force-exclude",
                "--no-cache",
                *discovery.ruff_args(context.root),
                *ruff.format_args(),
                *paths,
            )
            runs.append(run_tool(format_argv, context.root, timeout))
            findings += parse_ruff_format(runs[1], context.root, findings)
        status = Status.FAILED if findings else Status.PASSED
        summary = f"{len(findings)} finding(s)" if findings else "no findings"
        return CheckResult(
            self.name,
            status,
            f"{summary} ({ruff.note()})",
            rule="ruff reports no finding" + (" and no file to reformat" if len(runs) > 1 else ""),
            findings=tuple(findings),
            metrics=_metrics(len(findings), ruff),
            ran=tuple(run.command for run in runs),
        )


def _metrics(findings: int, ruff: ruffpin.Judge) -> dict[str, float | int | str]:
    """The count, and which ruff judged against which pin (the report's readers compare)."""
    metrics: dict[str, float | int | str] = {"findings": findings}
    metrics["ruff"] = ruff.installed or "unknown"
    if ruff.pin is not None:
        metrics["ruff-pin"] = ruff.pin.version
    return metrics


def parse_ruff(run: Completed, root: Path, check: str) -> list[Finding]:
    """Findings from ruff's JSON; an exit status other than 0 or 1, or bad JSON, is an error."""
    if run.returncode not in (0, 1):
        raise ToolError(
            f"`{run.command}` could not run (exit status {run.returncode}): {run.tail()}\n"
            "Fix the ruff configuration or the arguments it names."
        )
    try:
        items = json.loads(run.stdout or "[]")
        findings = [_finding(item, root, check) for item in items]
    except (ValueError, TypeError, KeyError) as error:
        raise ToolError(
            f"`{run.command}` printed output that is not ruff's JSON ({error}): {run.tail()}"
        ) from None
    if run.returncode == 1 and not findings:
        raise ToolError(f"`{run.command}` exited 1 without reporting a finding: {run.tail()}")
    return findings


# ruff's code for a file that does not parse; older ruff printed none, which _finding names so.
SYNTAX_CODES = frozenset({"invalid-syntax", "syntax-error"})
FORMAT_CODES = SYNTAX_CODES | {"unformatted"}


def parse_ruff_format(run: Completed, root: Path, checked: Sequence[Finding]) -> list[Finding]:
    """Findings from ``ruff format --check``, as :func:`parse_ruff`, except that exit status 2
    with only files to reformat and files that do not parse is a finding, not an error.

    A syntax error ``ruff check`` already reported (in ``checked``) for the same file is not
    repeated.
    """
    found = _parse_failures(run, root) if run.returncode == 2 else None
    if found is None:
        return parse_ruff(run, root, "lint")
    reported = {f.path for f in checked if f.code in SYNTAX_CODES}
    return [f for f in found if f.code not in SYNTAX_CODES or f.path not in reported]


def _parse_failures(run: Completed, root: Path) -> list[Finding] | None:
    """ruff's findings when they hold a syntax error and nothing but syntax errors and files to
    reformat, and stderr has no error of its own (warnings are fine); None for anything else (which
    stays an error)."""
    if any(line.startswith("error") for line in run.stderr.splitlines()):
        return None
    try:
        found = parse_ruff(replace(run, returncode=1), root, "lint")
    except ToolError:
        return None
    codes = {f.code for f in found}
    return found if codes & SYNTAX_CODES and codes <= FORMAT_CODES else None


def _finding(item: dict[str, object], root: Path, check: str) -> Finding:
    location = item.get("location") or {}
    assert isinstance(location, dict)
    code = item.get("code") or "syntax-error"
    filename = item["filename"]
    if not isinstance(filename, str):
        raise TypeError(f"filename is {filename!r}")
    path = relative(Path(filename), root)
    return Finding(
        check=check,
        path=path,
        line=int(location.get("row") or 0),
        column=int(location.get("column") or 0),
        code=str(code),
        message=str(item.get("message", "")),
        fingerprint=_format_fingerprint(item, check, path) if code == "unformatted" else "",
    )


def _format_fingerprint(item: dict[str, object], check: str, path: str) -> str:
    """A file to reformat is identified by what ruff would write
    (gatekeeper/newcode/fingerprint.py)."""
    fix = item.get("fix")
    edits = fix.get("edits") if isinstance(fix, dict) else None
    if not isinstance(edits, list) or not edits:
        edits = [{"content": f"no edits given: {item!r}"}]  # unique enough to never match
    contents = [str(edit.get("content") or "") for edit in edits if isinstance(edit, dict)]
    return edits_fingerprint(check, "unformatted", path, contents)
