"""``.gatekeeper/`` in a worktree: gatekeeper's working files, kept out of git.

Reports, coverage data, logs, the reports kept from gates run in temporary worktrees and the
bytecode of gated sessions (``pycache/``, keyed by content: :mod:`gatekeeper.cache.bytecode`) all
live here. A self-ignoring ``.gitignore`` keeps them out of ``git add -A`` whether or not the
project ignores the folder; only the baseline is the user's to commit.

Only what gatekeeper itself keeps here (:data:`OWN`, and in its folders only the kinds of files
it writes there: :func:`is_own`) is its state; never a link. Anything else in the folder is
the user's: the baseline, the environment file ``gatekeeper worktree new`` writes (``env``), a
file a test reads. A clean checkout has none of them, so the result cache keys each one as an
input of the run (:mod:`gatekeeper.cache.inputs`), never leaves it out.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Final

FOLDER: Final = ".gatekeeper"
# Reports of gates run in temporary worktrees (the pre-push hook, integration), by commit.
GATED: Final = "gated"
# Classic bytecode in the worktree found to hold its source's code (gatekeeper.cache.bytecode).
CHECKED: Final = "bytecode-checked.json"
# What gatekeeper keeps in the folder, by name: its ignore file, the report and the CI formats
# beside it, integration's report and log, the worktree setup's log, what classic bytecode was
# checked and the per-test durations that split shards (read only by a sharded run, which is
# never reused); and its folders: the bytecode of gated sessions, kept reports of temporary
# gates, coverage data folders (with their locks) and shards' partial results. Written as the
# gate runs and never an input of one.
OWN_FILES: Final = frozenset(
    {
        ".gitignore",
        "report.json",
        "report.sarif",
        "report.junit.xml",
        "integration.json",
        "integration.log",
        "setup.log",
        CHECKED,
        "durations.json",
    }
)
OWN_FOLDERS: Final = frozenset({"pycache", GATED, "coverage", "shards"})
OWN: Final = OWN_FILES | OWN_FOLDERS
# What gatekeeper writes inside each of its folders, as paths below it: (folders, files).
# pycache/: bytecode mirrored by sys.pycache_prefix (and Python's and pytest's temporary
# `<name>.pyc.<number>` while writing one); gated/: kept reports; shards/: `shard-I-of-N/` with
# its manifest (and the atomic write's temporary file) and coverage data; coverage/: each run's
# data folder, holding coverage.py's data files, and its lock beside it.
_SHARD: Final = r"shard-\d+-of-\d+"
_INSIDE: Final = {
    "pycache": (re.compile(r".+"), re.compile(r"(.+/)?[^/]+\.pyc(\.\d+)?")),
    GATED: (re.compile(r"(?!)"), re.compile(r"[^/]+\.json")),
    "shards": (
        re.compile(_SHARD),
        re.compile(rf"{_SHARD}/(manifest\.json|\.manifest\.json-[^/]+|coverage(-journal)?)"),
    ),
    "coverage": (re.compile(r"[^/]+"), re.compile(r"[^/]+\.lock|[^/]+/\.coverage[^/]*")),
}
_HEADER: Final = "# gatekeeper's working files; commit only the baseline\n"
_RULES: Final = "*\n!.gitignore\n!baseline.json\n"
# The first line of the ignore file `gatekeeper worktree new` writes for its environment file.
_ENVFILE_HEADER: Final = "# Written by gatekeeper"


def is_own(name: str, folder: bool = False) -> bool:
    """Whether ``name`` (POSIX, relative to the worktree's root), a folder when ``folder``,
    else a file, is of a kind gatekeeper itself writes in its folder: one of :data:`OWN_FILES`
    (or a file :mod:`gatekeeper.atomic` is writing beside one, ``.report.json-<random>``), one
    of :data:`OWN_FOLDERS`, or what gatekeeper writes inside one. Anything else there, a link
    above all (the caller tells by ``lstat``: never one of gatekeeper's own), is the user's."""
    top, _, rest = name.partition("/")
    if top != FOLDER or not rest:
        return False
    entry, _, below = rest.partition("/")
    if not below and folder:
        return entry in OWN_FOLDERS
    if not below:
        return entry in OWN_FILES or any(entry.startswith(f".{own}-") for own in OWN_FILES)
    if entry not in _INSIDE:
        return False
    folders, files = _INSIDE[entry]
    return (folders if folder else files).fullmatch(below) is not None


def prepare(worktree: Path) -> Path:
    """The folder in ``worktree``, made if missing, with an ignore file that keeps every file
    but the baseline out of git; returns the folder.

    An ignore file gatekeeper wrote for the environment file alone gains the same rules; one the
    user wrote is left as it is.
    """
    folder = worktree / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    try:
        text = ignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        ignore.write_text(_HEADER + _RULES, encoding="utf-8")
        return folder
    if text.startswith(_ENVFILE_HEADER) and "*" not in text.splitlines():
        ignore.write_text(text + "*\n!baseline.json\n", encoding="utf-8")
    return folder


def keep_report(report: Path, worktree: Path, commit: str) -> Path | None:
    """Copy the report a gate wrote in a temporary worktree, which is about to be removed, to
    ``.gatekeeper/gated/<commit>.json`` in ``worktree``; returns the copy, or None when there
    was no report to keep or it could not be copied (the verdict never depends on it)."""
    if not report.is_file():
        return None
    try:
        target = prepare(worktree) / GATED / f"{commit}.json"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(report, target)
    except OSError:
        return None
    return target
