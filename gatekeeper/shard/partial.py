"""A shard's partial result: a folder holding its coverage data and a manifest written last.

The manifest (``manifest.json``) says which run this is (format, shard, commit, tree, a digest of
the effective configuration, the project root it ran in, what else it ran under:
:mod:`gatekeeper.shard.conditions`), the whole collected suite and this
shard's share of it with each outcome and duration, the test counts and failures, the eval case
results, the static checks' results (shard 1 only), the collectors that failed (every shard
meets the same ones: combine counts each once), and ``complete``: true only when the session
finished, or pytest stopped it for collection errors (as it stops one unsharded run). It is
written atomically once everything else is in place, so a shard that crashed or was cancelled
leaves no manifest, or one that says it is not complete.

The coverage data (``coverage``) names files relative to the shard's worktree, so another
checkout at another path can combine it. The manifest holds its SHA-256 (``coverage_sha256``):
data beside a manifest is this shard's only when it is the file the manifest names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.checks.base import TestOutcome
from gatekeeper.errors import GatekeeperError
from gatekeeper.evals.results import CaseResult, EvalOutcome
from gatekeeper.git import repository
from gatekeeper.model import CheckResult, Finding
from gatekeeper.reports import json as json_report
from gatekeeper.shard.spec import Spec

FORMAT: Final = 3  # 2: collection errors or the coverage digest alone (branches merged)
MANIFEST: Final = "manifest.json"
COVERAGE: Final = "coverage"
# The outcome's counts, as the manifest keeps them.
COUNTS: Final = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")


@dataclass(frozen=True, slots=True)
class Content:
    """What a checkout holds: its commit, and the tree of its content."""

    commit: str | None
    tree: str | None  # the content's tree id, uncommitted changes included
    dirty: bool  # the content differs from the commit's tree

    @classmethod
    def of(cls, worktree: Path) -> Content:
        """The content of ``worktree`` now (commit and tree None when git cannot say)."""
        from gatekeeper.cache.store import tree_id

        commit = repository.output(worktree, "rev-parse", "--verify", "--quiet", "HEAD")
        committed = repository.output(worktree, "rev-parse", "--verify", "--quiet", "HEAD^{tree}")
        try:
            tree: str | None = tree_id(worktree)
        except GatekeeperError:
            tree = None
        return cls(commit, tree, tree != committed)


@dataclass(frozen=True, slots=True)
class Identity:
    """What every shard of one gate shares: the content, the configuration, the suite."""

    content: Content
    config: str  # digest of the effective configuration
    collected: tuple[str, ...]
    split: str = ""  # digest of the recorded durations that split the suite
    # What the shard ran under (gatekeeper/shard/conditions.py): node id -> digest of the
    # parameters behind it (parametrized items only), the pytest arguments that can change an
    # outcome, the ignored inputs' digest (None: they could not be keyed), the installed
    # distributions' digest.
    parameters: Mapping[str, str] = field(default_factory=dict)
    arguments: tuple[str, ...] = ()
    ignored: str | None = ""
    installed: str = ""


@dataclass(frozen=True, slots=True)
class Partial:
    """One shard's partial result, as its manifest holds it."""

    spec: Spec
    identity: Identity
    root: str  # the worktree it ran in
    outcome: TestOutcome  # coverage_dir, evals: see ``coverage`` and the outcome's evals
    selected: tuple[str, ...]  # this shard's node ids, tests and eval cases
    outcomes: Mapping[str, str] = field(default_factory=dict)  # node id -> passed, failed, ...
    durations: Mapping[str, float] = field(default_factory=dict)  # setup + call + teardown
    static: tuple[CheckResult, ...] = ()
    coverage: bool = False  # whether the folder holds coverage data
    coverage_sha256: str = ""  # the coverage data file's digest, when there is one
    # node ids of the collectors that failed: the whole tree's, met by every shard alike
    collection_errors: tuple[str, ...] = ()
    verdict: str = ""  # on the shard's own part: its tests (and the static checks, shard 1)
    complete: bool = False


def config_digest(config: Mapping[str, object]) -> str:
    """A digest of the effective configuration, the ``shard`` section left out (where a shard's
    files go and which durations balance it do not change any verdict)."""
    kept = {key: value for key, value in config.items() if key != "shard"}
    text = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def durations_digest(durations: Mapping[str, float]) -> str:
    """A digest of the recorded durations a shard split the suite with: shards that read
    different files may split it differently."""
    text = json.dumps(sorted(durations.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path`` (``""`` when it cannot be read)."""
    try:
        with path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return ""


def write(folder: Path, partial: Partial) -> None:
    """Write ``partial``'s manifest into ``folder`` (made if needed), atomically. Raises
    :class:`OSError`."""
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_dict(partial), indent=1, sort_keys=True) + "\n"
    atomic.write_text(folder / MANIFEST, text, mode=0o644)


def to_dict(partial: Partial) -> dict[str, object]:
    identity, outcome = partial.identity, partial.outcome
    evals = outcome.evals or EvalOutcome()
    return {
        "format": FORMAT,
        "shard": partial.spec.index,
        "count": partial.spec.count,
        "commit": identity.content.commit,
        "tree": identity.content.tree,
        "dirty": identity.content.dirty,
        "config": identity.config,
        "collected": list(identity.collected),
        "split": identity.split,
        "parameters": dict(identity.parameters),
        "arguments": list(identity.arguments),
        "ignored": identity.ignored,
        "installed": identity.installed,
        "root": partial.root,
        "selected": list(partial.selected),
        "outcomes": dict(partial.outcomes),
        "durations": dict(partial.durations),
        "tests": {
            **{name: getattr(outcome, name) for name in COUNTS},
            "exitstatus": outcome.exitstatus,
            "not_run": outcome.not_run,
            "stopped": outcome.stopped,
            "duration": outcome.duration,
            "coverage_problem": outcome.coverage_problem,
            "coverage_note": outcome.coverage_note,
            "failures": [json_report.finding_dict(f) for f in outcome.failures],
        },
        "evals": {
            "cases": [list(case.to_property()) for case in evals.cases],
            "problems": list(evals.problems),
            "not_run": list(evals.not_run),
        },
        "static": [json_report.check_dict(result) for result in partial.static],
        "coverage": partial.coverage,
        "coverage_sha256": partial.coverage_sha256,
        "collection_errors": list(partial.collection_errors),
        "verdict": partial.verdict,
        "complete": partial.complete,
    }


class Unreadable(GatekeeperError):
    """A shard folder whose manifest is missing or cannot be read."""


def read(folder: Path) -> Partial:
    """The partial result in ``folder``; :class:`Unreadable` with the reason when there is no
    manifest, or it is not one this version wrote."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Unreadable(
            f"{folder} holds no {MANIFEST}: the shard did not finish (it crashed, was "
            "cancelled, or its upload failed), so its part of the gate is unknown"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Unreadable(f"{path} cannot be read ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise Unreadable(
            f"{path} is not a partial result of format {FORMAT} (found {found!r}): every shard "
            "and the combine job must run the same gatekeeper version"
        )
    try:
        return from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        raise Unreadable(f"{path} is damaged: {type(error).__name__}: {error}") from None


def from_dict(data: Mapping[str, object]) -> Partial:
    """The inverse of :func:`to_dict`; raises KeyError, TypeError or ValueError on bad input."""
    tests = _mapping(data["tests"])
    evals = _mapping(data["evals"])
    outcome = TestOutcome(
        exitstatus=int(str(tests["exitstatus"])),
        passed=_count(tests, "passed"),
        failed=_count(tests, "failed"),
        errors=_count(tests, "errors"),
        skipped=_count(tests, "skipped"),
        xfailed=_count(tests, "xfailed"),
        xpassed=_count(tests, "xpassed"),
        failures=tuple(_finding(f) for f in _list(tests["failures"])),
        coverage_problem=_optional(tests["coverage_problem"]),
        coverage_note=_optional(tests["coverage_note"]),
        duration=float(str(tests["duration"])),
        evals=EvalOutcome(
            cases=tuple(CaseResult.from_property(_list(c)) for c in _list(evals["cases"])),
            problems=_strings(evals["problems"]),
            not_run=_strings(evals["not_run"]),
        ),
        not_run=int(str(tests["not_run"])),
        stopped=str(tests["stopped"]),
    )
    identity = Identity(
        content=Content(_optional(data["commit"]), _optional(data["tree"]), bool(data["dirty"])),
        config=str(data["config"]),
        collected=_strings(data["collected"]),
        split=str(data["split"]),
        parameters={str(k): str(v) for k, v in _mapping(data["parameters"]).items()},
        arguments=_strings(data["arguments"]),
        ignored=_optional(data["ignored"]),
        installed=str(data["installed"]),
    )
    return Partial(
        spec=Spec(int(str(data["shard"])), int(str(data["count"]))),
        identity=identity,
        root=str(data["root"]),
        outcome=outcome,
        selected=_strings(data["selected"]),
        outcomes={str(k): str(v) for k, v in _mapping(data["outcomes"]).items()},
        durations={str(k): float(str(v)) for k, v in _mapping(data["durations"]).items()},
        static=tuple(json_report.check_from_dict(_mapping(c)) for c in _list(data["static"])),
        coverage=bool(data["coverage"]),
        coverage_sha256=str(data["coverage_sha256"]),
        collection_errors=_strings(data["collection_errors"]),
        verdict=str(data["verdict"]),
        complete=data["complete"] is True,
    )


def _count(tests: Mapping[str, object], name: str) -> int:
    return int(str(tests[name]))


def _finding(value: object) -> Finding:
    return json_report.finding_from_dict(_mapping(value))


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    return value


def _list(value: object) -> Sequence[object]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {type(value).__name__}")
    return value


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(item) for item in _list(value))


def _optional(value: object) -> str | None:
    return None if value is None else str(value)
