"""The project's own source, parsed: for tests that read what the code does without running it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGES = (ROOT / "gatekeeper", ROOT / "pytest_plugin")


def library_modules() -> Iterator[tuple[Path, ast.Module]]:
    """Every module of the library and of the pytest plugin, with its syntax tree."""
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            yield path.relative_to(ROOT), ast.parse(path.read_text(), filename=str(path))


def calls(tree: ast.AST) -> Iterator[ast.Call]:
    """Every call in ``tree``."""
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def callee(call: ast.Call) -> str | None:
    """The name called: ``f`` for ``f(...)`` and ``x.f(...)``; None for anything else."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else None


def first_literal(call: ast.Call) -> str | None:
    """The call's first positional argument when it is a string literal."""
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None
