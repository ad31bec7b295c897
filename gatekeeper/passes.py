"""Whole-gate passes by tree: what lets the pre-push hook accept a pushed commit at once.

The per-check cache (:mod:`gatekeeper.cache`) is keyed by things only a checkout can tell (the
configuration loaded with its plugins, the baseline, the scope). The hook must answer before any
checkout, so when a whole gate passes the gate also stores one entry keyed by what the hook can
compute from a commit alone:

- the tree id, normalised as :func:`gatekeeper.cache.tree_id` does (for a commit:
  :func:`gatekeeper.cache.commit_tree`), so uncommitted changes that were then committed match;
- the project's place in the worktree (the hook gates at the worktree root: ``.``);
- the environment facts of :func:`gatekeeper.cache.environment`;
- the run: pytest's exact arguments (``pytest_gatekeeper.selection.whole_suite``). The hook runs
  plain ``gatekeeper run``, which is ``pytest --gatekeeper``: :data:`HOOK_RUN`.

The configuration needs no key of its own: ``pyproject.toml`` is in the tree and command-line
overrides are in the run. The baseline is not in the tree (``.gatekeeper/`` is left out), so the
entry names the baseline file and its blob id, and a commit is accepted only when it holds exactly
that file (or, when the gate ran without one, none). Runs with ``scope = "changed"`` or with
``coverage.diff-fail-under`` (their verdict depends on where the base branch is, which the hook
cannot know from the commit alone), of a selection of tests, or through ``gatekeeper check``
store nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Final

from gatekeeper import repository
from gatekeeper.cache import Cache, commit_tree, directory, environment
from gatekeeper.errors import GitError
from gatekeeper.hold import Policy
from gatekeeper.model import Report
from gatekeeper.paths import is_tool_cache, relative

FORMAT: Final = 1
FOLDER: Final = "passes"
# What selection.whole_suite makes of `gatekeeper run` (= pytest.main(["--gatekeeper"])).
HOOK_RUN: Final = json.dumps({"args": ["--gatekeeper"]})


def key(tree: str, place: str, facts: str, run: str) -> str:
    """The key of a whole-gate pass; the gate and the hook both compute it only here."""
    document = {
        "format": FORMAT,
        "tree": tree,
        "project": place,
        "environment": facts,
        "run": run,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def record(cache: Cache, policy: Policy, run: str | None, report: Report, worktree: Path) -> None:
    """Store that the whole gate passed on ``cache``'s tree, when such a pass means anything.

    Nothing is stored for a failure, a selection (``run`` None), ``scope = "changed"`` or
    ``diff-fail-under`` (both judged against the base branch), a disabled cache, a baseline
    outside the worktree, or a worktree holding ignored files other than tools' caches: the tree
    id leaves ignored files out, so tests that passed only thanks to one (a generated module, a
    ``.env``) must not vouch for a clean checkout of the commit. Losing an entry only costs speed.
    """
    if cache.directory is None or run is None or not report.passed or policy.base_dependent:
        return
    if not only_tool_caches_ignored(worktree):
        return
    baseline = relative(cache.settings.root / policy.baseline_path, worktree)
    if Path(baseline).is_absolute():
        return
    found = key(cache.tree, cache.scope, cache.environment, run)
    blob = None
    if (worktree / baseline).is_file():
        blob = repository.output(worktree, "hash-object", "--", baseline)
        if blob is None:
            return
    _write(cache.directory / FOLDER / f"{found}.json", {"key": found, "baseline": [baseline, blob]})


def only_tool_caches_ignored(worktree: Path) -> bool:
    """Whether every ignored file in ``worktree`` is a tool's cache (bytecode, pytest's, ...)."""
    try:
        listed = repository.ignored(worktree)
    except GitError:
        return False
    return all(is_tool_cache(entry) for entry in listed)


def _write(path: Path, entry: dict[str, object]) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".entry-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump({"format": FORMAT, **entry}, stream)
        Path(temporary).replace(path)


def commit_key(start: Path, commit: str) -> str | None:
    """The key under which a hook run on ``commit`` would find a pass; None outside git.

    ``start`` is the root of the worktree the push is made from; the environment is this
    process's, which is the one the hook's own gate run inherits.
    """
    try:
        tree = commit_tree(start, commit)
    except GitError:
        return None
    return key(tree, ".", environment(start.resolve()), HOOK_RUN)


def accepts(start: Path, commit: str) -> bool:
    """Whether the whole gate passed before on exactly what ``commit`` holds, as the hook runs it.

    Fails closed: anything missing, unreadable or different means False, and the commit is gated.
    """
    common = repository.common_dir(start)
    found = commit_key(start, commit) if common is not None else None
    if common is None or found is None:
        return False
    try:
        path = directory(common) / FOLDER / f"{found}.json"
        entry = json.loads(path.read_text(encoding="utf-8"))
        baseline, blob = entry["baseline"]
        valid = bool(entry["format"] == FORMAT and entry["key"] == found)
    except (OSError, ValueError, TypeError, KeyError):
        return False
    return valid and _blob(start, commit, str(baseline)) == blob


def _blob(start: Path, commit: str, path: str) -> str | None:
    return repository.output(start, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
