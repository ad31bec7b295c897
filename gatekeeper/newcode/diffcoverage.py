"""Diff coverage: how many of the changed executable lines the tests ran, counted line by line.

Each changed line of a source file is looked up in the combined coverage data; the verdict counts
lines, never averages per file, so a well-covered file cannot hide an uncovered new line in
another. The uncovered lines are named per file.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.errors import ToolError
from gatekeeper.git.scope import Changes, ranges
from gatekeeper.model import Finding


@dataclass(frozen=True, slots=True)
class DiffCoverage:
    """Changed executable lines, how many ran, and the uncovered ones by file."""

    executable: int = 0
    covered: int = 0
    uncovered: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        return 100.0 if not self.executable else 100.0 * self.covered / self.executable

    def meets(self, threshold: float) -> bool:
        """Counted exactly: 100 allows no uncovered changed line at all."""
        return self.covered * 100 >= threshold * self.executable

    def findings(self) -> tuple[Finding, ...]:
        """One finding per file, naming its uncovered changed lines."""
        return tuple(
            Finding(
                check="coverage",
                path=path,
                line=lines[0],
                column=1,
                code="diff-coverage",
                message=f"changed lines not covered by the tests: {ranges(lines)}",
            )
            for path, lines in sorted(self.uncovered.items())
        )


def source_files(changes: Changes, worktree: Path, sources: Iterable[Path]) -> list[str]:
    """The changed ``.py`` files (relative to ``worktree``) under the measured source paths."""
    roots = [s.resolve() for s in sources]
    chosen = []
    for name in sorted(changes.files):
        path = (worktree / name).resolve()
        if name.endswith(".py") and path.is_file() and any(path.is_relative_to(r) for r in roots):
            chosen.append(name)
    return chosen


def measure(
    data_file: Path, changes: Changes, worktree: Path, files: Iterable[str]
) -> DiffCoverage:
    """Diff coverage of ``files`` from the combined data in ``data_file``.

    Raises :class:`ToolError` when coverage cannot analyse a file.
    """
    import coverage
    from coverage.exceptions import CoverageException, CoverageWarning

    executable = covered = 0
    uncovered: dict[str, tuple[int, ...]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        cov = coverage.Coverage(data_file=str(data_file), config_file=True)
        cov.load()
        for name in files:
            try:
                _, statements, _, missing, _ = cov.analysis2(str(worktree / name))
            except CoverageException as error:
                raise ToolError(
                    f"coverage cannot analyse {name} for diff coverage: {error}"
                ) from None
            changed = [n for n in statements if changes.changed(name, n)]
            missed = tuple(n for n in changed if n in set(missing))
            executable += len(changed)
            covered += len(changed) - len(missed)
            if missed:
                uncovered[name] = missed
    return DiffCoverage(executable, covered, uncovered)
