"""The pre-push gate: read git's ref lines, gate every pushed commit, say what failed and why.

Each pushed commit is checked out in a temporary detached worktree (never the user's working
tree, whose uncommitted changes are not what is pushed) and judged there by ``gatekeeper run``,
exactly as CI will. Deletions are skipped; every other ref is gated, not only the first. Refs
that point at the same tree are gated once: the verdict belongs to the content, not the name.
A tree the whole gate already passed (in any worktree, or by an earlier push) is accepted from
the cache at once, before any checkout (:mod:`gatekeeper.passes`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper import passes, repository, tempworktree
from gatekeeper.errors import GitError, UsageError
from gatekeeper.hooks.install import LEGACY
from gatekeeper.tempworktree import Verdict, verdict_from

# Re-exported: the verdict of a gate run in a temporary worktree now lives in
# gatekeeper.tempworktree, shared with merge integration; hook callers still read it here.
__all__ = ["Verdict", "verdict_from"]

_ZERO: Final = re.compile(r"^0+$")
BYPASS: Final = (
    "To bypass in an emergency: GATEKEEPER_SKIP=1 git push ...  or  git push --no-verify "
    "(the required CI check still gates the merge)."
)


@dataclass(frozen=True, slots=True)
class PushedRef:
    """One line git gives a pre-push hook: what is pushed where, and what the remote has."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deletion(self) -> bool:
        return bool(_ZERO.match(self.local_sha))

    def describe(self) -> str:
        return f"{self.remote_ref} ({self.local_sha[:12]})"


def say(text: str) -> None:
    """Tell the user: on standard error, like git's own messages (stdout may be machine-read)."""
    print(text, file=sys.stderr, flush=True)


def parse(text: str) -> list[PushedRef]:
    """The pushed refs from git's pre-push standard input; a malformed line is an error."""
    refs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 4:
            raise UsageError(
                f"pre-push input line {line!r} is not '<local ref> <local sha> <remote ref> "
                "<remote sha>'; is this hook being run by git?"
            )
        refs.append(PushedRef(*fields))
    return refs


def from_pre_commit(env: Mapping[str, str]) -> list[PushedRef]:
    """The one ref pre-commit describes in its variables (pre-commit consumes git's input)."""
    to_ref = env.get("PRE_COMMIT_TO_REF")
    if not to_ref:
        return []
    remote_ref = env.get("PRE_COMMIT_REMOTE_BRANCH") or to_ref
    local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH") or to_ref
    return [PushedRef(local_ref, to_ref, remote_ref, env.get("PRE_COMMIT_FROM_REF") or "0" * 40)]


def run_legacy(hook_dir: Path | None, args: Sequence[str], stdin: str) -> int:
    """Run the pre-push hook gatekeeper replaced, with git's arguments and input; 0 if none.

    Like git, a legacy hook that is not executable is ignored (with a note).
    """
    if hook_dir is None:
        return 0
    legacy = hook_dir / LEGACY
    if not legacy.is_file():
        return 0
    if not os.access(legacy, os.X_OK):
        say(f"gatekeeper: {legacy} is not executable; git would ignore it, so did we.")
        return 0
    done = subprocess.run(
        [str(legacy), *args], input=stdin, text=True, stdout=sys.stderr, check=False
    )
    if done.returncode != 0:
        say(f"gatekeeper: the earlier pre-push hook {legacy} failed ({done.returncode}).")
    return done.returncode


def gate_refs(start: Path, refs: Sequence[PushedRef]) -> list[tuple[PushedRef, Verdict]]:
    """Gate every ref that is not a deletion; refs with the same tree share one verdict."""
    verdicts: dict[str, Verdict] = {}
    results = []
    for ref in refs:
        if ref.deletion:
            say(f"gatekeeper: {ref.remote_ref} is deleted, nothing to gate")
            continue
        tree = _tree_of(start, ref.local_sha)
        if tree is None:
            say(f"gatekeeper: {ref.describe()} is not a commit, nothing to gate")
            continue
        if tree not in verdicts:
            verdicts[tree] = _judge(start, ref)
        results.append((ref, verdicts[tree]))
    return results


def _judge(start: Path, ref: PushedRef) -> Verdict:
    if passes.accepts(start, ref.local_sha):
        say(
            f"gatekeeper: {ref.describe()} passed the gate before on exactly this content: "
            "accepted from the cache (no worktree, no tests run)"
        )
        return Verdict(True)
    say(f"gatekeeper: gating {ref.describe()} in a temporary worktree ...")
    return gate_commit(start, ref.local_sha)


def _tree_of(start: Path, commit: str) -> str | None:
    return repository.output(start, "rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}")


def gate_commit(start: Path, commit: str) -> Verdict:
    """Run the whole gate on ``commit`` in a temporary worktree that is always removed.

    The run is plain ``gatekeeper run``, exactly ``pytest --gatekeeper``: no option of its own
    (not even where the report goes), so its pass is stored under the run a developer's
    ``pytest --gatekeeper`` has too, and either answers the next push from the cache.
    """
    with tempfile.TemporaryDirectory(prefix="gatekeeper-push-") as scratch:
        return tempworktree.gate_commit(start, commit, Path(scratch))


def run(start: Path, args: Sequence[str], stdin: str, hook_dir: Path | None) -> int:
    """The whole hook: the kept legacy hook first, then the gate on every pushed ref.

    ``GATEKEEPER_SKIP=1`` skips the gate (not the legacy hook).

    Returns 0 to let the push go, 1 to stop it.
    """
    if run_legacy(hook_dir, args, stdin) != 0:
        return 1
    # The bypass skips only the gate: the user's own earlier hook above still had its say.
    if os.environ.get("GATEKEEPER_SKIP") == "1":
        say("gatekeeper: GATEKEEPER_SKIP=1, push not gated (the CI check still is)")
        return 0
    refs = parse(stdin) or from_pre_commit(os.environ)
    if not refs:
        say("gatekeeper: nothing pushed, nothing to gate")
        return 0
    root = repository.worktree_root(start)
    if root is None:
        raise GitError(f"{start} is not inside a git worktree; the pre-push hook needs one.")
    return report([(ref, v) for ref, v in gate_refs(root, refs) if not v.passed])


def report(failed: Sequence[tuple[PushedRef, Verdict]]) -> int:
    """Say which refs failed and why, and how to bypass; the hook's exit status."""
    for ref, verdict in failed:
        say(f"gatekeeper: {ref.describe()} failed the gate: {verdict.explanation[0]}")
        for line in verdict.explanation[1:]:
            say(line)
    if failed:
        say(f"gatekeeper: push rejected. Fix the findings, commit, and push again. {BYPASS}")
        return 1
    say("gatekeeper: every pushed ref passed the gate")
    return 0
