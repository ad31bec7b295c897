"""The history store: one SQLite database in the git common dir, shared by every worktree.

Many worktrees write to it at once, so: the WAL journal (readers never wait for the writer, nor
the writer for them); a busy timeout (a writer waits its turn instead of failing); and short
transactions, each record one ``BEGIN IMMEDIATE`` transaction (taken as a write lock from its
start: a read lock that must be upgraded can fail under WAL whatever the timeout). SQLite commits
atomically, so a writer killed mid-write leaves the store as it was before that record.

The file holds ids, names, statuses, counts and durations (:mod:`gatekeeper.history.model`); it
is bounded by the retention settings (``[tool.gatekeeper.history]``), applied after each record.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Final

from gatekeeper.errors import GatekeeperError
from gatekeeper.git import repository
from gatekeeper.history.model import CheckRun, Run

FILE: Final = "history.sqlite3"
# The schema this code writes and reads (SQLite's user_version); bumped with a migration.
FORMAT: Final = 1
BUSY_SECONDS: Final = 15.0
DAY: Final = 86400.0

SCHEMA: Final = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    finished REAL NOT NULL,
    entry TEXT NOT NULL,
    worktree TEXT NOT NULL,
    branch TEXT,
    head TEXT,
    tree TEXT,
    base TEXT,
    verdict TEXT NOT NULL,
    duration REAL NOT NULL,
    cached INTEGER NOT NULL,
    whole_suite INTEGER NOT NULL,
    tests_failing INTEGER NOT NULL,
    evals_failing INTEGER NOT NULL,
    version TEXT NOT NULL
);
CREATE INDEX runs_finished ON runs (finished);
CREATE INDEX runs_worktree ON runs (worktree, finished);
CREATE INDEX runs_tree ON runs (tree);
CREATE TABLE checks (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    duration REAL NOT NULL,
    findings INTEGER NOT NULL,
    cached INTEGER NOT NULL,
    PRIMARY KEY (run, position)
) WITHOUT ROWID;
CREATE TABLE failures (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    ident TEXT NOT NULL,
    PRIMARY KEY (run, kind, ident)
) WITHOUT ROWID;
CREATE INDEX failures_ident ON failures (kind, ident);
"""
_RUN_COLUMNS: Final = (
    "id, finished, entry, worktree, branch, head, tree, base, verdict, duration, cached, "
    "whole_suite, tests_failing, evals_failing, version"
)


# The run of each worktree that finished last (ids follow the order of commits, not of ends).
_LATEST: Final = (
    "id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
    "(PARTITION BY worktree ORDER BY finished DESC, id DESC) AS n FROM runs) WHERE n = 1)"
)


class HistoryError(GatekeeperError):
    """The history store cannot be opened, read or written."""


def location(start: Path) -> Path | None:
    """Where the store of the repository around ``start`` lives; None outside git."""
    common = repository.common_dir(start)
    return None if common is None else path_in(common)


def path_in(common: Path) -> Path:
    """The store's path in the git common dir ``common``."""
    return common / "gatekeeper" / FILE


@contextmanager
def _one_at_a_time(path: Path) -> Iterator[None]:
    """Opening and closing the store, one process at a time (a lock file beside it).

    SQLite answers "database is locked" at once, without the busy timeout, to a connection
    that opens the store while another switches it to WAL or, closing last, checkpoints and
    removes its log: seen with eight writers at once. Transactions still wait their turn by the
    busy timeout. Where the lock file cannot be made (a read-only folder), nothing is held."""
    try:
        lock = path.with_name(f"{path.name}.lock").open("a", encoding="utf-8")
    except OSError:
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class Store:
    """An open store; use it as a context manager, or :meth:`close` it."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Store:
        """The store at ``path``, made (with its folder) when ``create``; raises
        :class:`HistoryError` naming the file when it cannot be opened or is not a store this
        version of gatekeeper can read."""
        if not create and not path.is_file():
            raise HistoryError(f"{path}: no gate run has been recorded in this repository yet.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise HistoryError(f"{path}: cannot open the history store ({error}).") from None
        with _one_at_a_time(path):
            return cls._connect(path)

    @classmethod
    def _connect(cls, path: Path) -> Store:
        try:
            connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
        except sqlite3.Error as error:
            raise HistoryError(f"{path}: cannot open the history store ({error}).") from None
        store = cls(connection, path)
        try:
            store._prepare()
        except sqlite3.Error as error:
            connection.close()
            raise _failure(path, "open", error) from None
        except HistoryError:
            connection.close()
            raise
        return store

    def _prepare(self) -> None:
        db = self.connection
        db.execute("PRAGMA foreign_keys = ON")
        # A commit waits for the log to reach the disk, not for the database: an application
        # crash loses nothing committed; a power cut may lose the last records, never the file.
        db.execute("PRAGMA synchronous = NORMAL")
        if _format(db) == FORMAT:
            return  # made before: WAL is a property of the file, kept across connections
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise HistoryError(f"{self.path}: SQLite cannot keep a write-ahead log here.")
        with self._writing():
            found = _format(db)
            if found == 0:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {FORMAT}")
            elif found != FORMAT:
                raise HistoryError(
                    f"{self.path}: the history store has format {found}, which this version of "
                    f"gatekeeper (format {FORMAT}) cannot read. Upgrade gatekeeper, or move the "
                    "file away to start a new history."
                )

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with _one_at_a_time(self.path):
            self.connection.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with the write lock from its start."""
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- writing ------------------------------------------------------------------------------

    def add(self, run: Run) -> int:
        """Keep ``run`` (one transaction); its id."""
        try:
            with self._writing() as db:
                return _insert(db, run)
        except sqlite3.Error as error:
            raise _failure(self.path, "write to", error) from None

    def prune(self, *, keep_days: float, keep_runs: int, now: float) -> int:
        """Forget runs older than ``keep_days`` (0: no age limit) and all but the newest
        ``keep_runs``; how many were forgotten."""
        oldest = now - keep_days * DAY if keep_days else None
        try:
            with self._writing() as db:
                gone = 0
                if oldest is not None:
                    gone += db.execute("DELETE FROM runs WHERE finished < ?", (oldest,)).rowcount
                over = int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]) - keep_runs
                if over > 0:
                    gone += db.execute(
                        "DELETE FROM runs WHERE id IN "
                        "(SELECT id FROM runs ORDER BY finished, id LIMIT ?)",
                        (over,),
                    ).rowcount
                return gone
        except sqlite3.Error as error:
            raise _failure(self.path, "prune", error) from None

    # -- reading ------------------------------------------------------------------------------

    def runs(self, since: float = 0.0) -> list[Run]:
        """Every run that finished at or after ``since``, in the order they finished."""
        return self._select("finished >= ?", (since,))

    def latest(self) -> list[Run]:
        """The run of every worktree that finished last, oldest first."""
        return self._select(_LATEST, ())

    def count(self) -> int:
        try:
            return int(self.connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        except sqlite3.Error as error:
            raise _failure(self.path, "read", error) from None

    def change(self) -> tuple[int, int]:
        """A value that changes whenever a run is added or forgotten (by any process)."""
        try:
            found = self.connection.execute("SELECT MAX(id), COUNT(*) FROM runs").fetchone()
        except sqlite3.Error as error:
            raise _failure(self.path, "read", error) from None
        return int(found[0] or 0), int(found[1])

    def _select(self, where: str, params: Sequence[object]) -> list[Run]:
        """The runs matching ``where`` (a condition on ``runs``), oldest first."""
        try:
            db = self.connection
            db.execute("BEGIN")  # one snapshot for the runs and their rows
            try:
                return _runs(db, where, params)
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as error:
            raise _failure(self.path, "read", error) from None

    def execute(self, query: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """The rows of one read-only query (for :mod:`gatekeeper.history.flaky`)."""
        try:
            return list(self.connection.execute(query, params).fetchall())
        except sqlite3.Error as error:
            raise _failure(self.path, "read", error) from None


def _format(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _failure(path: Path, doing: str, error: sqlite3.Error) -> HistoryError:
    return HistoryError(
        f"{path}: cannot {doing} the history store ({error}). Check the file's permissions and "
        "free space; if it is damaged, move it away to start a new history."
    )


def _insert(db: sqlite3.Connection, run: Run) -> int:
    cursor = db.execute(
        "INSERT INTO runs (finished, entry, worktree, branch, head, tree, base, verdict, "
        "duration, cached, whole_suite, tests_failing, evals_failing, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.finished,
            run.entry,
            run.worktree,
            run.branch,
            run.head,
            run.tree,
            run.base,
            run.verdict,
            run.duration,
            int(run.cached),
            int(run.whole_suite),
            run.tests_failing,
            run.evals_failing,
            run.version,
        ),
    )
    number = cursor.lastrowid
    assert number is not None
    db.executemany(
        "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (number, i, c.name, c.status, c.duration, c.findings, int(c.cached))
            for i, c in enumerate(run.checks)
        ),
    )
    failures = [("test", ident) for ident in run.failed_tests]
    failures += [("eval", ident) for ident in run.failed_evals]
    db.executemany(
        "INSERT OR IGNORE INTO failures VALUES (?, ?, ?)",
        ((number, kind, ident) for kind, ident in failures),
    )
    return number


def _runs(db: sqlite3.Connection, where: str, params: Sequence[object]) -> list[Run]:
    """The runs matching ``where``, with their checks and failing ids."""
    query = f"SELECT {_RUN_COLUMNS} FROM runs WHERE {where} ORDER BY finished, id"
    rows = db.execute(query, params)
    found = rows.fetchall()
    if not found:
        return []
    matching = f"run IN (SELECT id FROM runs WHERE {where})"
    checks: dict[int, list[CheckRun]] = {}
    for run, name, status, duration, findings, cached in db.execute(
        "SELECT run, name, status, duration, findings, cached FROM checks "
        f"WHERE {matching} ORDER BY run, position",
        params,
    ):
        checks.setdefault(run, []).append(
            CheckRun(name, status, float(duration), int(findings), bool(cached))
        )
    failures: dict[tuple[int, str], list[str]] = {}
    for run, kind, ident in db.execute(
        f"SELECT run, kind, ident FROM failures WHERE {matching} ORDER BY run, ident", params
    ):
        failures.setdefault((run, kind), []).append(ident)
    return [_run(row, checks, failures) for row in found]


def _run(
    row: tuple[object, ...],
    checks: dict[int, list[CheckRun]],
    failures: dict[tuple[int, str], list[str]],
) -> Run:
    (number, finished, entry, worktree, branch, head, tree, base, verdict, duration) = row[:10]
    cached, whole_suite, tests_failing, evals_failing, version = row[10:]
    key = int(str(number))
    return Run(
        finished=float(str(finished)),
        entry=str(entry),
        worktree=str(worktree),
        branch=_text(branch),
        head=_text(head),
        tree=_text(tree),
        base=_text(base),
        verdict=str(verdict),
        duration=float(str(duration)),
        cached=bool(cached),
        whole_suite=bool(whole_suite),
        checks=tuple(checks.get(key, ())),
        failed_tests=tuple(failures.get((key, "test"), ())),
        failed_evals=tuple(failures.get((key, "eval"), ())),
        tests_failing=int(str(tests_failing)),
        evals_failing=int(str(evals_failing)),
        version=str(version),
        id=key,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
