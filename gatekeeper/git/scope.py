"""What changed: the base branch, the merge-base, and the files and lines changed since then.

"Changed" means the worktree as it is now, uncommitted and untracked files included, against the
merge-base of ``HEAD`` and the base branch. Everything is read through
:mod:`gatekeeper.git.repository` without touching the index or the working tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gatekeeper.errors import UsageError
from gatekeeper.git import repository
from gatekeeper.model import CheckResult

# The checks whose findings `scope = changed` restricts to changed files.
SCOPED_CHECKS = ("lint", "types", "complexity")

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True, slots=True)
class Changes:
    """Changed files (POSIX, relative to the worktree root) and their added or changed lines.

    A line set of ``None`` means the whole file is new (untracked, or added since the base).
    """

    base: str
    merge_base: str
    lines: Mapping[str, frozenset[int] | None]

    @property
    def files(self) -> frozenset[str]:
        return frozenset(self.lines)

    def changed(self, path: str, line: int) -> bool:
        """True when ``line`` of ``path`` is new or changed since the merge-base."""
        if path not in self.lines:
            return False
        numbers = self.lines[path]
        return numbers is None or line in numbers


def detect_base(worktree: Path) -> str:
    """The base branch: the remote's HEAD branch, else ``main``, else ``master``.

    Raises :class:`UsageError` when none exists, saying how to name one.
    """
    for remote in _remotes(worktree):
        head = repository.output(worktree, "symbolic-ref", "--short", f"refs/remotes/{remote}/HEAD")
        if head:
            return head
    for name in ("main", "master"):
        if _is_commit(worktree, name):
            return name
    raise UsageError(
        f"cannot find a base branch in {worktree}: no remote HEAD, no main, no master. Name one "
        "with `base` in [tool.gatekeeper] or --gatekeeper-base REF."
    )


def _remotes(worktree: Path) -> list[str]:
    listed = (repository.output(worktree, "remote") or "").split()
    return sorted(listed, key=lambda name: name != "origin")  # origin first, as git does


def _is_commit(worktree: Path, ref: str) -> bool:
    found = repository.output(worktree, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return found is not None


def merge_base(worktree: Path, base: str) -> str:
    """The merge-base of ``HEAD`` and ``base``; raises :class:`UsageError` naming the ref."""
    if not _is_commit(worktree, base):
        raise UsageError(
            f"the base {base!r} is not a commit in {worktree}. Fix `base` in [tool.gatekeeper] "
            "or --gatekeeper-base, or fetch it."
        )
    found = repository.output(worktree, "merge-base", "HEAD", base)
    if not found:
        raise UsageError(
            f"HEAD and the base {base!r} share no history in {worktree}, so nothing can be "
            "judged as changed. Name another base with --gatekeeper-base REF."
        )
    return found


def changes(worktree: Path, base: str | None = None) -> Changes:
    """What changed in ``worktree`` since its merge-base with ``base`` (detected when None)."""
    chosen = base or detect_base(worktree)
    fork = merge_base(worktree, chosen)
    # The user's diff settings must not change what is parsed: explicit a/ b/ prefixes (not
    # mnemonicPrefix's c/ i/ w/, not noprefix), paths from the top (not diff.relative), and
    # hunks for every file (--text: a `-diff` attribute would call it binary and hide its lines).
    diff = repository.git(
        worktree,
        "-c",
        "core.quotePath=false",
        "-c",
        "diff.noprefix=false",
        "-c",
        "diff.mnemonicPrefix=false",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--text",
        "--no-relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "-U0",
        "-M",
        fork,
    ).stdout
    lines: dict[str, frozenset[int] | None] = dict(parse_diff(diff))
    untracked = repository.git(
        worktree, "ls-files", "-z", "--others", "--exclude-standard", "--full-name"
    ).stdout
    lines.update((name, None) for name in untracked.split("\0") if name)
    return Changes(chosen, fork, lines)


def parse_diff(text: str) -> Iterator[tuple[str, frozenset[int] | None]]:
    """``(path, added lines)`` per file of a ``-U0`` diff; ``None`` for a file added whole."""
    for chunk in re.split(r"^diff --git .*$", text, flags=re.MULTILINE)[1:]:
        parsed = _parse_file(chunk.splitlines())
        if parsed is not None:
            yield parsed


def _parse_file(lines: list[str]) -> tuple[str, frozenset[int] | None] | None:
    """One file's part of a diff; None for a deletion or a rename without edits."""
    targets = [line[4:] for line in lines if line.startswith("+++ ")]
    if not targets or targets[0] == "/dev/null":
        return None
    path = _unquote(targets[0]).removeprefix("b/")
    if any(line.startswith("new file mode") for line in lines):
        return path, None
    numbers: set[int] = set()
    for line in lines:
        if hunk := _HUNK.match(line):
            start, count = int(hunk.group(1)), int(hunk.group(2) or "1")
            numbers.update(range(start, start + count))
    return path, frozenset(numbers)


# The C-style escapes git uses in a quoted path (besides octal \\ooo for other bytes).
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(name: str) -> str:
    """A path as git prints it on a ``+++`` line, as the path itself.

    git appends a tab to a name holding a space, and quotes a name holding a quote, backslash
    or control character (``core.quotePath=false`` leaves other bytes alone) in C style.
    """
    name = name.removesuffix("\t")
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name
    out = bytearray()
    body, index = name[1:-1], 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out += char.encode()
            index += 1
        elif body[index + 1 : index + 2] in _ESCAPES:
            out.append(_ESCAPES[body[index + 1]])
            index += 2
        else:
            out.append(int(body[index + 1 : index + 4], 8))
            index += 4
    return out.decode("utf-8", "surrogateescape")


def restrict(result: CheckResult, changes: Changes) -> CheckResult:
    """``result`` with only the findings in changed files; the rest are counted, not kept."""
    kept = tuple(f for f in result.findings if f.path in changes.files)
    outside = len(result.findings) - len(kept)
    metrics = {**result.metrics, "outside_scope": outside}
    return replace(result, findings=kept, metrics=metrics)


def describe(changes: Changes, limit: int = 5) -> str:
    """A short description for summaries: the base and how many files changed."""
    shown = ", ".join(sorted(changes.files)[:limit])
    more = f" and {len(changes.files) - limit} more" if len(changes.files) > limit else ""
    return f"{len(changes.files)} file(s) changed since {changes.base}: {shown}{more}"


def ranges(numbers: Iterable[int]) -> str:
    """``1-3, 7`` for ``[1, 2, 3, 7]``: line numbers as a reader wants them."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = previous = None
    for number in ordered:
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(_span(start, previous))
        start = previous = number
    if start is not None:
        parts.append(_span(start, previous))
    return ", ".join(parts)


def _span(start: int, end: int | None) -> str:
    return str(start) if end in (None, start) else f"{start}-{end}"
