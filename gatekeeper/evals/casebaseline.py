"""The eval baseline: per-case results recorded on purpose, compared on every gate run.

Entries are keyed by dataset and case id, and each remembers the case's content hash, its
scorer configuration hash and the dataset's content hash. An entry whose case or scorer changed
since it was recorded is stale: it no longer says anything about the case and gates nothing.
The file is rewritten only by ``gatekeeper evals baseline``; a filtered recording keeps the
entries of cases it did not run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from gatekeeper.errors import UsageError
from gatekeeper.evals.results import CaseResult

VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One case as recorded."""

    passed: bool
    case_digest: str
    scorer_digest: str
    dataset_digest: str
    expected: str
    actual: str

    @classmethod
    def of(cls, result: CaseResult) -> Entry:
        return cls(
            result.passed,
            result.case_digest,
            result.scorer_digest,
            result.dataset_digest,
            result.expected,
            result.actual,
        )

    def matches(self, result: CaseResult) -> bool:
        """Whether this entry was recorded for the same case content and scorer configuration."""
        return (self.case_digest, self.scorer_digest) == (result.case_digest, result.scorer_digest)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Recorded entries by ``(dataset, case id)``."""

    entries: Mapping[tuple[str, str], Entry] = field(default_factory=dict)

    def get(self, dataset: str, case: str) -> Entry | None:
        return self.entries.get((dataset, case))

    def updated(
        self,
        results: Iterable[CaseResult],
        *,
        prune: bool = False,
        keep: Iterable[tuple[str, str]] = (),
    ) -> Baseline:
        """This baseline with ``results`` recorded; ``prune`` drops every entry neither in them
        nor in ``keep`` (``(dataset, case)`` keys of cases that ran but could not be judged)."""
        kept = {key: self.entries[key] for key in keep if key in self.entries}
        entries = dict(kept) if prune else dict(self.entries)
        for result in results:
            entries[(result.dataset, result.case)] = Entry.of(result)
        return Baseline(entries)


@dataclass(frozen=True, slots=True)
class Comparison:
    """How this run's results differ from the baseline (flaky cases are left out)."""

    regressed: tuple[tuple[CaseResult, Entry], ...] = ()
    fixed: tuple[tuple[CaseResult, Entry], ...] = ()
    stale: tuple[CaseResult, ...] = ()
    unrecorded: tuple[CaseResult, ...] = ()


def compare(baseline: Baseline, results: Iterable[CaseResult]) -> Comparison:
    """Cases that flipped against ``baseline``: pass to fail (regressed) and fail to pass."""
    regressed, fixed, stale, unrecorded = [], [], [], []
    for result in results:
        entry = baseline.get(result.dataset, result.case)
        if result.flaky:
            continue
        if entry is None:
            unrecorded.append(result)
        elif not entry.matches(result):
            stale.append(result)
        elif entry.passed and not result.passed:
            regressed.append((result, entry))
        elif not entry.passed and result.passed:
            fixed.append((result, entry))
    return Comparison(tuple(regressed), tuple(fixed), tuple(stale), tuple(unrecorded))


def read(path: Path, shown: str) -> Baseline | None:
    """The baseline at ``path``, or None when there is none; raises UsageError when malformed."""
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("version") != VERSION:
            raise ValueError(f"unknown version {document.get('version')!r}")
        entries = {
            (dataset, case): Entry(**entry)
            for dataset, cases in document["datasets"].items()
            for case, entry in cases.items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise UsageError(
            f"{shown}: cannot read the eval baseline ({type(error).__name__}: {error}). "
            "Restore it from git, or record it again with `gatekeeper evals baseline`."
        ) from None
    return Baseline(entries)


def write(baseline: Baseline, path: Path) -> None:
    """Write ``baseline`` as sorted, indented JSON (small, reviewable diffs)."""
    datasets: dict[str, dict[str, object]] = {}
    for (dataset, case), entry in sorted(baseline.entries.items()):
        datasets.setdefault(dataset, {})[case] = asdict(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": VERSION, "datasets": datasets}, indent=1, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
