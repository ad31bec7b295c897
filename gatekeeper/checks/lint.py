"""``lint``: ``ruff check`` and ``ruff format --check``, both with JSON output.

Ruff reads the project's own configuration as it always does. Exit status 2 (or output that is not
the JSON we expect) means ruff could not judge, which is an error, never "no findings".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from gatekeeper.checks.base import CheckContext
from gatekeeper.checks.process import Completed, python_module, require_module, run_tool
from gatekeeper.config import Option
from gatekeeper.errors import ToolError
from gatekeeper.model import CheckResult, Finding, Status
from gatekeeper.paths import relative


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
            *extra,
            *paths,
        )
        runs = [run_tool(check_argv, context.root, timeout)]
        findings = parse_ruff(runs[0], context.root, "lint")
        if settings.flag("lint.format"):
            format_argv = python_module(
                "ruff", "format", "--check", "--output-format", "json", "--force-exclude", *paths
            )
            runs.append(run_tool(format_argv, context.root, timeout))
            findings += parse_ruff(runs[1], context.root, "lint")
        status = Status.FAILED if findings else Status.PASSED
        summary = f"{len(findings)} finding(s)" if findings else "no findings"
        return CheckResult(
            self.name,
            status,
            summary,
            rule="ruff reports no finding" + (" and no file to reformat" if len(runs) > 1 else ""),
            findings=tuple(findings),
            metrics={"findings": len(findings)},
            ran=tuple(run.command for run in runs),
        )


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


def _finding(item: dict[str, object], root: Path, check: str) -> Finding:
    location = item.get("location") or {}
    assert isinstance(location, dict)
    code = item.get("code") or "syntax-error"
    filename = item["filename"]
    if not isinstance(filename, str):
        raise TypeError(f"filename is {filename!r}")
    return Finding(
        check=check,
        path=relative(Path(filename), root),
        line=int(location.get("row") or 0),
        column=int(location.get("column") or 0),
        code=str(code),
        message=str(item.get("message", "")),
    )
