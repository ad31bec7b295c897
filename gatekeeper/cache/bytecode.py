"""Bytecode keyed by content: a gated session never runs bytecode written for other content.

``__pycache__`` is not an input of a run (it is tools' output, :mod:`gatekeeper.cache.inputs`), yet
Python trusts a ``.pyc`` there whose recorded source mtime (in whole seconds) and size match the
source file, and pytest 8's assertion-rewrite cache of test files does the same. An edit that
keeps a file's size within the same second (``a + b`` to ``a - b``), or ``touch -r``, then runs
the old code: the tests pass on code the tree no longer holds, and the pass would be stored for
that tree.

So once a session's content is keyed (the tree id and the ignored inputs), its bytecode goes to
a folder of that content's own, ``.gatekeeper/pycache/<key>/``: ``sys.pycache_prefix`` in the
pytest process and ``PYTHONPYCACHEPREFIX`` for every process it starts (xdist workers, the
tests' subprocesses). pytest's rewrite cache follows ``sys.pycache_prefix``. Every ``.pyc``
there was written from this very content, so whatever Python trusts there is right. A new
folder starts with the bytecode that holds whatever the tree holds (:func:`seed`), and the
:data:`KEPT` most recently used folders are kept: a return to an earlier tree (a reverted edit,
another branch) starts warm.

Modules imported before the session started (pytest imports pluggy, plugins import their
packages, the gate imports itself) were loaded the classic way. Each one inside the worktree is
checked against its source (:func:`stale_imports`): bytecode that Python would trust but that
does not hold the source's code means the session would run old code.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.machinery
import importlib.util
import json
import marshal
import os
import shutil
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.errors import UsageError
from gatekeeper.git import repository
from gatekeeper.project.paths import relative
from gatekeeper.project.workfolder import CHECKED, FOLDER

ENV: Final = "PYTHONPYCACHEPREFIX"
PYCACHE: Final = "pycache"
# Folders of recently judged contents kept beside the current one.
KEPT: Final = 4
_HEADER: Final = 16
_CHECKED_HASH: Final = 0b11


def folder(worktree: Path, tree: str, inputs: str) -> Path:
    """Where the bytecode of ``worktree`` holding ``tree`` with ignored ``inputs`` lives."""
    key = hashlib.sha256(f"{tree}\0{inputs}".encode()).hexdigest()[:32]
    return worktree / FOLDER / PYCACHE / key


def prepare(path: Path, worktree: Path, kept: int = KEPT) -> None:
    """Make ``path`` (seeded when new: :func:`seed`, from the most recently used folder of this
    worktree, else of another worktree of the repository), mark it as just used, and remove
    all but the ``kept`` most recently used other folders beside it. Never raises: without the
    folder Python compiles from source, which is slower, never wrong; a folder another run
    still uses is made again as needed."""
    with contextlib.suppress(OSError):
        new = not path.is_dir()
        path.mkdir(parents=True, exist_ok=True)
        os.utime(path)
        others = _by_use(p for p in path.parent.iterdir() if p.name != path.name)
        source = others[:1] or _by_use(_siblings(worktree))[:1]
        if new and source:
            seed(source[0], path, worktree)
        for old in others[kept:]:
            shutil.rmtree(old, ignore_errors=True)


def seed(source: Path, target: Path, worktree: Path) -> int:
    """Link into ``target`` the bytecode in ``source`` that holds whatever the worktree holds,
    as the classic ``__pycache__`` has it: what was compiled from code that is not the
    worktree's (the standard library, installed packages: keyed as the environment), and
    pytest's rewritten modules checked by hash (pytest compares the source's hash on every
    load). Bytecode of the worktree's own code is never carried over. Returns the count."""
    own = _Worktree.of(worktree)
    count = 0
    for pyc in source.rglob("*.pyc"):
        mirrored = pyc.relative_to(source)
        name = os.sep + str(mirrored.parent / (mirrored.name.split(".", 1)[0] + ".py"))
        if own.owns(name) and not _checked_by_pytest(pyc):
            continue
        copy = target / mirrored
        copy.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.link(pyc, copy)  # files are replaced, never rewritten in place: safe to share
            count += 1
    return count


def _checked_by_pytest(pyc: Path) -> bool:
    if "-pytest-" not in pyc.name:
        return False
    with pyc.open("rb") as stream:
        header = stream.read(_HEADER)
    return int.from_bytes(header[4:8], "little") == _CHECKED_HASH


def _by_use(folders: Iterable[Path]) -> list[Path]:
    """The folders among ``folders``, most recently used first."""
    found = [(p.stat().st_mtime, p) for p in folders if p.is_dir()]
    return [p for _, p in sorted(found, reverse=True)]


def _siblings(worktree: Path) -> list[Path]:
    """The bytecode folders of the repository's other worktrees."""
    here = worktree.resolve()
    found: list[Path] = []
    for root in repository.worktrees(worktree):
        if root.resolve() != here:
            found += (root / FOLDER / PYCACHE).glob("*")
    return found


@dataclass(slots=True)
class Redirect:
    """Bytecode sent to one folder for a session, then sent back where it went before."""

    prefix: str | None
    variable: str | None

    @classmethod
    def to(cls, path: Path) -> Redirect:
        """Send this process's bytecode, and that of every process it starts, to ``path``."""
        saved = cls(sys.pycache_prefix, os.environ.get(ENV))
        sys.pycache_prefix = str(path)
        os.environ[ENV] = str(path)
        return saved

    def restore(self) -> None:
        sys.pycache_prefix = self.prefix
        if self.variable is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = self.variable


@dataclass(frozen=True, slots=True)
class Stale:
    """A module imported from bytecode that does not hold its source's code."""

    source: Path
    bytecode: Path


Rewrite = Callable[[Path], types.CodeType]


def refuse_stale_imports(
    worktree: Path,
    modules: Iterable[types.ModuleType],
    rewrite: Rewrite | None = None,
    shown: int = 3,
) -> None:
    """Raise :class:`UsageError` when any of ``modules`` ran stale bytecode
    (:func:`stale_imports`), after removing that bytecode so the next run imports the source."""
    stale = stale_imports(worktree, modules, rewrite)
    if not stale:
        return
    for found in stale:
        found.bytecode.unlink(missing_ok=True)
    names = ", ".join(relative(found.source, worktree) for found in stale[:shown])
    more = f" and {len(stale) - shown} more" if len(stale) > shown else ""
    raise UsageError(
        f"gatekeeper: {names}{more} had been imported before the gate started (by pytest, a "
        f"plugin or the gate itself) from bytecode written for other content ({stale[0].bytecode}"
        "): Python trusts bytecode whose recorded mtime and size match the source, and an edit "
        "that keeps both (the same size within one second, or touch -r) goes unseen. The "
        "session would have run the old code, so it did not start. That bytecode has been "
        "removed: run the gate again."
    )


def stale_imports(
    worktree: Path, modules: Iterable[types.ModuleType], rewrite: Rewrite | None = None
) -> list[Stale]:
    """The ``modules`` (already imported) of ``worktree`` that ran bytecode written for other
    content than their source holds now.

    Only bytecode Python (or pytest's rewrite hook) would have trusted counts: a timestamp
    ``.pyc`` whose recorded mtime and size match the source, or an unchecked hash-based one.
    Its code is compared with the source compiled afresh (``rewrite`` compiles a module that
    pytest's hook rewrote; without it such modules are taken as stale when their bytecode is
    trusted by timestamp). Installed code (in an environment) is not the worktree's.
    """
    own = _Worktree.of(worktree)
    found = []
    for module in list(modules):
        source = _source(module, own)
        stale = None if source is None else _stale(module, source, rewrite)
        if stale is not None:
            found.append(stale)
    return found


@dataclass(slots=True)
class _Worktree:
    """Which files are the worktree's own code: inside it, and not in an environment there (a
    ``.venv``: installed code is keyed as the environment). Folders are resolved once each: a
    process has imported hundreds of modules from a few dozen folders."""

    root: Path
    environments: tuple[Path, ...] = ()
    known: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, worktree: Path) -> _Worktree:
        root = worktree.resolve()
        prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
        # An environment that holds the worktree (a checkout inside a venv's folder) is not one.
        return cls(root, tuple(p for p in prefixes if p.is_relative_to(root)))

    def owns(self, name: str) -> bool:
        """Whether the file ``name`` (absolute, as imported) is the worktree's own code."""
        path = Path(name)
        if path.is_symlink():  # a link into the worktree, or out of it
            return self._owned(path.resolve())
        folder = name.rpartition(os.sep)[0]
        if folder not in self.known:
            self.known[folder] = self._owned(Path(folder).resolve())
        return self.known[folder]

    def _owned(self, place: Path) -> bool:
        inside = place.is_relative_to(self.root)
        return inside and not any(place.is_relative_to(p) for p in self.environments)


def _source(module: types.ModuleType, worktree: _Worktree) -> Path | None:
    """The module's source file when it is the worktree's own code."""
    name = getattr(module, "__file__", None)
    if not isinstance(name, str) or not name.endswith(".py") or not worktree.owns(name):
        return None
    return Path(name).resolve()


def _stale(module: types.ModuleType, source: Path, rewrite: Rewrite | None) -> Stale | None:
    spec = getattr(module, "__spec__", None)
    cached = getattr(spec, "cached", None)
    if not isinstance(cached, str):
        return None
    standard = isinstance(getattr(spec, "loader", None), importlib.machinery.SourceFileLoader)
    bytecode = Path(cached) if standard else _rewritten_pyc(Path(cached), source)
    if bytecode is None or not _trusted(bytecode, source):
        return None
    try:
        loaded = marshal.loads(bytecode.read_bytes()[_HEADER:])
        fresh = _compile(source) if standard else _rewritten(source, rewrite)
    except (OSError, ValueError, EOFError, TypeError, SyntaxError):
        return Stale(source, bytecode)  # cannot tell: taken as stale, never as good
    return None if loaded == fresh else Stale(source, bytecode)


def _rewritten_pyc(cached: Path, source: Path) -> Path | None:
    """The bytecode pytest's assertion-rewrite hook keeps for ``source``, beside ``cached``."""
    try:
        from _pytest.assertion.rewrite import PYC_TAIL
    except ImportError:
        return None
    return cached.parent / f"{source.stem}{PYC_TAIL}"


@dataclass(slots=True)
class Checked:
    """Classic bytecode found to hold its source's code, kept between sessions in
    ``.gatekeeper/`` (:data:`CHECKED`) so that an unchanged ``.pyc`` is not compiled again:
    each entry is the SHA-256 of the interpreter's version, the optimization level, the
    ``.pyc``'s bytes and the source's bytes, so it holds for exactly those contents. Losing the
    file only costs speed."""

    path: Path | None
    known: frozenset[str] = frozenset()
    good: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, worktree: Path) -> Checked:
        path = worktree / FOLDER / CHECKED
        try:
            known = frozenset(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            known = frozenset()
        return cls(path, known)

    def save(self) -> None:
        """Keep what this scan found good (nothing else: the file never grows past the tree)."""
        if self.path is None or self.good == self.known or not self.path.parent.is_dir():
            return
        with contextlib.suppress(OSError):
            atomic.write_text(self.path, json.dumps(sorted(self.good)))


def misleading(bytecode: Path, source: Path, checked: Checked | None = None) -> bool:
    """Whether Python may load the classic ``bytecode`` for ``source`` although it holds other
    code than the source compiles to: a process without the session's bytecode folder (a
    test's subprocess with an environment of its own, ``-I``, ``-E``) would run that code.

    Python loads a timestamp ``.pyc`` whose recorded mtime and size match the source (a
    same-size edit within the second, ``touch -r``, or a header written to match), an
    unchecked hash-based one always, and a checked one whenever hashes are not checked
    (``--check-hash-based-pycs never``): each is compared with the source compiled afresh, at
    the optimization its name gives (unless ``checked`` already found those very contents
    good). Unreadable bytecode, or a source that does not compile, counts as misleading.
    pytest's rewritten modules are judged by :func:`outdated`: their code is not the source's
    compiled."""
    optimize = _optimization(bytecode.name)
    if optimize is None:
        return outdated(bytecode, source)
    if not _loadable(bytecode, source):
        return False
    checked = checked or Checked(None)
    try:
        data, text = bytecode.read_bytes(), source.read_bytes()
        digest = hashlib.sha256(f"{sys.version}\0{optimize}\0{len(data)}\0".encode())
        digest.update(data + text)
        if digest.hexdigest() in checked.known:
            checked.good.add(digest.hexdigest())
            return False
        same = marshal.loads(data[_HEADER:]) == _compile_text(text, source, optimize)
    except (OSError, ValueError, EOFError, TypeError, SyntaxError):
        return True  # cannot tell: taken as misleading, never as good
    if same:
        checked.good.add(digest.hexdigest())
    return not same


def _optimization(name: str) -> int | None:
    """The optimization level of the bytecode file ``name`` Python writes for a module
    (``calc.cpython-311.pyc``: 0, ``calc.cpython-311.opt-1.pyc``: 1); None for another name
    (pytest's rewritten modules, another interpreter's)."""
    parts = name.split(".")
    if len(parts) not in (3, 4) or parts[1] != sys.implementation.cache_tag or parts[-1] != "pyc":
        return None
    if len(parts) == 3:
        return 0
    level = parts[2].removeprefix("opt-")
    return int(level) if parts[2].startswith("opt-") and level in ("1", "2") else None


def _loadable(bytecode: Path, source: Path) -> bool:
    """Whether some run of this interpreter takes ``bytecode`` for ``source`` without
    compiling the source: a hash-based ``.pyc`` (checked ones too, under
    ``--check-hash-based-pycs never``), or a timestamp one matching its mtime and size."""
    try:
        with bytecode.open("rb") as stream:
            header = stream.read(_HEADER)
    except OSError:
        return True  # cannot tell: the caller compares, and fails closed
    if len(header) < _HEADER or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    return _trusted(bytecode, source) or int.from_bytes(header[4:8], "little") == _CHECKED_HASH


def outdated(bytecode: Path, source: Path) -> bool:
    """Whether Python would take the classic ``bytecode`` for ``source`` although the source
    changed (its status, ``st_ctime_ns``, which no ``touch -r`` sets back) at or after the
    bytecode was written: it may hold code the source no longer holds."""
    try:
        changed = source.stat().st_ctime_ns >= bytecode.stat().st_mtime_ns
    except OSError:
        return False  # no source: Python never reads that bytecode for an import
    return changed and _trusted(bytecode, source)


def _trusted(bytecode: Path, source: Path) -> bool:
    """Whether an importer takes ``bytecode`` for ``source`` without reading the source: a
    timestamp ``.pyc`` matching its mtime and size, or a hash-based one that is not checked."""
    try:
        with bytecode.open("rb") as stream:
            header = stream.read(_HEADER)
        status = source.stat()
    except OSError:
        return False
    if len(header) < _HEADER or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags:
        return flags != _CHECKED_HASH  # a checked hash is compared with the source's bytes
    mtime = int.from_bytes(header[8:12], "little")
    size = int.from_bytes(header[12:16], "little")
    return mtime == int(status.st_mtime) & 0xFFFFFFFF and size == status.st_size & 0xFFFFFFFF


def _compile(source: Path) -> types.CodeType:
    """``source`` compiled as the import system compiles it."""
    return _compile_text(source.read_bytes(), source, -1)


def _compile_text(text: bytes, source: Path, optimize: int) -> types.CodeType:
    """``text``, read from ``source``, compiled as the import system compiles it (at
    ``optimize``: -1 is this interpreter's own level)."""
    return compile(text, str(source), "exec", dont_inherit=True, optimize=optimize)


def _rewritten(source: Path, rewrite: Rewrite | None) -> types.CodeType:
    if rewrite is None:
        raise TypeError("no way to rewrite the module as pytest does")
    return rewrite(source)
