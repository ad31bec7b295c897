"""The pre-push gate: read git's ref lines, gate every pushed commit, say what failed and why.

Each pushed commit is gated as it will land: merged onto the remote's base
(:mod:`gatekeeper.githooks.pushbase`, :mod:`gatekeeper.githooks.mergedonto`) unless it already
contains the base's tip, no base exists locally, or ``push-merge = false``; then as itself. What
is gated is checked out in a temporary detached worktree (never the user's working tree, whose
uncommitted changes are not what is pushed) and judged there by ``gatekeeper run``, exactly as
CI will. Deletions are skipped; every other ref is gated, not only the first. Refs judged alike
are gated once: the verdict belongs to the content, not the name. A tree the whole gate already
passed (in any worktree, or by an earlier push) is accepted from the cache at once, before any
checkout (:mod:`gatekeeper.cache.gatepasses`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.cache import gatepasses
from gatekeeper.errors import GitError, UsageError
from gatekeeper.git import repository
from gatekeeper.githooks import mergedonto, pushbase
from gatekeeper.githooks.install import LEGACY
from gatekeeper.githooks.mergedonto import Judgement
from gatekeeper.githooks.pushbase import Base, NoBase
from gatekeeper.history import accepted
from gatekeeper.integration.workspace import Workspace
from gatekeeper.integration.worktreegate import Verdict, verdict_from
from gatekeeper.project import pushconfig

# Re-exported: the verdict of a gate run in a temporary worktree lives in
# gatekeeper.integration.worktreegate, shared with merge integration; hook callers read it here.
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
        [str(legacy), *args],
        input=stdin,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        stdout=sys.stderr,
        check=False,
    )
    if done.returncode != 0:
        say(f"gatekeeper: the earlier pre-push hook {legacy} failed ({done.returncode}).")
    return done.returncode


def gate_refs(
    start: Path, refs: Sequence[PushedRef], remote: str = ""
) -> list[tuple[PushedRef, Judgement]]:
    """Gate every ref that is not a deletion, as it lands on ``remote``'s base.

    Refs judged alike share one judgement: the same tree gated alone, or the same commit merged
    onto the same base.
    """
    judged: dict[tuple[str, str | None], Judgement] = {}
    results = []
    for ref in refs:
        if ref.deletion:
            say(f"gatekeeper: {ref.remote_ref} is deleted, nothing to gate")
            continue
        tree = _tree_of(start, ref.local_sha)
        if tree is None:
            say(f"gatekeeper: {ref.describe()} is not a commit, nothing to gate")
            continue
        base = base_of(start, ref, remote)
        key = (tree, None) if base is None else (ref.local_sha, base.commit)
        if key not in judged:
            judged[key] = _judge(start, ref, base)
        results.append((ref, judged[key]))
    return results


def base_of(start: Path, ref: PushedRef, remote: str) -> Base | None:
    """The base ``ref`` is merged onto before it is gated; None (said why) to gate it alone."""
    if not ref.remote_ref.startswith("refs/heads/"):
        return None  # a tag or another ref lands on no branch: it is what it is
    settings = pushconfig.read(start, ref.local_sha)
    if not settings.merge:
        say(f"gatekeeper: push-merge = false: gating {ref.describe()} alone, not merged")
        return None
    found = pushbase.find(start, remote, settings.base)
    if isinstance(found, NoBase):
        say(f"gatekeeper: {found.describe()}: gating {ref.describe()} alone, not merged")
        return None
    if found.is_pushed_to(remote, ref.remote_ref):
        say(f"gatekeeper: {ref.describe()} is pushed to the base {found.name} itself: gated as is")
        return None
    say(f"gatekeeper: base for {ref.remote_ref}: {found.describe()}")
    return found


def _judge(start: Path, ref: PushedRef, base: Base | None) -> Judgement:
    label = ref.describe()

    def alone(commit: str) -> Verdict:
        return gate_alone(start, label, commit)

    if base is None:
        return Judgement(alone(ref.local_sha))
    return mergedonto.judge(start, label, ref.local_sha, base, alone, say)


def gate_alone(start: Path, label: str, commit: str) -> Verdict:
    """``commit`` judged as itself: from the cache when its tree passed, else gated."""
    if gatepasses.accepts(start, commit):
        say(
            f"gatekeeper: {label} passed the gate before on exactly this content: "
            "accepted from the cache (no worktree, no tests run)"
        )
        accepted.record(start, "hook", commit, settings=None)
        return Verdict(True)
    say(f"gatekeeper: gating {label} in a temporary worktree ...")
    return gate_commit(start, commit)


def _tree_of(start: Path, commit: str) -> str | None:
    return repository.output(start, "rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}")


def gate_commit(start: Path, commit: str) -> Verdict:
    """Run the whole gate on ``commit`` in a temporary worktree that is always removed.

    The worktree is one of an integration workspace (:mod:`gatekeeper.integration.workspace`):
    in the repository's git directory, private to its owner, and swept by the next run when a
    killed push leaves it behind. The run is ``gatekeeper run``, as ``pytest --gatekeeper``
    (:func:`gatekeeper.integration.worktreegate.gate_commit`), so its pass is stored under the run a
    developer's ``pytest --gatekeeper`` has too, and either answers the next push from the cache.
    """
    with Workspace.open(start, "hook") as space:
        return space.gate(commit, "push", None)


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
    judged = gate_refs(root, refs, _remote(args))
    return report([(ref, judgement) for ref, judgement in judged if not judgement.passed])


def _remote(args: Sequence[str]) -> str:
    """The remote pushed to: git's first argument (a name, or a URL when the push names no
    remote); pre-commit, which runs the hook itself, names it in a variable instead."""
    return args[0] if args else os.environ.get("PRE_COMMIT_REMOTE_NAME", "")


def report(failed: Sequence[tuple[PushedRef, Judgement]]) -> int:
    """Say which refs failed, alone or only merged onto the base, and why; the exit status."""
    for ref, judgement in failed:
        for line in explain(ref.describe(), judgement):
            say(line)
    if failed:
        say(f"gatekeeper: push rejected. Fix the findings, commit, and push again. {BYPASS}")
        return 1
    say("gatekeeper: every pushed ref passed the gate")
    return 0


def explain(label: str, judgement: Judgement) -> list[str]:
    """The lines that say why the ref shown as ``label`` was rejected."""
    base = judgement.base
    if base is not None and judgement.conflicts:
        return [
            f"gatekeeper: {label} cannot be merged onto {base.describe()}: conflicts in "
            f"{', '.join(judgement.conflicts)}.",
            f"  Merge or rebase onto {base.name} first (for example `git fetch`, then "
            f"`git rebase {base.name}`), resolve the conflicts, and push again.",
        ]
    alone = judgement.verdict if base is None else judgement.alone
    if alone is not None and not alone.passed:
        return _verdict_lines(f"{label} failed the gate on its own", alone)
    assert base is not None  # a ref gated alone that failed was answered above
    lines = _verdict_lines(
        f"{label} passes the gate on its own, but failed it merged onto {base.describe()}",
        judgement.verdict,
    )
    lines.append(
        f"  {base.name} has changed since this branch left it, and the two break together: "
        f"merge or rebase onto {base.name}, fix what breaks, and push again."
    )
    return lines


def _verdict_lines(headline: str, verdict: Verdict) -> list[str]:
    first, *rest = verdict.explanation or ("the gate failed",)
    return [f"gatekeeper: {headline}: {first}", *rest]
