"""Flaky tests: a test that failed on a tree the whole suite also passed on (in either order).

Derived from the records whenever it is asked for, never stored apart: the tree is the content
judged, uncommitted changes included, so a test that both failed and passed on one tree did so
without any change to the code. Only a whole-suite run whose tests check passed (or was reused
from such a pass) counts as a pass of every test; a selection (``-k``, node ids) or a session
stopped early (``-x``) proves nothing about the tests it did not run. Flaky is information for
the reader, never a pass: the gate's verdict does not change.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass

from gatekeeper.history.store import Store

# The trees judged by a whole-suite run whose tests check passed, with how many such runs each.
_PASSES = """
SELECT r.tree, COUNT(*) FROM runs r JOIN checks c ON c.run = r.id
WHERE c.name = 'tests' AND c.status = 'passed' AND r.whole_suite = 1 AND r.finished >= ?
  AND r.tree IN (
    SELECT r2.tree FROM failures f JOIN runs r2 ON r2.id = f.run
    WHERE f.kind = 'test' AND r2.finished >= ?
  )
GROUP BY r.tree
"""
_FAILURES = """
SELECT f.ident, r.tree, r.finished FROM failures f JOIN runs r ON r.id = f.run
WHERE f.kind = 'test' AND r.tree IS NOT NULL AND r.finished >= ?
"""


@dataclass(frozen=True, slots=True)
class Flaky:
    """A flaky test: ``failed`` runs failed it and ``passed`` whole-suite runs passed it, on
    the ``trees`` trees where it did both; ``last`` is when it last failed there."""

    test: str
    failed: int
    passed: int
    trees: int
    last: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def describe(self) -> str:
        return f"{self.test} (failed {self.failed}, passed {self.passed} on the same tree)"


def find(store: Store, since: float = 0.0, only: Collection[str] | None = None) -> list[Flaky]:
    """The flaky tests among runs since ``since`` (limited to the ids in ``only`` when given),
    the most often failed first."""
    if only is not None and not only:
        return []
    passes = {str(tree): int(str(count)) for tree, count in store.execute(_PASSES, (since, since))}
    found = [
        Flaky(
            test=test,
            failed=sum(len(times) for times in trees.values()),
            passed=sum(passes[tree] for tree in trees),
            trees=len(trees),
            last=max(max(times) for times in trees.values()),
        )
        for test, trees in _failures(store, since, only, passes).items()
    ]
    return sorted(found, key=lambda f: (-f.failed, f.test))


def _failures(
    store: Store, since: float, only: Collection[str] | None, passes: Collection[str]
) -> dict[str, dict[str, list[float]]]:
    """When each test failed, by test and tree, on the trees in ``passes`` only."""
    query, params = _FAILURES, list[object]([since])
    if only is not None:
        query += f" AND f.ident IN ({', '.join('?' * len(only))})"
        params += sorted(only)
    failed: dict[str, dict[str, list[float]]] = {}
    for ident, tree, finished in store.execute(query, params):
        if str(tree) in passes:
            failed.setdefault(str(ident), {}).setdefault(str(tree), []).append(float(str(finished)))
    return failed
