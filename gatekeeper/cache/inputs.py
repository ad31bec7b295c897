"""Ignored inputs: the ignored files a run can read, which a pass therefore rests on.

The tree id (:func:`gatekeeper.cache.store.tree_id`) leaves ignored files out, as git does. But a
suite reads what is there: an ignored ``.env``, a generated module, ``_version.py``, a built
extension, an ignored ``.coveragerc``. So every ignored file in the worktree is an input of the
run, keyed by its content, except what is known to be none:

- tools' output: their caches (``__pycache__``, ``.pytest_cache``, ``.mypy_cache``,
  ``.ruff_cache``, ``.hypothesis``), gatekeeper's own state in ``.gatekeeper/`` (its reports,
  logs, bytecode and coverage data: :data:`gatekeeper.project.workfolder.OWN`, judged by name
  and kind, never a link; anything else there, such as the worktree's ``env`` file or a file a
  test reads, is an input), coverage.py's
  data files (``.coverage``, ``.coverage.*``: SQLite databases, told from configuration by their
  header), ``htmlcov/``;
- environments: a virtual environment (any folder holding ``pyvenv.cfg``), a conda environment
  (``conda-meta/``), ``.tox/`` and ``.nox/``. What is installed is keyed as the environment
  (every distribution with its version, and what no distribution records by content:
  :mod:`gatekeeper.cache.environment`);
- editor and system metadata: ``.idea/``, ``.vscode/``, ``.DS_Store``, ``Thumbs.db``;
- the ``.git`` of a repository nested in the worktree.

A folder that holds no file (besides tools' output, environments and metadata) is an input by
its path: git tracks no folder, so a checkout lacks it (:func:`empty_folders`).

A submodule's files are not hashed: the tree id holds its commit. But a fresh checkout (the
pre-push hook's, a plain clone's) holds a submodule's folder empty, so a populated one is an
input of its own: the worktree is not clean, and a pass made there does not answer a push.
Uncommitted changes inside a submodule are seen by nothing, so they make the inputs unkeyable.

Bytecode counts only inside ``__pycache__``: a ``.pyc`` beside the sources can be imported
without one. A worktree holding no ignored input is *clean*: it holds exactly what a fresh
checkout of its tree holds, which is what the pre-push hook and CI judge.

Bytecode in ``__pycache__`` that Python would load for a source although it holds other code
(:func:`stale_bytecode`) is not tools' output to ignore either. A gated session sends its own
bytecode elsewhere (:mod:`gatekeeper.cache.bytecode`), but a test's subprocess started with an
environment of its own (or ``-I``, ``-E``) reads the classic ``__pycache__``, where a ``.pyc``
written before a same-size edit in the same second (or ``touch -r``) still matches the source's
recorded mtime and size, and an unchecked hash-based ``.pyc`` is never compared with its source
at all: it would run the old code. Every such ``.pyc`` Python would load is compared with its
source compiled afresh (:func:`gatekeeper.cache.bytecode.misleading`); one holding other code is
an input, keyed by its content: the worktree is not clean, and the session says which file to
remove. Nothing is removed.

Hashing is bounded (:data:`MAX_FILES`, :data:`MAX_BYTES`). Past that bound, or when a file
cannot be read, the inputs cannot be keyed: :attr:`Inputs.digest` is None, and the run's passes
are neither reused nor stored. Symbolic links are keyed by their target, never followed; a link
anywhere in the worktree that leads to something outside it (or into a ``.git``) makes the inputs
unkeyable, since what is read through it is in no key and a clean checkout lacks it; other
special files (sockets, pipes) by their kind, never opened.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final

from gatekeeper.cache import bytecode
from gatekeeper.git import repository
from gatekeeper.project import workfolder
from gatekeeper.project.paths import is_environment

MAX_FILES: Final = 20_000
MAX_BYTES: Final = 64 * 1024 * 1024

TOOL_OUTPUT: Final = frozenset(
    {
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "htmlcov",
        ".git",
    }
)
ENVIRONMENTS: Final = frozenset({".tox", ".nox"})
METADATA: Final = frozenset({".idea", ".vscode", ".DS_Store", "Thumbs.db"})
_NOT_INPUTS: Final = TOOL_OUTPUT | ENVIRONMENTS | METADATA
_SQLITE: Final = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class Inputs:
    """The ignored inputs of a worktree.

    ``paths`` lists them (POSIX, relative to the worktree root, at most a few shown in
    messages); ``digest`` hashes their paths and content (``""`` when there are none, None when
    they could not be keyed, ``problem`` saying why).
    """

    paths: tuple[str, ...]
    digest: str | None
    problem: str = ""
    stale: tuple[str, ...] = ()  # bytecode Python would load for a source, of other code
    empty: tuple[str, ...] = ()  # folders holding no file, which a checkout does not make

    @property
    def clean(self) -> bool:
        """No ignored input at all: what a fresh checkout of the tree holds."""
        return not self.paths and self.digest == "" and not self.stale

    def describe(self, limit: int = 3) -> str:
        """``.env, pkg/_version.py and 2 more``: for messages."""
        shown = ", ".join(self.paths[:limit])
        more = len(self.paths) - limit
        return f"{shown} and {more} more" if more > 0 else shown


class _Unkeyable(Exception):
    """The inputs cannot be keyed: too many, too large, or unreadable."""


@dataclass(slots=True)
class _Walk:
    root: Path
    found: list[tuple[str, str]] = field(default_factory=list)
    size: int = 0

    def add(self, name: str, fact: str) -> None:
        self.found.append((name, fact))
        if len(self.found) > MAX_FILES:
            raise _Unkeyable(f"more than {MAX_FILES} ignored files")


def scan(worktree: Path) -> Inputs:
    """The ignored inputs of the worktree whose root is ``worktree``."""
    listed = repository.git(
        worktree,
        "ls-files",
        "-z",
        "--others",
        "--ignored",
        "--exclude-standard",
        "--directory",
        check=False,
    )
    if listed.returncode != 0:
        return Inputs((), None, f"git could not list the ignored files: {listed.stderr.strip()}")
    hidden = _hidden(worktree) or _attributed(worktree)
    if hidden:
        return Inputs((), None, hidden)
    walk = _Walk(worktree)
    try:
        stale, empty = _walk(walk, listed.stdout)
    except _Unkeyable as error:
        return Inputs(tuple(name for name, _ in walk.found), None, str(error))
    names = tuple(name for name, _ in stale)
    paths = tuple(name for name, _ in walk.found)
    return Inputs(paths, _digest(walk.found), stale=names, empty=empty)


def _walk(walk: _Walk, listed: str) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """Add every input to ``walk``: the ignored files git ``listed``, populated submodules,
    stale bytecode and empty folders (the last two returned); raises :class:`_Unkeyable` when
    they cannot be keyed."""
    worktree = walk.root
    for entry in sorted(filter(None, listed.split("\0"))):
        _visit(walk, entry.rstrip("/"))
    _refuse_links_out(worktree)
    links = _refuse_edited_submodules(worktree)
    for link in _populated_submodules(worktree, links):
        walk.add(f"{link}/", "populated submodule")
    stale = stale_bytecode(worktree)
    for name, fact in stale:
        walk.add(name, fact)
    every = [f"{name}/" for name in empty_folders(worktree, links)]
    for name in every:
        walk.add(name, "empty folder")
    # Named by the outermost: `outbox/` rather than `outbox/sent/` too.
    empty = tuple(name for name in every if not any(name.startswith(o) for o in every if o != name))
    return stale, empty


def empty_folders(worktree: Path, links: list[str]) -> list[str]:
    """The folders of the worktree that hold no file at any depth (besides tools' output,
    environments and metadata), nested ones included: git tracks files, not folders, so a
    checkout of the tree has none of them, though a test may rely on one. A submodule's folder
    is one a checkout makes."""
    found: list[str] = []
    _holds_files(worktree, worktree, frozenset(links), found)
    return sorted(found)


def _holds_files(worktree: Path, folder: Path, links: frozenset[str], found: list[str]) -> bool:
    """Whether ``folder`` holds a file a checkout may make it for; its empty subfolders are
    added to ``found``."""
    holds, empties = False, []
    try:
        entries = list(os.scandir(folder))
    except OSError as error:
        raise _Unkeyable(f"cannot read {folder.relative_to(worktree)}/: {error.strerror}") from None
    for entry in entries:
        path = Path(entry.path)
        name = path.relative_to(worktree).as_posix()
        if not entry.is_dir(follow_symlinks=False):
            holds = holds or entry.name not in METADATA
        elif name in links or workfolder.is_own(name, folder=True):
            holds = True  # a checkout makes a submodule's folder; gatekeeper makes its own
        elif not _skipped(worktree, path):
            if _holds_files(worktree, path, links, found):
                holds = True
            else:
                empties.append(name)
    found.extend(empties)
    return holds


def _hidden(worktree: Path) -> str:
    """Why the files on disk are not the tree git records, when git is told to look away from
    some; "" when it is not."""
    hidden = repository.hidden_from_the_worktree(worktree)
    if not hidden:
        return ""
    shown = ", ".join(hidden[:3]) + (f" and {len(hidden) - 3} more" if len(hidden) > 3 else "")
    return (
        f"{len(hidden)} tracked file(s) are marked skip-worktree or assume-unchanged ({shown}: "
        "a sparse checkout or `git update-index`), so the files on disk are not the tree git "
        "records"
    )


def _attributed(worktree: Path) -> str:
    """Why the tree id may not hold the bytes on disk, when the repository's own attributes
    file converts what git reads (line endings, encodings); "" when it does not."""
    path, lines = repository.local_attributes(worktree)
    if not lines:
        return ""
    return (
        f"{path} sets attributes that convert what git reads ({lines[0]}), so the tree id is "
        "not the bytes on disk, and a clone in CI does not have that file"
    )


def stale_bytecode(worktree: Path) -> list[tuple[str, str]]:
    """Each ``__pycache__/*.pyc`` in the worktree (outside environments and tools' folders)
    that Python would load for its source although it holds other code, with a fact for the
    digest: its content."""
    found = []
    checked = bytecode.Checked.of(worktree)
    for folder, dirs, files in os.walk(worktree):
        here = Path(folder)
        if here.name == "__pycache__":
            found.extend(_stale_in(worktree, here, files, checked))
            dirs.clear()
            continue
        dirs[:] = sorted(d for d in dirs if d == "__pycache__" or not _skipped(worktree, here / d))
    checked.save()
    return sorted(found)


def _skipped(worktree: Path, path: Path) -> bool:
    """Folders holding no bytecode of the project's: environments, tools' output, metadata."""
    name = path.relative_to(worktree).as_posix()
    if path.name in _NOT_INPUTS or workfolder.is_own(name, folder=True):
        return True
    return is_environment(path)


def _stale_in(
    worktree: Path, pycache: Path, files: list[str], checked: bytecode.Checked
) -> list[tuple[str, str]]:
    found = []
    for name in sorted(files):
        if not name.endswith(".pyc"):
            continue
        pyc, source = pycache / name, pycache.parent / f"{name.split('.', 1)[0]}.py"
        if bytecode.misleading(pyc, source, checked):
            shown = pyc.relative_to(worktree).as_posix()
            try:
                found.append((shown, f"bytecode {_content(pyc)}"))
            except OSError as error:
                raise _Unkeyable(f"cannot read {shown}: {error.strerror}") from None
    return found


def _refuse_links_out(worktree: Path) -> None:
    """The tree id holds a link's text, not what is read through it: a link in the tree
    (tracked, or untracked and not ignored) whose target exists outside the worktree, or in a
    ``.git``, leads to content no key holds and a clean clone lacks."""
    listed = repository.git(
        worktree, "ls-files", "-z", "--cached", "--others", "--exclude-standard", check=False
    ).stdout
    for name in sorted(set(filter(None, listed.split("\0")))):
        path = worktree / name
        if path.is_symlink():
            _refuse_if_out(worktree, name, path)


def _refuse_if_out(worktree: Path, name: str, link: Path) -> None:
    """Raise :class:`_Unkeyable` when ``link`` leads to something outside the worktree's own
    files (a dangling link leads to nothing a run can read)."""
    target = link.resolve()
    if not target.exists():
        return
    root = worktree.resolve()
    if target.is_relative_to(root) and ".git" not in target.relative_to(root).parts:
        return
    raise _Unkeyable(
        f"the link {name} leads outside the worktree ({target}), whose content no key holds "
        "and a clean checkout does not have"
    )


def _populated_submodules(worktree: Path, links: list[str]) -> list[str]:
    """The submodules (and embedded repositories) whose folder holds anything."""
    return [
        link for link in links if (worktree / link).is_dir() and any((worktree / link).iterdir())
    ]


def _refuse_edited_submodules(worktree: Path) -> list[str]:
    """The tree id holds a submodule's commit, not its files: uncommitted edits (or untracked
    files) inside one cannot be keyed. Returns the submodules' paths."""
    staged = repository.git(worktree, "ls-files", "-z", "--stage", check=False).stdout
    links = [e.split("\t", 1)[1] for e in staged.split("\0") if e.startswith("160000 ")]
    if not links:
        return links
    status = repository.git(
        worktree, "status", "--porcelain=2", "-z", "--ignore-submodules=none", "--", *links
    )
    for record in status.stdout.split("\0"):
        fields = record.split(" ", 8)
        if fields[0] == "1" and fields[2].startswith("S") and fields[2][2:] != "..":
            raise _Unkeyable(f"uncommitted changes inside the submodule {fields[8]}")
    return links


def is_input(name: str) -> bool:
    """Whether the ignored path ``name`` (relative, POSIX) may be an input, by its name alone."""
    parts = PurePosixPath(name).parts
    if set(parts) & _NOT_INPUTS:
        return False
    return not (parts and parts[-1].endswith((".pyc", ".pyo")) and "__pycache__" in parts)


def _visit(walk: _Walk, name: str) -> None:
    path = walk.root / name
    if not is_input(name):
        return
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return  # gone since git listed it (a tool's temporary file): nothing to read
    except OSError as error:
        raise _Unkeyable(f"cannot read {name}: {error.strerror}") from None
    if stat.S_ISLNK(mode):
        _refuse_if_out(walk.root, name, path)
        walk.add(name, f"link {_target(name, path)}")
    elif stat.S_ISDIR(mode):
        _visit_folder(walk, name, path)
    elif stat.S_ISREG(mode):
        # gatekeeper's own state: by name and kind, after lstat, so a link is never one
        if not (workfolder.is_own(name) or _is_coverage_data(path)):
            walk.add(name, _file_fact(walk, name, path, mode))
    else:
        walk.add(name, f"special {stat.S_IFMT(mode)}")


def _visit_folder(walk: _Walk, name: str, path: Path) -> None:
    if workfolder.is_own(name, folder=True):
        _visit_own(walk, name, path)
        return
    if is_environment(path):
        return  # an environment: keyed by what is installed, not file by file
    try:
        children = sorted(entry.name for entry in os.scandir(path))
    except OSError as error:
        raise _Unkeyable(f"cannot read {name}/: {error.strerror}") from None
    for child in children:
        _visit(walk, f"{name}/{child}")


def _visit_own(walk: _Walk, name: str, path: Path) -> None:
    """Visit one of gatekeeper's own folders (thousands of files in ``pycache/``): what is of
    a kind gatekeeper writes there is passed over by its directory entry alone; anything else
    (a link, a file of another kind) is visited as any ignored path is."""
    try:
        entries = sorted(os.scandir(path), key=lambda entry: entry.name)
    except OSError as error:
        raise _Unkeyable(f"cannot read {name}/: {error.strerror}") from None
    for entry in entries:
        child = f"{name}/{entry.name}"
        if entry.is_dir(follow_symlinks=False) and workfolder.is_own(child, folder=True):
            _visit_own(walk, child, Path(entry.path))
        elif not (entry.is_file(follow_symlinks=False) and workfolder.is_own(child)):
            _visit(walk, child)


def _file_fact(walk: _Walk, name: str, path: Path, mode: int) -> str:
    try:
        walk.size += path.stat().st_size
        if walk.size > MAX_BYTES:
            raise _Unkeyable(f"more than {MAX_BYTES // (1024 * 1024)} MiB of ignored files")
        content = _content(path)
    except OSError as error:
        raise _Unkeyable(f"cannot read {name}: {error.strerror}") from None
    executable = "x" if mode & stat.S_IXUSR else "-"
    return f"file {executable} {content}"


def _content(path: Path) -> str:
    """The SHA-256 of the file's bytes; raises :class:`OSError`."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _target(name: str, path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError as error:
        raise _Unkeyable(f"cannot read the link {name}: {error.strerror}") from None


def _is_coverage_data(path: Path) -> bool:
    """coverage.py's data file (``.coverage``, ``.coverage.<suffix>``), not its configuration:
    data files are SQLite databases."""
    if not (path.name == ".coverage" or path.name.startswith(".coverage.")):
        return False
    try:
        with path.open("rb") as stream:
            return stream.read(len(_SQLITE)) == _SQLITE
    except OSError:
        return False


def _digest(found: list[tuple[str, str]]) -> str:
    if not found:
        return ""
    text = "".join(f"{name}\0{fact}\n" for name, fact in sorted(found))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
