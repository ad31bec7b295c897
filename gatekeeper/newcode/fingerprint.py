"""Fingerprints: a finding's identity that survives line shifts.

A fingerprint hashes the check, the rule code, the file, the enclosing function or class (its
qualified name), the offending source line with white space folded, and the message with line
numbers removed. Line numbers themselves are left out, so an edit above a finding or a moved
function keeps it. Identical problems in one scope are told apart by their order (``#1``, ``#2``),
so a second copy of a known problem is a new finding.

Two kinds of finding are about a file, not a line, and are identified otherwise:

- A finding at the very start of a module (line 1, column 1, outside any function or class:
  D100's missing module docstring, for one) leaves the line text out: it names the file, and
  lines prepended to the file must not make it new. The cost: a line-level finding that happens
  to sit at 1:1 gets a new fingerprint once it moves, which fails closed (it counts as new).
- A file to reformat (``ruff format``'s ``unformatted``) is reported at its first difference,
  whose line says little. Its fingerprint hashes what ruff would write instead, every edit in
  order without positions (:func:`edits_fingerprint`): a new formatting problem anywhere in a
  baselined file adds or changes an edit, so the finding is new; prepended lines change nothing.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from gatekeeper.model import Finding

# Numbers that move without the problem changing: positions, and a complexity that the baseline
# compares by itself (so a baselined function that gets worse is still the same finding).
_LINE_NUMBERS = re.compile(r"\b(line|lines|column|complexity|max)\s+\d+")
_SPACE = re.compile(r"\s+")


class SourceIndex:
    """Reads each file once and answers: what is on line N, and which scope holds it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines = lru_cache(maxsize=256)(self._read)
        self._scopes = lru_cache(maxsize=256)(self._parse)

    def _read(self, path: str) -> tuple[str, ...]:
        try:
            text = (self.root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ()
        return tuple(text.splitlines())

    def _parse(self, path: str) -> tuple[tuple[int, int, str], ...]:
        try:
            tree = ast.parse("\n".join(self._lines(path)))
        except (SyntaxError, ValueError):
            return ()
        spans: list[tuple[int, int, str]] = []
        _collect_scopes(tree, "", spans)
        return tuple(spans)

    def line(self, path: str, number: int) -> str:
        lines = self._lines(path)
        text = lines[number - 1] if 0 < number <= len(lines) else ""
        return _SPACE.sub(" ", text).strip()

    def scope(self, path: str, number: int) -> str:
        """The innermost function or class around line ``number``; ``""`` at module level."""
        best = ""
        for start, end, name in self._scopes(path):
            if start <= number <= end:
                best = name  # spans are collected outer first, so the last match is innermost
        return best


def _collect_scopes(node: ast.AST, prefix: str, spans: list[tuple[int, int, str]]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
            spans.append((start, child.end_lineno or child.lineno, name))
            _collect_scopes(child, f"{name}.", spans)
        else:
            _collect_scopes(child, prefix, spans)


def base_fingerprint(finding: Finding, index: SourceIndex) -> str:
    """The hash of everything that identifies ``finding`` except its position."""
    message = _LINE_NUMBERS.sub(r"\1 N", finding.message)
    scope = index.scope(finding.path, finding.line)
    about_the_file = finding.line <= 1 and finding.column <= 1 and not scope
    text = "" if about_the_file else index.line(finding.path, finding.line)
    parts = (finding.check, finding.code, finding.path, scope, text, message)
    return _hash(parts)


def edits_fingerprint(check: str, code: str, path: str, edits: Iterable[str]) -> str:
    """The base fingerprint of a whole-file finding fixed by ``edits`` (the replacement texts,
    in order, without positions): it changes whenever the set of problems does."""
    return _hash((check, code, path, *(f"edit:{edit}" for edit in edits)))


def _hash(parts: Iterable[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def assign(findings: Iterable[Finding], root: Path) -> tuple[Finding, ...]:
    """``findings`` with fingerprints, in file order; repeats get an occurrence suffix."""
    index = SourceIndex(root)
    seen: Counter[str] = Counter()
    result = []
    for finding in sorted(findings, key=lambda f: (f.path, f.line, f.column, f.code)):
        base = finding.fingerprint or base_fingerprint(finding, index)
        seen[base] += 1
        result.append(replace(finding, fingerprint=f"{base}#{seen[base]}"))
    return tuple(result)
