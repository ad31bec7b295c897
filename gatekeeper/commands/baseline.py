"""``gatekeeper baseline``: accept today's lint, types and complexity findings ("hold the line").

Without a baseline file it writes one. With one, it only reports: the file never grows unless
rewritten with ``--update``; ``--prune`` drops the entries that no longer occur.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gatekeeper.checks.base import CheckContext
from gatekeeper.errors import EXIT_FAILED, EXIT_OK, UsageError
from gatekeeper.gate import Setup, load_setup, run_check
from gatekeeper.git import repository
from gatekeeper.model import CheckResult, Status
from gatekeeper.newcode import baseline

HELP = "Write or prune the baseline of accepted findings, so only new ones fail the gate."


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--prune", action="store_true", help="drop entries that no longer occur (never adds one)"
    )
    mode.add_argument(
        "--update", action="store_true", help="rewrite it from today's findings (it may grow)"
    )


def run(args: argparse.Namespace, rest: list[str]) -> int:
    # Every finding counts, whatever `scope` says: the baseline covers the whole codebase.
    setup = load_setup(Path.cwd(), {"scope": "all"})
    results = judge(setup)
    broken = [r for r in results if r.status is Status.ERROR]
    for result in broken:
        print(f"{result.name}: could not run: {result.summary}")
    if broken:
        print("baseline not written: every check must be able to run first.")
        return EXIT_FAILED
    path = setup.settings.root / setup.settings.text("baseline")
    existing = None if args.update else baseline.load(path)
    if existing is None:
        written = baseline.from_results(results)
        baseline.save(written, path)
        print(f"{path}: wrote {len(written.entries)} accepted finding(s). Commit it.")
        warning = ignored_warning(path, setup.worktree)
        if warning:
            print(warning)
        return EXIT_OK
    if args.prune:
        kept = baseline.pruned(existing, results)
        baseline.save(kept, path)
        removed = len(existing.entries) - len(kept.entries)
        print(
            f"{path}: removed {removed} fixed entr{'y' if removed == 1 else 'ies'}, kept "
            f"{len(kept.entries)}."
        )
        return EXIT_OK
    return status(path, existing, results)


def ignored_warning(path: Path, worktree: Path) -> str | None:
    """Why ``path`` could never be committed, when git ignores it: a clean clone, the pre-push
    hook and CI would judge without it, so only this checkout would pass with it."""
    rule = repository.output(worktree, "check-ignore", "--verbose", "--", str(path))
    source, _, pattern = (rule or "").split("\t", 1)[0].rpartition(":")
    if not rule or pattern.startswith("!"):  # not ignored (or let in again), tracked, no git
        return None
    return (
        f"warning: {path} is ignored by git ({source}:{pattern}), so it cannot be committed: a "
        "clean clone, the pre-push hook and CI judge without it, and only this checkout passes "
        f"with it. Stop ignoring it (add `!{path.name}` after the rule, or narrow the rule), or "
        "name another place with [tool.gatekeeper] baseline."
    )


def judge(setup: Setup) -> list[CheckResult]:
    """The raw results of the enabled baselined checks, run side by side."""
    checks = [c for c in setup.enabled if c.name in baseline.BASELINED_CHECKS]
    if not checks:
        raise UsageError(
            "none of lint, types, complexity is enabled in [tool.gatekeeper] checks, so there "
            "is nothing to baseline."
        )
    settings = setup.settings
    context = CheckContext(settings, settings.root, setup.worktree, setup.paths)
    with ThreadPoolExecutor(len(checks), thread_name_prefix="gatekeeper") as pool:
        return list(pool.map(lambda check: run_check(check, context), checks))


def status(path: Path, existing: baseline.Baseline, results: list[CheckResult]) -> int:
    """Say how today's findings compare with the baseline; fails when there are new ones."""
    marked = [baseline.mark(r, existing) for r in results]
    fresh = [f for r in marked for f in r.findings if f.new]
    fixed = existing.fixed(results)
    print(f"{path}: {len(existing.entries)} accepted finding(s).")
    print(f"  {len(fixed)} no longer occur: drop them with `gatekeeper baseline --prune`.")
    print(
        f"  {len(fresh)} new finding(s) not in it: fix them, or accept them all with "
        "`gatekeeper baseline --update`."
    )
    for finding in fresh[:20]:
        print(f"    {finding.path}:{finding.line}: {finding.code} {finding.message}")
    return EXIT_FAILED if fresh else EXIT_OK
