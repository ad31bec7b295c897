"""Clone time against database size: SQLite copy (reflink or backup API), PostgreSQL
``CREATE DATABASE ... TEMPLATE``, and ``pg_dump -Fc | pg_restore`` in the same run.

Needs PostgreSQL at $GATEKEEPER_DATABASE_URL (default postgresql://postgres@127.0.0.1/postgres);
without it only SQLite is measured. Median of REPEATS per size.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from gatekeeper.resources.databases.postgres import database_url
from gatekeeper.resources.databases.sqlite import copy_database

ROWS = (1_000, 100_000, 500_000)
REPEATS = 3
ADMIN = os.environ.get("GATEKEEPER_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")


def median_seconds(action: Callable[[int], None]) -> float:
    samples = []
    for attempt in range(REPEATS):
        start = time.perf_counter()
        action(attempt)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def sqlite_row(rows: int, folder: Path) -> str:
    source = folder / f"t{rows}.sqlite3"
    with sqlite3.connect(source) as connection:
        connection.execute("CREATE TABLE t (id INTEGER, payload TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", ((i, "x" * 64) for i in range(rows)))

    def copy(attempt: int) -> None:
        target = folder / f"c{rows}-{attempt}.sqlite3"
        copy_database(source, target)

    size = source.stat().st_size / 1e6
    return f"sqlite   {rows:>8} rows {size:7.1f} MB  copy {median_seconds(copy) * 1e3:8.1f} ms"


def postgres_row(rows: int) -> str:
    admin = psycopg.connect(ADMIN, autocommit=True)
    template = f"gk_bench_tpl_{rows}"
    admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
    admin.execute(f'CREATE DATABASE "{template}"')
    with psycopg.connect(database_url(ADMIN, template), autocommit=True) as connection:
        connection.execute("CREATE TABLE t (id int, payload text)")
        connection.execute(
            "INSERT INTO t SELECT g, repeat('x', 64) FROM generate_series(1, %s) g", (rows,)
        )

    def clone(attempt: int) -> None:
        name = f"gk_bench_clone_{rows}_{attempt}"
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        admin.execute(f'DROP DATABASE "{name}"')

    def dump_restore(attempt: int) -> None:
        name = f"gk_bench_dump_{rows}_{attempt}"
        admin.execute(f'CREATE DATABASE "{name}"')
        dump = subprocess.Popen(
            ["pg_dump", "-Fc", database_url(ADMIN, template)], stdout=subprocess.PIPE
        )
        subprocess.run(
            ["pg_restore", "-d", database_url(ADMIN, name)], stdin=dump.stdout, check=True
        )
        dump.wait()
        admin.execute(f'DROP DATABASE "{name}"')

    cloned, dumped = median_seconds(clone), median_seconds(dump_restore)
    admin.execute(f'DROP DATABASE "{template}"')
    admin.close()
    return (
        f"postgres {rows:>8} rows  TEMPLATE {cloned * 1e3:8.1f} ms  "
        f"dump|restore {dumped * 1e3:8.1f} ms  ratio {dumped / cloned:5.1f}x"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for rows in ROWS:
            print(sqlite_row(rows, Path(folder)))
    for rows in ROWS:
        print(postgres_row(rows))


if __name__ == "__main__":
    main()
