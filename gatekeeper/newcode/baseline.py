"""The baseline: findings accepted today, by fingerprint, so only new ones fail ("hold the line").

The file (``.gatekeeper/baseline.json`` by default) is written by ``gatekeeper baseline`` and
committed by the user. It only shrinks on its own (``--prune`` drops entries that no longer occur);
it grows only when rewritten explicitly (``--update``). A complexity entry remembers the measured
complexity, so a baselined function that gets worse fails again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.errors import ConfigError
from gatekeeper.model import CheckResult, Finding, Status

FORMAT: Final = 1
# The checks a baseline applies to: those whose findings are problems in the code itself.
BASELINED_CHECKS: Final = ("lint", "types", "complexity")
# The complexity check's message says "NAME has complexity N (max M)".
_COMPLEXITY = re.compile(r"has complexity (\d+)")


@dataclass(frozen=True, slots=True)
class Entry:
    """One accepted finding. ``complexity`` is set for complexity findings only."""

    fingerprint: str
    check: str
    path: str
    code: str
    message: str
    complexity: int | None = None

    def accepts(self, finding: Finding) -> bool:
        """True when ``finding`` is this entry and, for complexity, no worse than recorded."""
        if finding.fingerprint != self.fingerprint:
            return False
        measured = complexity_of(finding)
        return measured is None or self.complexity is None or measured <= self.complexity

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "fingerprint": self.fingerprint,
            "check": self.check,
            "path": self.path,
            "code": self.code,
            "message": self.message,
        }
        if self.complexity is not None:
            data["complexity"] = self.complexity
        return data


@dataclass(frozen=True, slots=True)
class Baseline:
    """The accepted findings by fingerprint."""

    entries: Mapping[str, Entry]

    def digest(self) -> str:
        """A hash of the content, for cache keys: a changed baseline changes every verdict."""
        text = json.dumps([e.as_dict() for e in self.sorted()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def sorted(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: (e.check, e.path, e.fingerprint))

    def fixed(self, results: Iterable[CheckResult]) -> list[Entry]:
        """Entries of the checks in ``results`` (those that could judge) that no longer occur."""
        judged = [r for r in results if r.status in (Status.PASSED, Status.FAILED)]
        names = {r.name for r in judged}
        present = {f.fingerprint for r in judged for f in r.findings}
        return [e for e in self.sorted() if e.check in names and e.fingerprint not in present]


def complexity_of(finding: Finding) -> int | None:
    """The measured complexity of a complexity finding, else None."""
    if finding.check != "complexity":
        return None
    found = _COMPLEXITY.search(finding.message)
    return int(found.group(1)) if found else None


def entry_for(finding: Finding) -> Entry:
    """The baseline entry accepting ``finding`` as it is now."""
    return Entry(
        finding.fingerprint,
        finding.check,
        finding.path,
        finding.code,
        finding.message,
        complexity_of(finding),
    )


def from_results(results: Iterable[CheckResult]) -> Baseline:
    """A baseline accepting every finding of the baselined checks in ``results``."""
    entries = {
        f.fingerprint: entry_for(f)
        for r in results
        if r.name in BASELINED_CHECKS
        for f in r.findings
    }
    return Baseline(entries)


def pruned(baseline: Baseline, results: Iterable[CheckResult]) -> Baseline:
    """``baseline`` without the entries that no longer occur; it never gains an entry.

    A baselined function that got simpler has its recorded complexity lowered, never raised.
    """
    results = list(results)
    gone = {e.fingerprint for e in baseline.fixed(results)}
    current = {f.fingerprint: f for r in results for f in r.findings}
    kept: dict[str, Entry] = {}
    for fingerprint, entry in baseline.entries.items():
        if fingerprint in gone:
            continue
        measured = complexity_of(current[fingerprint]) if fingerprint in current else None
        if measured is not None and entry.complexity is not None:
            kept[fingerprint] = replace(entry, complexity=min(entry.complexity, measured))
        else:
            kept[fingerprint] = entry
    return Baseline(kept)


def mark(result: CheckResult, baseline: Baseline) -> CheckResult:
    """``result`` with every finding marked ``new`` or not; entries gone are counted as fixed."""
    if result.name not in BASELINED_CHECKS or result.status not in (Status.PASSED, Status.FAILED):
        return result
    findings = tuple(replace(f, new=not _accepted(f, baseline.entries)) for f in result.findings)
    fixed = len(baseline.fixed([replace(result, findings=findings)]))
    metrics = {
        **result.metrics,
        "baselined": sum(1 for f in findings if f.new is False),
        "baseline_fixed": fixed,
    }
    return replace(result, findings=findings, metrics=metrics)


def _accepted(finding: Finding, entries: Mapping[str, Entry]) -> bool:
    entry = entries.get(finding.fingerprint)
    return entry is not None and entry.accepts(finding)


def load(path: Path) -> Baseline | None:
    """The baseline at ``path``; None when there is none. A damaged file is a ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the baseline ({error}).") from None
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT}")
        entries = [_entry(item) for item in data["findings"]]
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ConfigError(
            f"{path}: not a gatekeeper baseline ({error}). Restore it from git, or rewrite it "
            "with `gatekeeper baseline --update`."
        ) from None
    return Baseline({e.fingerprint: e for e in entries})


def _entry(item: dict[str, object]) -> Entry:
    complexity = item.get("complexity")
    if complexity is not None and not isinstance(complexity, int):
        raise TypeError(f"complexity is {complexity!r}")
    fingerprint, check, path, code, message = (
        _text(item, k) for k in ("fingerprint", "check", "path", "code", "message")
    )
    return Entry(fingerprint, check, path, code, message, complexity)


def _text(item: dict[str, object], key: str) -> str:
    value = item[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is {value!r}, not a string")
    return value


def save(baseline: Baseline, path: Path) -> None:
    """Write ``baseline`` to ``path`` atomically, sorted so diffs of it stay readable."""
    document = {"format": FORMAT, "findings": [e.as_dict() for e in baseline.sorted()]}
    atomic.write_text(path, json.dumps(document, indent=2) + "\n")
