"""How long a worker waits for its database, by size, through the backends' own code path.

Each figure is the median time of ``Backend.create`` for one worker (the template already
built), which is what the worker's fixture waits for:

- sqlite: ``SqliteBackend.create``, a reflink where the filesystem has one, else SQLite's
  backup API (the line says which);
- postgres WAL_LOG and FILE_COPY: ``PostgresBackend.create`` cloning with each strategy
  (``file_copy_from`` forces the choice);
- postgres prepared: ``PostgresBackend.create`` when the run's session prepared a clone while
  the workers started (``PostgresBackend.prepare``, not timed: it runs before any test asks);
- pg_dump | pg_restore: ``pg_dump -Fc`` of the template piped into ``pg_restore`` into a new
  database, the baseline the others are compared with.

Sizes: 1k rows, 100k rows and about 40 MB. Needs PostgreSQL at $GATEKEEPER_DATABASE_URL
(default postgresql://postgres@127.0.0.1/postgres); run ``python benchmarks/clone.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from gatekeeper.resources import owners
from gatekeeper.resources.databases.base import Database, Template
from gatekeeper.resources.databases.postgres import PostgresBackend, database_url
from gatekeeper.resources.databases.sqlite import SqliteBackend, reflink
from gatekeeper.resources.identity import Identity

ADMIN = os.environ.get("GATEKEEPER_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
REPEATS = 5
DUMP_REPEATS = 3
NEVER = 1 << 62  # a file_copy_from no template reaches: always WAL_LOG
# (label, rows in SQLite, rows in PostgreSQL): the last about 40 MB in each.
SIZES = (("1k rows", 1_000, 1_000), ("100k rows", 100_000, 100_000), ("~40 MB", 520_000, 315_000))

FILL = """\
import os
import sys

rows = int(sys.argv[1])
url = os.environ["DATABASE_URL"]
if url.startswith("sqlite:///"):
    import sqlite3

    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    connection.execute("CREATE TABLE t (id INTEGER, payload TEXT)")
    connection.executemany("INSERT INTO t VALUES (?, ?)", ((i, "x" * 64) for i in range(rows)))
    connection.commit()
else:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE t (id int, payload text)")
        connection.execute(
            "INSERT INTO t SELECT g, repeat('x', 64) FROM generate_series(1, %s) g", (rows,)
        )
"""


def median_ms(action: Callable[[int], None], repeats: int = REPEATS) -> float:
    """The median of ``repeats`` timed calls of ``action(attempt)``, in milliseconds."""
    samples = []
    for attempt in range(repeats):
        start = time.perf_counter()
        action(attempt)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def filled(folder: Path, rows: int) -> Template:
    """A template filled with ``rows`` rows by its setup command, keyed for this run."""
    script = folder / "fill.py"
    script.write_text(FILL)
    return Template(f"bench{uuid.uuid4().hex[:10]}", f"{sys.executable} {script} {rows}", folder)


def sqlite_line(label: str, rows: int, folder: Path) -> str:
    backend = SqliteBackend(3600.0, folder / "state")
    template = filled(folder, rows)
    source = backend.template(template)
    method = "reflink" if reflink(source, folder / "probe.sqlite3") else "backup API"
    run = uuid.uuid4().hex[:12]

    def create(attempt: int) -> None:
        backend.drop(backend.create(template, Identity(str(folder), run, f"gw{attempt}"), "b"))

    return line(label, f"sqlite copy ({method})", source.stat().st_size / 1e6, median_ms(create))


def line(label: str, path: str, size: float, ms: float, baseline: float | None = None) -> str:
    """One row: size label, what was timed, the database's size, the median, the ratio."""
    ratio = f"{baseline / ms:6.1f}x" if baseline else ""
    return f"{label:>9}  {path:<43} {size:6.1f} MB {ms:8.1f} ms  {ratio}"


class PostgresSize:
    """The PostgreSQL measurements of one size, on one built template."""

    def __init__(self, rows: int, folder: Path) -> None:
        self.backend = PostgresBackend(ADMIN, 3600.0, file_copy_from=NEVER)
        self.template = filled(folder, rows)
        self.folder = folder
        self.run = uuid.uuid4().hex[:12]
        self.name = self.backend.template(self.template, Identity(str(folder), self.run))

    def size_mb(self) -> float:
        rows = self.backend.execute("SELECT pg_database_size(%s)", (self.name,))
        return int(rows[0][0]) / 1e6

    def strategy(self, file_copy_from: int) -> float:
        backend = PostgresBackend(ADMIN, 3600.0, file_copy_from=file_copy_from)
        run = uuid.uuid4().hex[:12]

        def create(attempt: int) -> None:
            worker = Identity(str(self.folder), run, f"gw{attempt}")
            backend.drop(backend.create(self.template, worker, "b"))

        try:
            return median_ms(create)
        finally:
            backend.close()

    def prepared(self) -> float:
        session = Identity(str(self.folder), uuid.uuid4().hex[:12])
        held = owners.claim(session)
        owner = owners.owned(session, held)
        made: list[Database] = []

        def create(attempt: int) -> None:
            worker = Identity(session.worktree, session.run, f"gw{attempt}")
            made.append(self.backend.create(self.template, worker, "b"))

        try:
            self.backend.prepare(self.template, owner, REPEATS, threading.Event())
            return median_ms(create)
        finally:
            for database in made:
                self.backend.drop(database)
            self.backend.discard_prepared(owner)
            held.release()

    def dump_restore(self) -> float:
        source = database_url(ADMIN, self.name)

        def copy(attempt: int) -> None:
            name = f"gk_bench_dump_{self.run}_{attempt}"
            self.backend.execute(f'CREATE DATABASE "{name}"')
            dump = subprocess.Popen(["pg_dump", "-Fc", source], stdout=subprocess.PIPE)
            target = database_url(ADMIN, name)
            subprocess.run(["pg_restore", "-d", target], stdin=dump.stdout, check=True)
            dump.wait()
            self.backend.execute(f'DROP DATABASE "{name}"')

        return median_ms(copy, DUMP_REPEATS)

    def close(self) -> None:
        self.backend.lock(self.name)
        self.backend.execute(f'ALTER DATABASE "{self.name}" IS_TEMPLATE false')
        self.backend.drop_database(self.name)
        self.backend.unlock(self.name)
        self.backend.close()


def postgres_lines(label: str, rows: int, folder: Path) -> list[str]:
    measured = PostgresSize(rows, folder)
    try:
        dumped = measured.dump_restore()
        figures = {
            "TEMPLATE, WAL_LOG": measured.strategy(NEVER),
            "TEMPLATE, FILE_COPY": measured.strategy(0),
            "prepared while the session starts": measured.prepared(),
            "pg_dump | pg_restore": dumped,
        }
        size = measured.size_mb()
    finally:
        measured.close()
    return [line(label, f"postgres {path}", size, ms, dumped) for path, ms in figures.items()]


def main() -> None:
    print(f"median of {REPEATS} (dump|restore: {DUMP_REPEATS}); last column: dump|restore / it")
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["GATEKEEPER_STATE_DIR"] = str(Path(scratch) / "state")
        for index, (label, sqlite_rows, postgres_rows) in enumerate(SIZES):
            folder = Path(scratch) / str(index)
            folder.mkdir()
            print(sqlite_line(label, sqlite_rows, folder))
            for line in postgres_lines(label, postgres_rows, folder):
                print(line)


if __name__ == "__main__":
    main()
