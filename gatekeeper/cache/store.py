"""The result cache: a check that passed on exactly this content passes again without running.

A pass is reused only where everything it rested on is the same (docs/trust.md). The key is:

- the git tree id of the worktree as it is (uncommitted and untracked files included, ignored
  files left out), computed in a temporary copy of the index, so the user's index is never
  touched;
- the ignored inputs: every ignored file the run could read, by content
  (:mod:`gatekeeper.cache.inputs`);
- the check's effective configuration, the baseline and scope in force;
- the environment (:mod:`gatekeeper.cache.environment`): the interpreter, every installed
  distribution with its version (which covers the tools), and the variables set, including
  whether the run was scrubbed as the pre-push hook's gate is.

Entries live in the repository's common git dir, shared by every worktree: a tree that passed in
one worktree passes at once in another. Each records whether it was judged on a clean tree in a
scrubbed environment; a run that is both itself (the hook's gate, integration) reuses only such
entries.

Only passes are stored; failures and errors always run again. An entry that cannot be read, does
not parse or was stored under another key is ignored, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.cache import environment, inputs
from gatekeeper.cache.environment import Facts
from gatekeeper.cache.inputs import Inputs
from gatekeeper.config import Settings
from gatekeeper.errors import GitError
from gatekeeper.git import repository
from gatekeeper.model import CheckResult, Status
from gatekeeper.project import workfolder
from gatekeeper.project.paths import relative
from gatekeeper.reports.json import check_dict, check_from_dict

FORMAT: Final = 2
# Derived files that never change a verdict but change on every run: gatekeeper's own state in
# its folder (reports, logs, coverage data, a session's bytecode, files being written there:
# workfolder.is_own, by name and kind; anything else in the folder, a link above all, is the
# user's and is keyed) and bytecode in __pycache__, which a project may forget to ignore. Left
# out only while untracked: a tracked file is the project's, whatever its name, and is keyed.
# A .pyc beside the sources is not left out: Python imports it when no source is there, so it
# is content.
DERIVED: Final = (f":(top){workfolder.FOLDER}", ":(top,glob)**/__pycache__/**")
# Top-level keys that do not change what any check decides.
_NOT_CONFIG: Final = frozenset({"report", "cache", "checks"})


def tree_id(worktree: Path) -> str:
    """The tree id of ``worktree``'s content now, without touching its index.

    Raises :class:`GitError` when git cannot compute it.
    """
    found = repository.git(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index")
    index = Path(found.stdout.strip())
    with tempfile.TemporaryDirectory(prefix="gatekeeper-index-") as scratch:
        copy = Path(scratch) / "index"
        # The bytes on disk, as the tests read them: no filter of the user's configuration.
        unfiltered = repository.unfiltered(worktree)
        if index.is_file():
            # Its stat data lets `git add` skip unchanged files. copy2 keeps the index's mtime,
            # which git compares with each file's to catch edits made in the same tick as the
            # index was written ("racily clean" entries): a fresh mtime would hide them.
            shutil.copy2(index, copy)
            if repository.may_convert(worktree, unfiltered):
                # A file checked out through a conversion has stat data that matches its
                # blob, not its bytes. An index dated at the epoch's first second makes
                # every entry racily clean, and `git add` hashes every file again as it is.
                os.utime(copy, (1, 1))
        env = {"GIT_INDEX_FILE": str(copy)}
        _unhide(worktree, env)
        derived = _untracked_derived(worktree, env)
        repository.git(worktree, *unfiltered, "add", "-A", "--", ":/", env=env)
        # Dropped afterwards: exclude pathspecs in `add` fail when they name an ignored path.
        if derived:
            repository.git(
                worktree,
                "--literal-pathspecs",
                "rm",
                "-q",
                "--cached",
                "--ignore-unmatch",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
                env=env,
                stdin="\0".join(derived) + "\0",
            )
        return repository.git(worktree, "write-tree", env=env).stdout.strip()


def _untracked_derived(worktree: Path, env: Mapping[str, str]) -> list[str]:
    """The untracked, not ignored derived files (:data:`DERIVED`), from the top."""
    listed = repository.git(
        worktree,
        "ls-files",
        "-z",
        "--others",
        "--exclude-standard",
        "--full-name",
        "--",
        *DERIVED,
        env=env,
    )
    names = [name for name in listed.stdout.split("\0") if name]
    if not any(name.startswith(f"{workfolder.FOLDER}/") for name in names):
        return names
    top = Path(repository.git(worktree, "rev-parse", "--show-toplevel").stdout.strip())
    return [name for name in names if _derived(top, name)]


def _derived(top: Path, name: str) -> bool:
    """Whether the listed ``name`` is derived: bytecode in ``__pycache__``, or a file
    gatekeeper writes in its folder (never a link planted there)."""
    if not name.startswith(f"{workfolder.FOLDER}/"):
        return True
    return workfolder.is_own(name) and not (top / name).is_symlink()


def _unhide(worktree: Path, env: Mapping[str, str]) -> None:
    """Clear assume-unchanged and skip-worktree in the temporary index, for present files.

    `git add` never re-hashes a file carrying either bit, so an edit to it would not change the
    tree id. A skip-worktree file absent from the worktree (sparse checkout) keeps its bit and
    its indexed content: clearing it would record the file as deleted.
    """
    listed = repository.git(worktree, "ls-files", "-v", "-z", "--full-name", "--", ":/", env=env)
    hidden = [
        entry[2:] for entry in listed.stdout.split("\0") if entry[:1].islower() or entry[:1] == "S"
    ]
    top = Path(repository.git(worktree, "rev-parse", "--show-toplevel").stdout.strip())
    present = [name for name in hidden if (top / name).exists()]
    # One flag per call: update-index applies only the first such flag to each path.
    for flag in ("--no-assume-unchanged", "--no-skip-worktree") if present else ():
        # Paths read from stdin are taken relative to the working directory: the top.
        repository.git(
            top, "update-index", flag, "-z", "--stdin", env=env, stdin="\0".join(present) + "\0"
        )


def commit_tree(start: Path, commit: str) -> str:
    """The id :func:`tree_id` gives for a worktree holding exactly ``commit``'s content.

    That is the commit's own tree: every file a commit holds is tracked, and :func:`tree_id`
    leaves out only untracked derived files. Raises :class:`GitError` when git cannot tell.
    """
    found = repository.git(start, "rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}")
    return found.stdout.strip()


def directory(common: Path) -> Path:
    """Where the cache of the repository whose common git dir is ``common`` lives."""
    return common / "gatekeeper" / "cache"


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_config(settings: Settings, check: str) -> dict[str, object]:
    """The configuration a check's verdict depends on: its section and the top-level keys."""
    return {
        key: value
        for key, value in settings.values.items()
        if key.startswith(f"{check}.") or ("." not in key and key not in _NOT_CONFIG)
    }


@dataclass(frozen=True, slots=True)
class Cache:
    """Entries under ``directory`` (``None``: no caching, ``note`` may say why); ``tree``,
    ``inputs`` and ``facts`` are what this run's passes rest on (docs/trust.md)."""

    directory: Path | None
    facts: Facts
    tree: str
    inputs: Inputs
    settings: Settings
    scope: str
    token: str = ""
    note: str = ""
    # The project's packages the session imported from outside the tree (an editable install
    # of another checkout): its passes are not what a checkout of the tree would get.
    outside: tuple[str, ...] = ()

    @classmethod
    def open(cls, settings: Settings, worktree: Path, token: str) -> Cache:
        """The cache for this run: disabled by ``cache = false``, outside git, or when the
        ignored inputs cannot be keyed."""
        common = repository.common_dir(worktree) if settings.flag("cache") else None
        if common is None:
            return cls.off(settings)
        try:
            tree = tree_id(worktree)
            found = inputs.scan(worktree)
        except GitError:
            return cls.off(settings)  # no key, so no reuse: every check runs
        if found.digest is None:
            note = (
                f"the result cache is off for this run: what the run could read cannot be "
                f"keyed ({found.problem}), and a pass may rest on it (docs/trust.md)"
            )
            return cls.off(settings, note)
        place = relative(settings.root, worktree)
        # Taken now, at the start of the run, never later from a check's thread: by then the
        # test session may have changed sys.path and the variables.
        facts = environment.facts(os.environ, settings.strings("pass-env"), worktree.resolve())
        if facts.problem:
            note = f"the result cache is off for this run: {facts.problem} (docs/trust.md)"
            return cls.off(settings, note)
        return cls(directory(common), facts, tree, found, settings, place, token)

    @classmethod
    def off(cls, settings: Settings, note: str = "") -> Cache:
        """No caching: nothing is reused or stored."""
        return cls(None, Facts("", ()), "", Inputs((), None), settings, "", note=note)

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    @property
    def judges_as_ci(self) -> bool:
        """This run sees a clean tree in a scrubbed environment, as the hook's gate does."""
        return self.clean and self.facts.scrubbed

    @property
    def clean(self) -> bool:
        """What a fresh checkout of the tree holds, and nothing else, was judged."""
        return self.inputs.clean and not self.outside

    def recorded(self) -> dict[str, bool]:
        """How this run judges, stored with every entry it writes."""
        return {"clean": self.clean, "scrubbed": self.facts.scrubbed}

    def key(self, check: str, extra: str = "") -> str:
        """The key of ``check``'s verdict on this content; ``extra`` adds run facts."""
        return _digest(
            {
                "format": FORMAT,
                "check": check,
                "tree": self.tree,
                "inputs": self.inputs.digest,
                "project": self.scope,
                "config": check_config(self.settings, check),
                "environment": self.facts.digest,
                "policy": self.token,
                "extra": extra,
            }
        )

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def load(self, key: str) -> CheckResult | None:
        """The stored pass under ``key``, marked cached; None when missing or not trustworthy.

        A run that judges as CI does (:attr:`judges_as_ci`) takes only entries recorded so.
        """
        if self.directory is None:
            return None
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            if data["format"] != FORMAT or data["key"] != key:
                return None
            if self.judges_as_ci and data["recorded"] != self.recorded():
                return None
            result = check_from_dict(data["result"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        if result.status is not Status.PASSED:
            return None  # only passes are ever stored; anything else was not written by us
        return replace(result, cached=True)

    def store(self, key: str, result: CheckResult) -> None:
        """Keep ``result`` under ``key`` when it passed; losing an entry only costs speed."""
        if self.directory is None or result.status is not Status.PASSED:
            return
        document = {"key": key, "recorded": self.recorded(), "result": check_dict(result)}
        write_entry(self._path(key), FORMAT, document)


def write_entry(path: Path, version: int, document: Mapping[str, object]) -> None:
    """Write ``document`` (with its format ``version``) to ``path`` atomically; a failure only
    loses the entry, which costs speed, never trust."""
    with contextlib.suppress(OSError):
        atomic.write_text(path, json.dumps({"format": version, **document}))
