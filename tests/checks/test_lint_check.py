"""The lint check on real sample projects: a file that does not parse is a finding, not an error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.gate import Gate, load_setup
from gatekeeper.model import CheckResult

BROKEN = "def f(:\n    pass\n"


def judge(root: Path, name: str) -> CheckResult:
    """Run one check as ``gatekeeper check NAME`` does, never reusing a cached pass."""
    setup = load_setup(root)
    gate = Gate(setup)
    return gate.judge(setup.checks[name], gate.context(), reuse=False)


def test_a_file_that_does_not_parse_fails_lint_with_its_syntax_errors(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    root = project({"pkg/broken.py": BROKEN, "pkg/ugly.py": "x=1\n"})
    result = judge(root, "lint")
    assert result.status.value == "failed", result.summary
    found = [(f.path, f.line, f.code) for f in result.findings]
    # ruff check names every syntax error; ruff format's own parse failure is not repeated, and
    # the file it could still judge is reported as one to reformat.
    assert found == [
        ("pkg/broken.py", 1, "invalid-syntax"),
        ("pkg/broken.py", 1, "invalid-syntax"),
        ("pkg/ugly.py", 1, "unformatted"),
    ]
    assert len(result.ran) == 2


def test_a_file_that_does_not_parse_fails_lint_without_the_format_check(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    root = project(
        {"pkg/broken.py": BROKEN}, gatekeeper="\n[tool.gatekeeper.lint]\nformat = false\n"
    )
    result = judge(root, "lint")
    assert result.status.value == "failed"
    assert {(f.path, f.code) for f in result.findings} == {("pkg/broken.py", "invalid-syntax")}
    assert len(result.ran) == 1


def unformatted(root: Path) -> list[str]:
    result = judge(root, "lint")
    return [f.fingerprint for f in result.findings if f.code == "unformatted"]


def test_a_file_to_reformat_keeps_its_fingerprint_until_its_formatting_problems_change(
    project: Callable[..., Path],
) -> None:
    body = '"""Doc."""\n\nX=1\n'
    root = project({"pkg/ugly.py": body})
    (first,) = unformatted(root)

    ugly = root / "pkg" / "ugly.py"
    ugly.write_text("# one\n# two\n# three\n" + body)  # lines shift: the same problem
    assert unformatted(root) == [first]

    ugly.write_text(body + "\n\ndef f( a ):\n    return a\n")  # a second problem further down
    (second,) = unformatted(root)
    assert second != first
