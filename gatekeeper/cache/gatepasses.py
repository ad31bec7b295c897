"""Whole-gate passes by tree: what lets the pre-push hook accept a pushed commit at once.

The per-check cache (:mod:`gatekeeper.cache.store`) is keyed by things only a checkout can tell (the
configuration loaded with its plugins, the baseline, the scope). The hook must answer before any
checkout, so when a whole gate passes the gate also stores one entry keyed by what the hook can
compute from a commit alone:

- the tree id, as :func:`gatekeeper.cache.store.tree_id` computes it (for a commit:
  :func:`gatekeeper.cache.store.commit_tree`), so uncommitted changes that were then committed
  match;
- the ignored inputs (:mod:`gatekeeper.cache.inputs`): none in a checkout of a commit;
- the project's place in the worktree (the hook gates at the worktree root: ``.``);
- the environment facts (:mod:`gatekeeper.cache.environment`): for the hook, those of the scrubbed
  environment its own gate gets;
- the run: pytest's exact arguments (``pytest_gatekeeper.selection.whole_suite``). The hook runs
  plain ``gatekeeper run``, which is ``pytest --gatekeeper``: :data:`HOOK_RUN`.

Each entry records whether it was judged on a clean tree in a scrubbed environment, and the hook
accepts only an entry recorded so (docs/trust.md): the key already differs otherwise, and the
record says it in words a reader of the entry can check.

The configuration needs no key of its own: ``pyproject.toml`` is in the tree and command-line
overrides are in the run. An untracked or ignored baseline is not in the tree, so the entry names
the baseline file and its blob id, and a commit is accepted only when it holds exactly that file
(or, when the gate ran without one, none). Runs with ``scope = "changed"`` or with
``coverage.diff-fail-under`` (their verdict depends on where the base branch is, which the hook
cannot know from the commit alone), of a selection of tests, or through ``gatekeeper check``
store nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Final

from gatekeeper.cache import environment
from gatekeeper.cache.store import Cache, commit_tree, directory, write_entry
from gatekeeper.errors import GatekeeperError
from gatekeeper.git import repository
from gatekeeper.model import Report
from gatekeeper.newcode.policy import Policy
from gatekeeper.project import pushconfig
from gatekeeper.project.paths import relative

FORMAT: Final = 2
FOLDER: Final = "passes"
# What selection.whole_suite makes of `gatekeeper run` (= pytest.main(["--gatekeeper"])).
HOOK_RUN: Final = json.dumps({"args": ["--gatekeeper"]})
# How the hook judges: a checkout of the commit, in a scrubbed environment.
AS_CI: Final = {"clean": True, "scrubbed": True}


def key(tree: str, inputs: str | None, place: str, facts: str, run: str) -> str:
    """The key of a whole-gate pass; the gate and the hook both compute it only here."""
    document = {
        "format": FORMAT,
        "tree": tree,
        "inputs": inputs,
        "project": place,
        "environment": facts,
        "run": run,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def record(cache: Cache, policy: Policy, run: str | None, report: Report, worktree: Path) -> None:
    """Store that the whole gate passed on ``cache``'s tree, when such a pass means anything.

    Nothing is stored for a failure, a selection (``run`` None), ``scope = "changed"`` or
    ``diff-fail-under`` (both judged against the base branch), a disabled cache, or a baseline
    outside the worktree. The entry records whether the tree was clean and the environment
    scrubbed; losing an entry only costs speed.
    """
    if cache.directory is None or run is None or not report.passed or policy.base_dependent:
        return
    baseline = relative(cache.settings.root / policy.baseline_path, worktree)
    if Path(baseline).is_absolute():
        return
    found = key(cache.tree, cache.inputs.digest, cache.scope, cache.facts.digest, run)
    blob = None
    if (worktree / baseline).is_file():
        blob = repository.output(worktree, "hash-object", "--", baseline)
        if blob is None:
            return
    entry = {"key": found, "baseline": [baseline, blob], "recorded": cache.recorded()}
    write_entry(cache.directory / FOLDER / f"{found}.json", FORMAT, entry)


def caveat(cache: Cache, shown: int = 4) -> str | None:
    """Why a pass this run records will not answer a push from the cache; None when it will
    (or when nothing is cached). Names variables, never their values."""
    if not cache.enabled:
        return cache.note or None
    reasons = _input_reasons(cache, shown)
    if cache.outside:
        names = ", ".join(cache.outside)
        reasons.append(f"the project's code imported from outside the worktree ({names})")
    strays = cache.facts.strays
    if strays:
        more = f" and {len(strays) - shown} more" if len(strays) > shown else ""
        names = ", ".join(strays[:shown])
        reasons.append(f"variables the hook's gate does not get ({names}{more})")
    if not reasons:
        return None
    return (
        "this pass will not answer a push from the cache: the pre-push hook judges a clean "
        f"checkout in a scrubbed environment, and this run had {' and '.join(reasons)}. "
        "See docs/trust.md."
    )


def _input_reasons(cache: Cache, shown: int) -> list[str]:
    """What in the worktree beyond the tree a pass rests on: stale bytecode, empty folders,
    ignored files."""
    reasons = []
    found = cache.inputs
    if found.stale:
        reasons.append(_stale_bytecode(found.stale, shown))
    if found.empty:
        reasons.append(_empty_folders(found.empty, shown))
    if len(found.paths) > len(found.stale) + len(found.empty):
        reasons.append(f"ignored files it could read ({found.describe()})")
    return reasons


def _empty_folders(empty: tuple[str, ...], shown: int) -> str:
    more = f" and {len(empty) - shown} more" if len(empty) > shown else ""
    return (
        f"empty folders a clean checkout does not have ({', '.join(empty[:shown])}{more}), "
        "which a test may rely on; put a file in them (a `.gitkeep`), remove them, or let "
        "the tests create them"
    )


def _stale_bytecode(stale: tuple[str, ...], shown: int) -> str:
    more = f" and {len(stale) - shown} more" if len(stale) > shown else ""
    return (
        f"bytecode in __pycache__ that Python would load for its source although it holds "
        f"other code ({', '.join(stale[:shown])}{more}), which a test's subprocess started "
        "without the run's environment (its own env, -I, -E) may run instead of the source; "
        "remove it "
        f"(`rm {stale[0]}`, or every __pycache__ folder of the project)"
    )


def commit_key(start: Path, commit: str) -> str | None:
    """The key under which a hook run on ``commit`` would find a pass; None when it cannot
    be computed (outside git, or a ``pyproject.toml`` the hook cannot read).

    ``start`` is the root of the worktree the push is made from. The environment is the one the
    hook's own gate gets: this process's, scrubbed with the commit's ``pass-env``.
    """
    try:
        tree = commit_tree(start, commit)
        names = pushconfig.read(start, commit).pass_env
    except GatekeeperError:
        return None
    scrubbed = environment.scrubbed(os.environ, names)
    facts = environment.facts(scrubbed, names, start.resolve())
    if facts.problem:
        return None
    return key(tree, "", ".", facts.digest, HOOK_RUN)


def accepts(start: Path, commit: str) -> bool:
    """Whether the whole gate passed before on exactly what ``commit`` holds, as the hook runs it:
    on a clean tree, in a scrubbed environment.

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
        valid = entry["format"] == FORMAT and entry["key"] == found and entry["recorded"] == AS_CI
    except (OSError, ValueError, TypeError, KeyError):
        return False
    return bool(valid) and _blob(start, commit, str(baseline)) == blob


def _blob(start: Path, commit: str, path: str) -> str | None:
    return repository.output(start, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
