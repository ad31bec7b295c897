"""``complexity``: cyclomatic complexity through radon's Python API.

radon's command line reads pyproject.toml through configparser and crashes on real files, so the
measuring runs ``python -m gatekeeper.checks.complexity`` in a child process that calls
``radon.complexity.cc_visit``: the tests keep their core, and a timeout can stop it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gatekeeper.checks.base import CheckContext
from gatekeeper.checks.tools import python_module, require_module, run_tool
from gatekeeper.config import Option
from gatekeeper.errors import ToolError
from gatekeeper.model import CheckResult, Finding, Status
from gatekeeper.process import Completed
from gatekeeper.project.paths import python_files, relative


class ComplexityCheck:
    name = "complexity"
    description = "cyclomatic complexity (radon)"
    needs_session = False

    def options(self) -> Sequence[Option]:
        return ()

    def run(self, context: CheckContext) -> CheckResult:
        require_module("radon", "radon")
        settings = context.settings
        limit = settings.integer("complexity.max")
        paths = settings.strings("complexity.paths") or list(context.paths)
        argv = python_module("gatekeeper.checks.complexity", *paths)
        run = run_tool(argv, context.root, settings.number("complexity.timeout"))
        blocks = parse_blocks(run)
        over = [b for b in blocks if b.complexity > limit]
        findings = tuple(b.finding(limit) for b in over)
        worst = max((b.complexity for b in blocks), default=0)
        return CheckResult(
            self.name,
            Status.FAILED if over else Status.PASSED,
            f"{len(over)} function(s) above {limit}" if over else f"highest is {worst}",
            rule=f"no function above complexity max = {limit}",
            findings=findings,
            metrics={"functions": len(blocks), "highest": worst, "max": limit},
            ran=(run.command,),
        )


def parse_blocks(run: Completed) -> list[Block]:
    """The measured functions from the child's JSON; any failure or bad file is an error."""
    if run.returncode != 0:
        raise ToolError(f"`{run.command}` failed (exit status {run.returncode}): {run.tail()}")
    try:
        measured = json.loads(run.stdout)
        blocks = [Block(*row) for row in measured["blocks"]]
        unparsable = [str(p) for p in measured["unparsable"]]
        files = len(measured["files"])
    except (ValueError, TypeError, KeyError) as error:
        raise ToolError(f"`{run.command}` printed unexpected output ({error}).") from None
    if not files:
        # Nothing measured is not "no function too complex": the paths point at no code.
        raise ToolError(
            f"`{run.command}` found no Python file to measure; point [tool.gatekeeper] paths "
            "(or [tool.gatekeeper.complexity] paths) at the project's source."
        )
    if unparsable:
        raise ToolError(
            f"radon could not parse {', '.join(unparsable)}; fix the syntax error "
            "(the lint check names it) so complexity can be measured."
        )
    return blocks


class Block:
    """One measured function or method."""

    def __init__(self, path: str, line: int, name: str, complexity: int) -> None:
        self.path, self.line, self.name, self.complexity = path, line, name, complexity

    def finding(self, limit: int) -> Finding:
        return Finding(
            check="complexity",
            path=self.path,
            line=self.line,
            column=1,
            code="CC",
            message=f"{self.name} has complexity {self.complexity} (max {limit})",
            # Fingerprints leave the number out (gatekeeper/newcode/fingerprint.py), so a baselined
            # function that gets worse is still recognised; the baseline compares the number.
            fingerprint="",
        )


Row = tuple[str, int, str, int]  # path, line, qualified name, complexity


def measure(root: Path, paths: Sequence[str]) -> dict[str, list[Row] | list[str]]:
    """Complexity of every function under ``paths``: ``blocks`` rows, the ``files`` read and
    the ``unparsable`` ones."""
    from radon.complexity import cc_visit
    from radon.visitors import Class

    blocks: list[Row] = []
    unparsable: list[str] = []
    files = python_files(root, paths)
    for file in files:
        name = relative(file, root)
        try:
            visited = cc_visit(file.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            unparsable.append(name)
            continue
        # cc_visit lists functions and methods (classes only aggregate them), with nested
        # functions as closures of their parent.
        pending = [(block, "") for block in visited if not isinstance(block, Class)]
        while pending:
            item, prefix = pending.pop()
            qualified = prefix + (f"{item.classname}.{item.name}" if item.classname else item.name)
            blocks.append((name, item.lineno, qualified, item.complexity))
            pending.extend((closure, f"{qualified}.") for closure in item.closures)
    blocks.sort(key=lambda row: (row[0], row[1]))
    return {"blocks": blocks, "files": [relative(f, root) for f in files], "unparsable": unparsable}


def main(argv: Sequence[str]) -> int:
    """Entry point of the child process: print the measurement of ``argv`` paths as JSON."""
    json.dump(measure(Path.cwd(), argv), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
