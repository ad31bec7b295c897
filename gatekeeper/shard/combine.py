"""Combining the shards of one gate: find their partial results, refuse any set that is not
exactly one gate's, and merge them into one test outcome with one coverage data folder.

Fail closed: a missing, duplicated, incomplete or foreign shard, or shards whose tests are not
exactly the collected suite, stop the combination with a reason naming the shard's folder.
Nothing is guessed in favour of a pass.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.checks.base import TestOutcome
from gatekeeper.errors import GatekeeperError, UsageError
from gatekeeper.evals.results import EvalOutcome
from gatekeeper.model import CheckResult, Finding
from gatekeeper.shard import partial
from gatekeeper.shard.coveragepaths import restore
from gatekeeper.shard.partial import Content, Partial
from gatekeeper.shard.spec import FOLDER

SHOWN: Final = 5  # node ids named in a message, before "and N more"


class ShardsRefused(GatekeeperError):
    """The partial results are not exactly the shards of one gate; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class Found:
    """One shard's folder and what it holds."""

    folder: Path
    partial: Partial


def folders(given: Sequence[Path]) -> list[Path]:
    """The shard folders in ``given``: each is a shard's folder (it holds a manifest or is
    named ``shard-I-of-N``), or holds such folders, directly or one level down (artifacts
    downloaded each into a folder of its own). Raises :class:`UsageError` for one that is
    neither."""
    found: list[Path] = []
    for path in given:
        if not path.is_dir():
            raise UsageError(f"gatekeeper combine {path}: no such folder")
        inside = _shard_folders(path)
        if not inside:
            raise UsageError(
                f"gatekeeper combine {path}: it is not a shard's folder and holds none "
                "(shard-I-of-N/, written by `gatekeeper run --shard I/N` under "
                ".gatekeeper/shards/); name the folder the shards' artifacts were downloaded into"
            )
        found.extend(inside)
    return sorted(dict.fromkeys(p.resolve() for p in found))


def _shard_folders(path: Path) -> list[Path]:
    if _is_shard(path):
        return [path]
    children = sorted(p for p in path.iterdir() if p.is_dir())
    direct = [p for p in children if _is_shard(p)]
    if direct:
        return direct
    return [g for child in children for g in sorted(child.iterdir()) if _is_shard(g)]


def _is_shard(path: Path) -> bool:
    return path.is_dir() and (
        FOLDER.fullmatch(path.name) is not None or (path / partial.MANIFEST).is_file()
    )


def read(paths: Iterable[Path], own: Content, config: str) -> list[Found]:
    """Every shard read and checked against the others and against this checkout (``own``,
    its configuration's digest ``config``); sorted by shard. Raises :class:`ShardsRefused`
    with every reason found, one paragraph each."""
    found, problems = [], []
    for folder in paths:
        try:
            found.append(Found(folder, partial.read(folder)))
        except partial.Unreadable as error:
            problems.append(str(error))
    if not found and not problems:
        problems.append("no shard's partial result was given")
    problems += _shape(found) + _identity(found, own, config) + _foreign_data(found)
    problems += _ran_apart(found)
    if not problems:
        problems += _coverage_of_suite(found)
    if problems:
        raise ShardsRefused(
            "gatekeeper combine refuses these partial results, so there is no verdict:\n\n"
            + "\n\n".join(problems)
        )
    return sorted(found, key=lambda f: f.partial.spec.index)


def _shape(found: Sequence[Found]) -> list[str]:
    """Each shard complete, named as it says, from one shard count, once each, none missing."""
    problems = [_incomplete(f) for f in found if not f.partial.complete]
    problems += [p for p in map(_misnamed, found) if p]
    counts = sorted({f.partial.spec.count for f in found})
    if len(counts) > 1:
        return [*problems, _counts_apart(found)]
    by_index: dict[int, list[Found]] = {}
    for f in found:
        by_index.setdefault(f.partial.spec.index, []).append(f)
    return problems + _duplicated(by_index) + _missing(set(by_index), counts[0] if counts else 0)


def _counts_apart(found: Sequence[Found]) -> str:
    """Shards of several counts: the folders not of the newest shard's count are named as left
    over from an earlier run (a shard run replaces only its own folder), to be removed."""
    shown = "; ".join(f"{f.folder}: shard {f.partial.spec}" for f in found)
    newest = max(found, key=lambda f: (_written(f.folder), f.partial.spec.count))
    count = newest.partial.spec.count
    stale = [str(f.folder) for f in found if f.partial.spec.count != count]
    return (
        f"the shards come from different shard counts ({shown}). The newest is of {count} "
        f"shards, so {', '.join(stale)} are left over from an earlier run with another count "
        "(`gatekeeper run --shard I/N` replaces only its own folder): remove them "
        f"(`rm -r {shlex.join(stale)}`), or name only this run's folders, and combine again"
    )


def _written(folder: Path) -> int:
    """When the shard's manifest was written (0 when it cannot be told)."""
    try:
        return (folder / partial.MANIFEST).stat().st_mtime_ns
    except OSError:
        return 0


def _duplicated(by_index: dict[int, list[Found]]) -> list[str]:
    return [
        f"shard {index} is given more than once: {', '.join(str(f.folder) for f in same)}"
        for index, same in sorted(by_index.items())
        if len(same) > 1
    ]


def _misnamed(found: Found) -> str | None:
    named = FOLDER.fullmatch(found.folder.name)
    spec = found.partial.spec
    if named is None or (int(named[1]), int(named[2])) == (spec.index, spec.count):
        return None
    return f"{found.folder} holds the partial result of shard {spec}, not its own"


def _missing(present: set[int], count: int) -> list[str]:
    return [
        f"shard {index} of {count} is missing (no shard-{index}-of-{count} folder): its share "
        "of the tests is unknown; run it, or download its artifact"
        for index in range(1, count + 1)
        if index not in present
    ]


def _incomplete(found: Found) -> str:
    return (
        f"{found.folder}: shard {found.partial.spec} did not finish its session (it was "
        "interrupted, stopped early or crashed), so its part of the gate is incomplete"
    )


def _identity(found: Sequence[Found], own: Content, config: str) -> list[str]:
    """Every shard judged this checkout's content with this configuration, on one suite split
    by the same durations."""
    problems = [p for p in (_foreign(f, own, config) for f in found) if p]
    if problems or not found:
        return problems
    return _split_apart(found[0], found[1:]) or _other_suites(found[0], found[1:])


def _split_apart(first: Found, others: Sequence[Found]) -> list[str]:
    return [
        f"{f.folder}: shard {f.partial.spec} split the suite with other recorded durations "
        f"than {first.folder} (their [tool.gatekeeper.shard] durations files differ), so the "
        "shards' shares may overlap or leave tests out: give every shard job the same file"
        for f in others
        if f.partial.identity.split != first.partial.identity.split
    ]


def _other_suites(first: Found, others: Sequence[Found]) -> list[str]:
    return [
        f"{f.folder}: shard {f.partial.spec} collected another suite than {first.folder} "
        f"({_difference(first, f)}): every shard must collect the same tests (the same "
        "arguments, the same environment)"
        for f in others
        if f.partial.identity.collected != first.partial.identity.collected
    ]


def _foreign(found: Found, own: Content, config: str) -> str | None:
    """Why ``found`` is not a shard of this checkout's gate; None when it is."""
    content = found.partial.identity.content
    if content.tree is None or own.tree is None:
        return (
            f"{found.folder}: shard {found.partial.spec} has no tree id of the content it ran on, "
            "or this checkout has none (outside a git repository, or git could not say), so "
            "nothing shows that the shards judged this checkout's content: run the shards and "
            "combine in checkouts of one git commit"
        )
    if (content.commit, content.tree) != (own.commit, own.tree):
        return (
            f"{found.folder}: shard {found.partial.spec} ran on commit {content.commit} with "
            f"tree {content.tree}{_dirty(content)}, but this checkout is commit {own.commit} "
            f"with tree {own.tree}{_dirty(own)}: combine the shards of this commit, in a "
            "checkout of it"
        )
    if found.partial.identity.config != config:
        return (
            f"{found.folder}: shard {found.partial.spec} ran with another configuration than "
            "this checkout's (a different [tool.gatekeeper] table, --gatekeeper-* option or "
            "plugin): every shard and the combine job must use the same one (give "
            "`gatekeeper combine` the --gatekeeper-* options the shards ran with)"
        )
    return None


def _foreign_data(found: Sequence[Found]) -> list[str]:
    """Each shard's coverage data is the file its manifest names, not another run's."""
    return [
        f"{f.folder}: shard {f.partial.spec}'s coverage data is not the file its manifest names "
        f"(its SHA-256 differs, or it is missing): it may be another run's; download this "
        "run's artifacts into an empty folder and combine again"
        for f in found
        if f.partial.coverage
        and partial.file_sha256(f.folder / partial.COVERAGE) != f.partial.coverage_sha256
    ]


def _ran_apart(found: Sequence[Found]) -> list[str]:
    """Every shard ran under what the first did (gatekeeper/shard/conditions.py): the same
    pytest arguments, ignored files, installed distributions and parameters behind its ids."""
    if not found:
        return []
    first, others = found[0], found[1:]
    problems = [p for p in (_unkeyed(f) for f in found) if p]
    for f in others:
        problems += [p for p in (check(first, f) for check in _APART) if p]
    return problems


def _unkeyed(found: Found) -> str | None:
    if found.partial.identity.ignored is not None:
        return None
    return (
        f"{found.folder}: shard {found.partial.spec} could not key the git-ignored files in its "
        "checkout (too many, too large or unreadable), so nothing shows the shards read the "
        "same files: run the shards in fresh checkouts"
    )


def _other_arguments(first: Found, other: Found) -> str | None:
    a, b = first.partial.identity.arguments, other.partial.identity.arguments
    if a == b:
        return None
    return (
        f"{other.folder}: shard {other.partial.spec} ran pytest with other arguments than "
        f"{first.folder} ({_words(b)} against {_words(a)}; PYTEST_ADDOPTS first, then the "
        "command line): an argument can change an outcome, so every shard must be given the "
        "same (only -n, --numprocesses, --dist, -q, -v and --gatekeeper-no-cache may differ)"
    )


def _words(words: Sequence[str]) -> str:
    return f"`{shlex.join(words)}`" if words else "none"


def _other_ignored(first: Found, other: Found) -> str | None:
    if other.partial.identity.ignored == first.partial.identity.ignored:
        return None
    return (
        f"{other.folder}: shard {other.partial.spec}'s checkout holds other git-ignored files "
        f"than {first.folder}'s (an ignored pytest.ini, .env or generated module: `git status "
        "--ignored` shows them); they can change an outcome, so run every shard in a fresh "
        "checkout of the commit"
    )


def _other_installed(first: Found, other: Found) -> str | None:
    if other.partial.identity.installed == first.partial.identity.installed:
        return None
    return (
        f"{other.folder}: shard {other.partial.spec} ran with other installed distributions "
        f"(names or versions) than {first.folder}: install every shard's environment the same "
        "way, from the same lock file"
    )


def _other_parameters(first: Found, other: Found) -> str | None:
    a, b = first.partial.identity.parameters, other.partial.identity.parameters
    differ = sorted(n for n in a.keys() | b.keys() if a.get(n) != b.get(n))
    if not differ:
        return None
    return (
        f"{other.folder}: shard {other.partial.spec} and {first.folder} collected the same test "
        f"ids, but the parameters behind them differ ({_named(differ)}): the values come in "
        "another order in each process (a set's order under another hash seed, a folder "
        "listed in another order), so a case may run in no shard. Make them deterministic: "
        "parametrize with a sorted list (sorted(...) around a set, Path.iterdir() or glob()), "
        "and give the ids explicitly; `gatekeeper run --shard` sets PYTHONHASHSEED=0 when it "
        "is not set"
    )


_APART: Final = (_other_arguments, _other_ignored, _other_installed, _other_parameters)


def _dirty(content: Content) -> str:
    return " (uncommitted changes)" if content.dirty else ""


def _difference(first: Found, other: Found) -> str:
    a, b = set(first.partial.identity.collected), set(other.partial.identity.collected)
    only = sorted(b - a) or sorted(a - b)
    where = "only it has" if b - a else "it lacks"
    return f"{where} {_named(only)}" if only else "the same tests in another order"


def _coverage_of_suite(found: Sequence[Found]) -> list[str]:
    """Every collected test in exactly one shard, and no shard that ran nothing while others
    ran something."""
    owner, problems = _owners(found)
    collected = found[0].partial.identity.collected
    left = [nodeid for nodeid in collected if nodeid not in owner]
    if left:
        problems.append(
            f"{len(left)} collected test(s) ran in no shard: {_named(left)}; the shards' tests "
            "must be exactly the collected suite"
        )
    stray = sorted(set(owner) - set(collected))
    if stray:
        problems.append(f"shards ran test(s) that were not collected: {_named(stray)}")
    return problems + _idle(found)


def _owners(found: Sequence[Found]) -> tuple[dict[str, Path], list[str]]:
    """Which shard ran each test; a paragraph per pair of shards that ran the same tests."""
    owner: dict[str, Path] = {}
    twice: dict[tuple[Path, Path], list[str]] = {}
    for f in found:
        for nodeid in f.partial.selected:
            if nodeid in owner:
                twice.setdefault((owner[nodeid], f.folder), []).append(nodeid)
            owner.setdefault(nodeid, f.folder)
    return owner, [
        f"{len(ids)} test(s) ran in both {a} and {b}: {_named(ids)}"
        for (a, b), ids in twice.items()
    ]


def _idle(found: Sequence[Found]) -> list[str]:
    idle = [f for f in found if not _reported(f.partial)]
    if len(idle) == len(found):
        return []  # nothing ran anywhere: the tests check says so, as for one run
    return [
        f"{f.folder}: shard {f.partial.spec} ran no test while the other shards ran some; "
        "an empty shard is not a pass (fewer shards, or find out why it ran nothing)"
        for f in idle
    ]


def _reported(shard: Partial) -> int:
    """The tests and eval cases the shard reported an outcome for: a skipped test ran its
    protocol (as in one run), a shard that reported nothing did not."""
    evals = shard.outcome.evals
    counted = sum(int(getattr(shard.outcome, name)) for name in partial.COUNTS)
    return counted + (len(evals.cases) if evals else 0)


def _named(nodeids: Sequence[str]) -> str:
    more = len(nodeids) - SHOWN
    return ", ".join(nodeids[:SHOWN]) + (f" and {more} more" if more > 0 else "")


def outcome(found: Sequence[Found], worktree: Path, coverage_dir: Path) -> TestOutcome:
    """One test outcome for the whole suite: counts summed, every failure and eval case, the
    shards' coverage data written into ``coverage_dir`` under this ``worktree``."""
    outcomes = [f.partial.outcome for f in found]
    measured, problem = _coverage(found, worktree, coverage_dir)
    failures, repeated = _failures(found)
    return TestOutcome(
        exitstatus=_exitstatus(outcomes),
        passed=_sum(outcomes, "passed"),
        failed=_sum(outcomes, "failed"),
        errors=_sum(outcomes, "errors") - repeated,
        skipped=_sum(outcomes, "skipped"),
        xfailed=_sum(outcomes, "xfailed"),
        xpassed=_sum(outcomes, "xpassed"),
        failures=failures,
        coverage_dir=measured,
        coverage_problem=problem,
        coverage_note=_texts(outcomes, "coverage_note") or None,
        duration=max(o.duration for o in outcomes),
        evals=_evals(outcomes),
        not_run=_sum(outcomes, "not_run"),
        stopped=_texts(outcomes, "stopped"),
    )


def _failures(found: Sequence[Found]) -> tuple[tuple[Finding, ...], int]:
    """Every shard's failures, each collection error once (every shard collects the whole tree,
    so every shard meets the same ones); and how many repeats were left out."""
    kept: list[Finding] = []
    seen: set[str] = set()
    for f in found:
        for finding in f.partial.outcome.failures:
            collector = _collector(finding, f.partial.collection_errors)
            if collector is not None and collector in seen:
                continue
            if collector is not None:
                seen.add(collector)
            kept.append(finding)
    total = sum(len(f.partial.outcome.failures) for f in found)
    return tuple(kept), total - len(kept)


def _collector(finding: Finding, collectors: Sequence[str]) -> str | None:
    """The failed collector ``finding`` reports (its message starts with the node id), if any."""
    if finding.code != "ERROR":
        return None
    return next((c for c in collectors if finding.message.startswith(f"{c}: ")), None)


def _exitstatus(outcomes: Sequence[TestOutcome]) -> int:
    """pytest's first failing exit status among the shards, else 0."""
    return next((o.exitstatus for o in outcomes if o.exitstatus), 0)


def _texts(outcomes: Sequence[TestOutcome], name: str) -> str:
    return _joined(getattr(o, name) for o in outcomes)


def _sum(outcomes: Sequence[TestOutcome], name: str) -> int:
    return sum(int(getattr(o, name)) for o in outcomes)


def _joined(texts: Iterable[str | None]) -> str:
    return "; ".join(dict.fromkeys(text for text in texts if text))


def _evals(outcomes: Sequence[TestOutcome]) -> EvalOutcome:
    evals = [o.evals or EvalOutcome() for o in outcomes]
    return EvalOutcome(
        cases=tuple(case for e in evals for case in e.cases),
        problems=tuple(dict.fromkeys(p for e in evals for p in e.problems)),
        not_run=tuple(n for e in evals for n in e.not_run),
    )


def _coverage(
    found: Sequence[Found], worktree: Path, coverage_dir: Path
) -> tuple[Path | None, str | None]:
    """The shards' coverage data placed under this worktree in ``coverage_dir``; or why the
    suite's coverage is not known."""
    problem = _joined(f.partial.outcome.coverage_problem for f in found)
    if problem:
        return None, problem
    missing = [str(f.folder) for f in found if not f.partial.coverage]
    if missing:
        return None, (
            f"{', '.join(missing)} hold(s) no coverage data, so the suite's coverage is not known"
        )
    coverage_dir.mkdir(parents=True, exist_ok=True)
    for f in found:
        target = coverage_dir / f".coverage.shard-{f.partial.spec.index}"
        restore(f.folder / partial.COVERAGE, worktree, target)
    return coverage_dir, None


def static_results(found: Sequence[Found]) -> tuple[CheckResult, ...]:
    """The static checks' results: shard 1 runs them for the whole gate."""
    return found[0].partial.static


def durations(found: Sequence[Found]) -> dict[str, float]:
    """Every test's measured duration, from every shard."""
    return {nodeid: s for f in found for nodeid, s in f.partial.durations.items()}


def collected(found: Sequence[Found]) -> tuple[str, ...]:
    return found[0].partial.identity.collected
