"""The result cache: a check that passed on exactly this content passes again without running.

The key is the git tree id of the worktree as it is (uncommitted and untracked files included,
ignored files left out), the check's effective configuration, the baseline and scope in force,
the Python version and every installed distribution with its version (which covers the tools).
The tree id is computed in a temporary copy of the index, so the user's index is never touched.
Entries live in the repository's common git dir, shared by every worktree: a tree that passed in
one worktree passes at once in another.

Only passes are stored; failures and errors always run again. An entry that cannot be read, does
not parse or was stored under another key is ignored, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from gatekeeper import importroots, repository
from gatekeeper.config import Settings
from gatekeeper.errors import GitError
from gatekeeper.model import CheckResult, Finding, Severity, Status
from gatekeeper.paths import relative
from gatekeeper.reports.json import finding_dict
from gatekeeper.version import installed_version

FORMAT: Final = 1
# Derived files that never change a verdict but change on every run: gatekeeper's own output
# (reports, coverage data) and bytecode, which a project may forget to ignore.
EXCLUDED: Final = (
    ":(top).gatekeeper",
    ":(top,glob)**/__pycache__/**",
    ":(top,glob)**/*.py[co]",
)
# Top-level keys that do not change what any check decides.
_NOT_CONFIG: Final = frozenset({"report", "cache", "checks"})
# Environment variables the tools read besides their configuration files.
_ENV_PREFIXES: Final = ("PYTHON", "MYPY", "RUFF_", "COVERAGE_", "PYTEST_ADDOPTS")


def tree_id(worktree: Path) -> str:
    """The tree id of ``worktree``'s content now, without touching its index.

    Raises :class:`GitError` when git cannot compute it.
    """
    found = repository.git(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index")
    index = Path(found.stdout.strip())
    with tempfile.TemporaryDirectory(prefix="gatekeeper-index-") as scratch:
        copy = Path(scratch) / "index"
        if index.is_file():
            # Its stat data lets `git add` skip unchanged files. copy2 keeps the index's mtime,
            # which git compares with each file's to catch edits made in the same tick as the
            # index was written ("racily clean" entries): a fresh mtime would hide them.
            shutil.copy2(index, copy)
        env = {"GIT_INDEX_FILE": str(copy)}
        _unhide(worktree, env)
        repository.git(worktree, "add", "-A", "--", ":/", env=env)
        # Dropped afterwards: exclude pathspecs in `add` fail when they name an ignored path.
        repository.git(
            worktree, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", *EXCLUDED, env=env
        )
        return repository.git(worktree, "write-tree", env=env).stdout.strip()


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

    Read from the commit alone, in a temporary index: nothing is checked out. The same paths are
    left out, so a commit of what was judged in a worktree has the tree id that was judged.
    Raises :class:`GitError` when git cannot compute it.
    """
    with tempfile.TemporaryDirectory(prefix="gatekeeper-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        repository.git(start, "read-tree", f"{commit}^{{tree}}", env=env)
        # -f: this index matches neither the worktree's HEAD nor its files, and need not.
        repository.git(
            start, "rm", "-r", "-q", "-f", "--cached", "--ignore-unmatch", "--", *EXCLUDED, env=env
        )
        return repository.git(start, "write-tree", env=env).stdout.strip()


def directory(common: Path) -> Path:
    """Where the cache of the repository whose common git dir is ``common`` lives."""
    return common / "gatekeeper" / "cache"


def environment(worktree: Path) -> str:
    """A hash of the interpreter, every installed distribution and the tools' variables.

    The worktree's own path is replaced in those variables (``PYTHONPATH=/path/to/wt``), so
    worktrees of one repository share entries.
    """
    distributions = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    )
    here = str(worktree)
    # Not the import roots a temporary worktree's gate put first (gatekeeper.importroots): they
    # point into the tree, which the key holds, and were verified to hold the project's code.
    given = {**os.environ, "PYTHONPATH": importroots.users_pythonpath(os.environ)}
    variables = {
        k: v.replace(here, "<worktree>")
        for k, v in given.items()
        if k.startswith(_ENV_PREFIXES) and v is not None
    }
    facts = {
        "python": sys.version,
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "distributions": distributions,
        "variables": variables,
        "gatekeeper": installed_version(),
    }
    return _digest(facts)


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
    """Entries under ``directory``; ``tree`` is the content being judged. ``None``: no caching."""

    directory: Path | None
    environment: str
    tree: str
    settings: Settings
    scope: str
    token: str = ""

    @classmethod
    def open(cls, settings: Settings, worktree: Path, token: str) -> Cache:
        """The cache for this run: disabled by ``cache = false``, or outside git."""
        common = repository.common_dir(worktree) if settings.flag("cache") else None
        if common is None:
            return cls(None, "", "", settings, "")
        try:
            tree = tree_id(worktree)
        except GitError:
            return cls(None, "", "", settings, "")  # no key, so no reuse: every check runs
        place = relative(settings.root, worktree)
        # Taken now, at the start of the run, never later from a check's thread: by then the
        # test session may have changed sys.path and the variables.
        facts = environment(worktree.resolve())
        return cls(directory(common), facts, tree, settings, place, token)

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def key(self, check: str, extra: str = "") -> str:
        """The key of ``check``'s verdict on this content; ``extra`` adds run facts."""
        return _digest(
            {
                "format": FORMAT,
                "check": check,
                "tree": self.tree,
                "project": self.scope,
                "config": check_config(self.settings, check),
                "environment": self.environment,
                "policy": self.token,
                "extra": extra,
            }
        )

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def load(self, key: str) -> CheckResult | None:
        """The stored pass under ``key``, marked cached; None when missing or not trustworthy."""
        if self.directory is None:
            return None
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            if data["format"] != FORMAT or data["key"] != key:
                return None
            result = from_dict(data["result"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        if result.status is not Status.PASSED:
            return None  # only passes are ever stored; anything else was not written by us
        return replace(result, cached=True)

    def store(self, key: str, result: CheckResult) -> None:
        """Keep ``result`` under ``key`` when it passed; losing an entry only costs speed."""
        if self.directory is None or result.status is not Status.PASSED:
            return
        path = self._path(key)
        document = {"format": FORMAT, "key": key, "result": to_dict(result)}
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".entry-")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream)
            Path(temporary).replace(path)


def to_dict(result: CheckResult) -> dict[str, object]:
    """A check result as plain JSON values."""
    return {
        "name": result.name,
        "status": result.status.value,
        "summary": result.summary,
        "rule": result.rule,
        "findings": [finding_dict(f) for f in result.findings],
        "metrics": dict(result.metrics),
        "duration": result.duration,
        "ran": list(result.ran),
    }


def from_dict(data: Mapping[str, object]) -> CheckResult:
    """The inverse of :func:`to_dict`; raises ValueError, TypeError or KeyError on bad input."""
    findings = data["findings"]
    metrics = data["metrics"]
    ran = data["ran"]
    if not (isinstance(findings, list) and isinstance(metrics, dict) and isinstance(ran, list)):
        raise TypeError("findings, metrics and ran must be a list, a mapping and a list")
    return CheckResult(
        name=str(data["name"]),
        status=Status(str(data["status"])),
        summary=str(data["summary"]),
        rule=str(data["rule"]),
        findings=tuple(_finding(item) for item in findings),
        metrics={str(k): _metric(v) for k, v in metrics.items()},
        duration=float(str(data["duration"])),
        ran=tuple(str(item) for item in ran),
    )


def _finding(item: Mapping[str, object]) -> Finding:
    new = item.get("new")  # the report's form: present only when a baseline judged it
    if new is not None and not isinstance(new, bool):
        raise TypeError(f"new is {new!r}")
    return Finding(
        check=str(item["check"]),
        path=str(item["path"]),
        line=int(str(item["line"])),
        column=int(str(item["column"])),
        code=str(item["code"]),
        message=str(item["message"]),
        severity=Severity(str(item["severity"])),
        fingerprint=str(item["fingerprint"]),
        new=new,
    )


def _metric(value: object) -> float | int | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"metric value {value!r}")
    return value
