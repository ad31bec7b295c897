"""The history store: records round-trip, retention bounds it, many writers lose nothing, and a
writer killed mid-write leaves it readable."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper.errors import GatekeeperError
from gatekeeper.history.model import CheckRun, Run
from gatekeeper.history.store import FORMAT, HistoryError, Store

RUN = Run(
    finished=1000.0,
    entry="pytest",
    worktree="/w/a",
    branch="a",
    head="c" * 40,
    tree="t" * 40,
    base="main",
    verdict="failed",
    duration=2.5,
    cached=False,
    whole_suite=True,
    checks=(CheckRun("tests", "failed", 2.0, 1, False), CheckRun("lint", "passed", 0.1, 0, True)),
    failed_tests=("tests/test_a.py::test_x[a: b]",),
    failed_evals=("evals/e.yaml::c1",),
    tests_failing=1,
    evals_failing=1,
    version="0.1.0",
)


def test_a_run_comes_back_as_it_was_kept(tmp_path: Path) -> None:
    with Store.open(tmp_path / "h.sqlite3") as store:
        number = store.add(RUN)
        (back,) = store.runs()
    assert back == RUN and back.id == number
    assert back.failed_checks() == ["tests"]
    data = back.as_dict()
    assert data["failed_tests"] == ["tests/test_a.py::test_x[a: b]"]
    assert data["checks"] == [
        {"name": "tests", "status": "failed", "duration": 2.0, "findings": 1, "cached": False},
        {"name": "lint", "status": "passed", "duration": 0.1, "findings": 0, "cached": True},
    ]


def test_the_store_keeps_a_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    Store.open(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == FORMAT


def test_retention_forgets_runs_by_age_and_by_count(tmp_path: Path) -> None:
    from dataclasses import replace

    day = 86400.0
    with Store.open(tmp_path / "h.sqlite3") as store:
        for age in (40, 20, 3, 2, 1):
            store.add(replace(RUN, finished=100 * day - age * day))
        assert store.prune(keep_days=30, keep_runs=100, now=100 * day) == 1
        assert [round(100 - r.finished / day) for r in store.runs()] == [20, 3, 2, 1]
        assert store.prune(keep_days=0, keep_runs=2, now=100 * day) == 2
        kept = store.runs()
        assert [round(100 - r.finished / day) for r in kept] == [2, 1]
        # the checks and failing ids of forgotten runs go with them
        rows = store.execute("SELECT COUNT(*) FROM checks UNION ALL SELECT COUNT(*) FROM failures")
        assert rows == [(4,), (4,)]


def test_the_latest_run_of_a_worktree_is_the_one_that_finished_last(tmp_path: Path) -> None:
    from dataclasses import replace

    with Store.open(tmp_path / "h.sqlite3") as store:
        store.add(replace(RUN, finished=2000.0, verdict="passed"))
        store.add(replace(RUN, finished=1500.0))  # kept later, finished before
        store.add(replace(RUN, worktree="/w/b", finished=1000.0))
        latest = store.latest()
    assert [(r.worktree, r.finished, r.verdict) for r in latest] == [
        ("/w/b", 1000.0, "failed"),
        ("/w/a", 2000.0, "passed"),
    ]


def test_a_store_of_a_newer_format_is_refused_in_one_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {FORMAT + 1}")
    with pytest.raises(HistoryError) as caught:
        Store.open(path)
    assert isinstance(caught.value, GatekeeperError)
    assert str(caught.value).startswith(f"{path}: the history store has format {FORMAT + 1}")
    assert "Upgrade gatekeeper, or move the file away" in str(caught.value)


def test_a_file_that_is_no_database_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_text("not a database, just text that is long enough to be read as a header\n")
    with pytest.raises(HistoryError, match=r"cannot open the history store \(file is not a"):
        Store.open(path)
    with pytest.raises(HistoryError, match="no gate run has been recorded"):
        Store.open(tmp_path / "missing.sqlite3", create=False)


# -- many writers at once, and a writer killed in the middle ------------------------------------

# Waits for "go" on its standard input, then records RUNS runs, each its own transaction.
WRITER = """\
import sys
from dataclasses import replace
from pathlib import Path

from gatekeeper.history.model import CheckRun, Run
from gatekeeper.history.store import Store

path, me, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ids = tuple(f"tests/test_{me}.py::test_{i}" for i in range(int(sys.argv[4])))
tests = CheckRun("tests", "failed", 1.0, len(ids), False)
checks = (tests, CheckRun("lint", "passed", 0.1, 0, False))
run = Run(0.0, "pytest", f"/w/{me}", me, None, None, None, "failed", 1.0, False, True, checks,
          ids, (), len(ids), 0, "0")
print("ready", flush=True)
if count > 0:
    sys.stdin.readline()
with Store.open(path) as store:
    for number in range(count if count > 0 else 10**9):
        store.add(replace(run, finished=float(number)))
        print("kept", number, flush=True)
"""


def writer(path: Path, name: str, count: int, ids: int = 3) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), name, str(count), str(ids)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def all_at_once(writers: list[subprocess.Popen[str]]) -> None:
    """Wait until every writer is ready, then let them all go, and wait for them to end."""
    for child in writers:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
    for child in writers:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.close()
    assert [child.wait(timeout=120) for child in writers] == [0] * len(writers)


def test_eight_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "gatekeeper" / "history.sqlite3"  # not made yet: they race to make it too
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(writer(path, f"wt{i}", 25)) for i in range(8)]
        all_at_once(writers)
    with Store.open(path, create=False) as store:
        assert store.count() == 8 * 25
        counts = store.execute(
            "SELECT (SELECT COUNT(*) FROM checks), (SELECT COUNT(*) FROM failures), "
            "(SELECT COUNT(DISTINCT worktree) FROM runs)"
        )
        assert counts == [(8 * 25 * 2, 8 * 25 * 3, 8)]
        assert store.execute("PRAGMA integrity_check") == [("ok",)]


def test_a_writer_killed_mid_write_leaves_every_record_whole(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with writer(path, "killed", 0, ids=200) as child:  # records until killed; big records
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for _ in range(5):  # five records committed: it is writing the next ones now
            assert child.stdout.readline().startswith("kept ")
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    with Store.open(path, create=False) as store:
        assert store.execute("PRAGMA integrity_check") == [("ok",)]
        runs = store.runs()
        assert len(runs) >= 5
        assert all(len(r.checks) == 2 and len(r.failed_tests) == 200 for r in runs)
        store.add(RUN)  # the dead writer's lock went with it
        assert store.count() == len(runs) + 1


# Holds a write transaction open, one row written, and says so; then waits to be killed.
HALF_WRITTEN = """\
import sys
from pathlib import Path

from gatekeeper.history.store import Store

store = Store.open(Path(sys.argv[1]))
store.connection.execute("BEGIN IMMEDIATE")
store.connection.execute(
    "INSERT INTO runs (finished, entry, worktree, verdict, duration, cached, whole_suite, "
    "tests_failing, evals_failing, version) "
    "VALUES (1, 'pytest', '/w', 'passed', 1, 0, 1, 0, 0, '0')"
)
print("inside", flush=True)
sys.stdin.readline()
"""


def test_a_writer_killed_inside_its_transaction_leaves_nothing_half_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    with Store.open(path) as store:
        store.add(RUN)
    with subprocess.Popen(
        [sys.executable, "-c", HALF_WRITTEN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdout.readline() == "inside\n"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    with Store.open(path, create=False) as store:
        assert store.execute("PRAGMA integrity_check") == [("ok",)]
        assert [r.entry for r in store.runs()] == ["pytest"] and store.count() == 1
        store.add(RUN)
        assert store.count() == 2
