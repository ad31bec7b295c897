"""The result cache: same content, same verdict, no work; failures always run again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.cache import environment
from gatekeeper.cache import store as cache
from gatekeeper.config import load
from gatekeeper.model import CheckResult, Finding, Status
from tests.conftest import CLEAN_TEST, git, make_project

GATEKEEPER = """\
[tool.gatekeeper]
checks = ["tests", "coverage", "lint", "complexity"]
"""


# pytester.run leaves its captured output in the project directory: ignore it like any log.
IGNORE = {".gitignore": ".gatekeeper/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\nstdout\nstderr\n"}


def cached(root: Path) -> dict[str, bool]:
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    return {c["name"]: c["cached"] for c in report["checks"]}


def gate(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """``pytest --gatekeeper`` in a child process, in the current directory.

    Not ``runpytest_subprocess``: its ``--basetemp`` inside the project would change both the
    tree and the command line of every run.
    """
    return pytester.run(
        sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider", *args
    )


def test_tree_id_sees_uncommitted_and_untracked_files_but_not_ignored_ones(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    root = make_repo(tmp_path)
    index = root / ".git" / "index"
    before = (index.read_bytes(), run_git(root, "status", "--porcelain"))
    committed = run_git(root, "rev-parse", "HEAD^{tree}")
    assert cache.tree_id(root) == committed

    (root / "pkg" / "__init__.py").write_text("X = 1\n")
    edited = cache.tree_id(root)
    (root / "pkg" / "extra.py").write_text("Y = 1\n")
    untracked = cache.tree_id(root)
    assert len({committed, edited, untracked}) == 3

    (root / ".gatekeeper").mkdir()
    (root / ".gatekeeper" / "report.json").write_text("{}")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "extra.cpython-311.pyc").write_bytes(b"\0")
    assert cache.tree_id(root) == untracked
    # Bytecode beside the sources is imported when no source is there: content, not a cache.
    (root / "pkg" / "legacy.pyc").write_bytes(b"\0")
    assert cache.tree_id(root) != untracked
    (root / "pkg" / "legacy.pyc").unlink()

    # The user's index and status are exactly as they were.
    assert index.read_bytes() == before[0]
    assert "pkg/extra.py" in run_git(root, "status", "--porcelain")
    assert run_git(root, "diff", "--cached", "--name-only") == ""


def test_entries_round_trip_and_damaged_ones_are_ignored(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path)
    store = cache.Cache.open(load(root), root, "token")
    assert store.enabled
    assert store.directory == root / ".git" / "gatekeeper" / "cache"
    finding = Finding("lint", "a.py", 3, 1, "F401", "unused", fingerprint="abc#1", new=False)
    passed = CheckResult("lint", Status.PASSED, "ok", "rule", (finding,), {"n": 1}, 1.5, ("ruff",))
    key = store.key("lint")
    store.store(key, passed)
    hit = store.load(key)
    assert hit is not None and hit.cached
    assert hit.findings == (finding,) and hit.metrics == {"n": 1} and hit.ran == ("ruff",)

    failed = CheckResult("types", Status.FAILED, "1 error")
    store.store(store.key("types"), failed)
    assert store.load(store.key("types")) is None  # failures are never stored

    assert store.directory is not None
    entry = store.directory / key[:2] / f"{key}.json"
    stored = json.loads(entry.read_text())
    assert stored["format"] == cache.FORMAT and stored["recorded"] == store.recorded()
    for damage in ("{not json", json.dumps({**stored, "key": "other"}), ""):
        entry.write_text(damage)
        assert store.load(key) is None
    document = json.loads(json.dumps(stored))
    document["result"]["status"] = "failed"  # a stored failure is not trusted either
    entry.write_text(json.dumps(document))
    assert store.load(key) is None
    entry.write_text(json.dumps(stored))
    assert store.load(key) is not None  # the untouched entry, to show the damage was the cause


def test_a_run_that_judges_as_ci_takes_only_entries_recorded_so(
    tmp_path: Path, make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path)
    for name in environment.strays(os.environ):
        monkeypatch.delenv(name)  # the scrubbed environment the hook's gate gets
    store = cache.Cache.open(load(root), root, "token")
    assert store.judges_as_ci and store.recorded() == {"clean": True, "scrubbed": True}
    key = store.key("lint")
    store.store(key, CheckResult("lint", Status.PASSED, "ok"))
    assert store.directory is not None
    entry = store.directory / key[:2] / f"{key}.json"
    stored = json.loads(entry.read_text())

    # Under the right key, an entry that does not say it was judged so is not taken.
    for recorded in ({"clean": True, "scrubbed": False}, {"clean": False, "scrubbed": True}):
        entry.write_text(json.dumps({**stored, "recorded": recorded}))
        assert store.load(key) is None
    entry.write_text(json.dumps({k: v for k, v in stored.items() if k != "recorded"}))
    assert store.load(key) is None
    entry.write_text(json.dumps(stored))
    assert store.load(key) is not None


def test_the_key_changes_with_configuration_and_policy(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path)
    settings = load(root)
    first = cache.Cache.open(settings, root, "a")
    assert first.key("lint") == cache.Cache.open(settings, root, "a").key("lint")
    assert first.key("lint") != first.key("types")
    assert first.key("lint") != cache.Cache.open(settings, root, "b").key("lint")
    stricter = load(root, overrides={"complexity.max": "3"})
    assert first.key("complexity") != cache.Cache.open(stricter, root, "a").key("complexity")
    assert first.key("lint") == cache.Cache.open(stricter, root, "a").key("lint")
    off = cache.Cache.open(load(root, overrides={"cache": False}), root, "a")
    assert not off.enabled


def test_a_second_run_on_the_same_tree_reuses_every_pass(
    project: Callable[..., Path], pytester: pytest.Pytester, run_git: Callable[..., str]
) -> None:
    root = project(IGNORE, gatekeeper=GATEKEEPER)
    first = gate(pytester)
    assert first.ret == 0
    assert not any(cached(root).values())
    first.assert_outcomes(passed=1)

    second = gate(pytester)
    assert second.ret == 0
    assert all(cached(root).values()), cached(root)
    second.stdout.fnmatch_lines(["*tests not run again*", "PASSED*lint*cached)"])
    assert "passed" not in second.parseoutcomes()  # no test ran

    # Another worktree checked out at the same commit hits the same entries, when the content
    # is the same: pytester's captured stdout and stderr are ignored files the run could read,
    # which the other worktree does not hold.
    for name in ("stdout", "stderr"):
        (root / name).unlink()
    assert gate_with(root) == 0
    other = root.parent / "second-worktree"
    run_git(root, "worktree", "add", "-q", "--detach", str(other), "HEAD")
    assert gate_with(other) == 0
    assert all(cached(other).values()), cached(other)


def test_a_skipped_evals_check_does_not_stop_the_session_from_being_reused(
    project: Callable[..., Path], pytester: pytest.Pytester
) -> None:
    # The default checks include evals, which skips in a project without datasets. A skip is
    # never stored, so the session was never reused: every rerun ran the whole suite again.
    root = project(IGNORE, gatekeeper='[tool.gatekeeper]\nchecks = ["tests", "evals"]\n')
    first = gate(pytester)
    assert first.ret == 0
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(
        ["tests ran again: no stored pass of tests for this content and configuration"]
    )

    second = gate(pytester)
    assert second.ret == 0
    assert "passed" not in second.parseoutcomes()  # no test ran
    second.stdout.fnmatch_lines(["*tests not run again*"])
    assert "tests ran again" not in second.stdout.str()
    assert cached(root) == {"tests": True, "evals": False}  # the skip is judged afresh


def test_an_evals_check_with_datasets_that_failed_runs_the_session_again(
    eval_project: Callable[..., Path], pytester: pytest.Pytester
) -> None:
    # Only a check with nothing to judge may skip the stored-pass rule: failing evals must be
    # judged again, though the tests beside them passed and were stored.
    eval_project(broken=frozenset({1, 2, 3}), files=IGNORE)
    first = gate(pytester)
    assert first.ret == 1
    second = gate(pytester)
    assert second.ret == 1
    second.stdout.fnmatch_lines(
        ["tests ran again: no stored pass of evals for this content and configuration"]
    )
    assert "tests not run again" not in second.stdout.str()


def test_failures_run_again_and_fail_again(
    project: Callable[..., Path], pytester: pytest.Pytester
) -> None:
    root = project({**IGNORE, "pkg/bad.py": "import os\n"}, gatekeeper=GATEKEEPER)
    first = gate(pytester)
    assert first.ret == 1
    first.assert_outcomes(passed=1)
    assert not any(cached(root).values())
    second = gate(pytester)
    assert second.ret == 1
    second.stdout.fnmatch_lines(["FAILED*lint*", "*pkg/bad.py:1:8: F401*"])
    # The failing check ran again; the passes beside it were reused.
    assert cached(root) == {"tests": True, "coverage": True, "lint": False, "complexity": True}


def test_a_changed_file_a_selection_or_no_cache_runs_again(
    project: Callable[..., Path], pytester: pytest.Pytester
) -> None:
    root = project(IGNORE, gatekeeper=GATEKEEPER)
    assert gate(pytester).ret == 0

    selected = gate(pytester, "-k", "add")
    assert selected.ret == 0
    selected.assert_outcomes(passed=1)
    assert cached(root)["tests"] is False and cached(root)["lint"] is True
    selected.stdout.fnmatch_lines(
        [
            "tests ran again: a selection of the suite ran "
            "(-k on the command line or in PYTEST_ADDOPTS)*"
        ]
    )
    ignored = gate(pytester, "--ignore", "tests/other")
    ignored.stdout.fnmatch_lines(
        ["tests ran again: a selection of the suite ran (--ignore on the command line or in *"]
    )

    bypassed = gate(pytester, "--gatekeeper-no-cache")
    bypassed.assert_outcomes(passed=1)
    assert not any(cached(root).values())
    bypassed.stdout.fnmatch_lines(["tests ran again: --gatekeeper-no-cache was given"])

    (root / "tests" / "test_add.py").write_text(
        (root / "tests" / "test_add.py").read_text() + "\n\ndef test_more() -> None:\n    pass\n"
    )
    changed = gate(pytester)
    changed.assert_outcomes(passed=2)
    assert not any(cached(root).values())
    changed.stdout.fnmatch_lines(
        ["tests ran again: no stored pass of tests for this content and configuration"]
    )


FAILING_TEST = "def test_broken() -> None:\n    assert False\n"
TESTS_ONLY = '[tool.gatekeeper]\nchecks = ["tests"]\n'


def gate_with(cwd: Path, **extra: str) -> int:
    """``pytest --gatekeeper`` run from ``cwd`` with the same environment wherever it runs, plus
    ``extra``.

    Not pytester: it puts the working directory on PYTHONPATH, which is part of the key, and
    leaves its captured output in the project, an ignored file the run could read.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GIT_", "PYTHON"))}
    env.update(extra)
    argv = [sys.executable, "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider"]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False).returncode


def test_a_run_from_a_subdirectory_is_not_stored_as_a_whole_suite_pass(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    # From tests/good pytest collects only that directory: its pass says nothing of the rest.
    root = make_repo(
        tmp_path,
        {"tests/good/test_good.py": CLEAN_TEST, "tests/test_broken.py": FAILING_TEST},
        TESTS_ONLY,
    )
    assert gate_with(root / "tests" / "good") == 0
    assert gate_with(root) == 1
    assert cached(root) == {"tests": False}


DESELECTING_CONFTEST = """\
import os


def pytest_collection_modifyitems(config, items):
    if os.environ.get("ONLY_GOOD"):
        broken = [item for item in items if "broken" in item.nodeid]
        items[:] = [item for item in items if item not in broken]
        config.hook.pytest_deselected(items=broken)
"""


def test_a_run_that_deselected_anything_stores_no_session_pass(
    project: Callable[..., Path], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing on the command line shows the selection: only pytest_deselected tells.
    root = project(
        {**IGNORE, "conftest.py": DESELECTING_CONFTEST, "tests/test_broken.py": FAILING_TEST},
        gatekeeper=TESTS_ONLY,
    )
    monkeypatch.setenv("ONLY_GOOD", "1")
    selected = gate(pytester)
    assert selected.ret == 0
    selected.assert_outcomes(passed=1, deselected=1)
    selected.stdout.fnmatch_lines(["tests ran again: tests were deselected at collection *"])
    monkeypatch.delenv("ONLY_GOOD")
    whole = gate(pytester)
    assert whole.ret == 1
    whole.assert_outcomes(passed=1, failed=1)
    assert cached(root) == {"tests": False}


def blob_in(root: Path, tree: str, path: str, run_git: Callable[..., str]) -> str:
    return run_git(root, "rev-parse", f"{tree}:{path}")


def test_a_same_size_edit_in_the_tick_the_index_was_written_changes_the_tree_id(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    # Racy git: the index was written in the same clock tick as the file was rewritten in place
    # with the same size. Only the index's own mtime tells git to look at the content again.
    root = make_repo(tmp_path)
    run_git(root, "config", "core.trustctime", "false")  # ctime may or may not tick; make it moot
    path = root / "pkg" / "__init__.py"
    path.write_text("X = 1\n")
    tick = (1_700_000_000, 1_700_000_000)  # one fixed second, well before now
    os.utime(path, tick)
    run_git(root, "add", "pkg/__init__.py")
    os.utime(root / ".git" / "index", tick)  # as if written in the file's tick

    path.write_text("X = 2\n")  # same size, same inode, and the same tick:
    os.utime(path, tick)

    tree = cache.tree_id(root)
    assert blob_in(root, tree, "pkg/__init__.py", run_git) == run_git(
        root, "hash-object", "pkg/__init__.py"
    )


def test_assume_unchanged_and_skip_worktree_files_are_hashed_anyway(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    root = make_repo(tmp_path)
    run_git(root, "update-index", "--assume-unchanged", "pkg/__init__.py")
    run_git(root, "update-index", "--skip-worktree", "tests/test_add.py")
    index = root / ".git" / "index"
    before = index.read_bytes()
    (root / "pkg" / "__init__.py").write_text("X = 'edited'\n")
    (root / "tests" / "test_add.py").write_text("def test_other() -> None:\n    pass\n")

    tree = cache.tree_id(root)
    for name in ("pkg/__init__.py", "tests/test_add.py"):
        assert blob_in(root, tree, name, run_git) == run_git(root, "hash-object", name)
    # The bits were cleared in a copy only: the user's index keeps them.
    assert index.read_bytes() == before
    assert run_git(root, "ls-files", "-v", "pkg/__init__.py").startswith("h ")
    assert run_git(root, "ls-files", "-v", "tests/test_add.py").startswith("S ")


# -- what a pass rests on besides the tree: ignored inputs, the environment (docs/trust.md) ----


READS_DOTENV = """\
from pathlib import Path


def test_mode() -> None:
    assert Path(".env").read_text() == "MODE=good\\n"
"""


def test_an_edit_to_an_ignored_file_the_suite_reads_runs_it_again(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(
        tmp_path,
        {".gitignore": IGNORE[".gitignore"] + ".env\n", "tests/test_mode.py": READS_DOTENV},
        TESTS_ONLY,
    )
    (root / ".env").write_text("MODE=good\n")
    assert gate_with(root) == 0
    assert gate_with(root) == 0
    assert cached(root) == {"tests": True}  # nothing changed: reused

    (root / ".env").write_text("MODE=bad!\n")  # same size, ignored by git

    assert gate_with(root) == 1
    assert cached(root) == {"tests": False}


SKIPPED_UNDER_FAST = """\
import os

import pytest


@pytest.mark.skipif(os.environ.get("FAST") == "1", reason="FAST=1 skips the slow tests")
def test_slow() -> None:
    assert 1 + 1 == 3
"""


def test_a_variable_the_suite_may_read_is_part_of_the_key(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path, {"tests/test_slow.py": SKIPPED_UNDER_FAST}, TESTS_ONLY)
    assert gate_with(root, FAST="1") == 0  # the slow test was skipped

    assert gate_with(root) == 1  # not the pass judged with FAST=1
    assert cached(root) == {"tests": False}


READS_DATA = """\
from pathlib import Path


def test_data() -> None:
    assert Path("{path}").read_bytes() == b"good"
"""


@pytest.mark.parametrize(
    "path", ["tests/data/sample.pyc", "tests/data/__pycache__/sample.txt", ".gatekeeper/data.bin"]
)
def test_tracked_files_under_left_out_paths_stay_in_the_key(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str], path: str
) -> None:
    # Only untracked bytecode in __pycache__ and gatekeeper's own files are left out of the tree
    # id: a tracked file is the project's, whatever its name.
    root = make_repo(tmp_path, {"tests/test_data.py": READS_DATA.format(path=path)}, TESTS_ONLY)
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(b"good")
    run_git(root, "add", "-f", path)
    run_git(root, "commit", "-q", "-m", "test data")
    assert gate_with(root) == 0

    (root / path).write_bytes(b"bad!")

    assert gate_with(root) == 1
    assert cached(root) == {"tests": False}


def test_tool_caches_virtualenvs_and_editor_files_change_nothing(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    ignores = IGNORE[".gitignore"] + ".venv/\n.idea/\n.coverage\n"
    root = make_repo(tmp_path, {".gitignore": ignores}, TESTS_ONLY)
    assert gate_with(root) == 0

    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / ".venv" / "lib" / "installed.py").write_text("X = 1\n")
    (root / ".idea").mkdir()
    (root / ".idea" / "workspace.xml").write_text("<project/>\n")
    (root / ".mypy_cache").mkdir()
    (root / ".mypy_cache" / "x.json").write_text("{}\n")
    (root / ".coverage").write_bytes(b"SQLite format 3\x00 and more")

    assert gate_with(root) == 0
    assert cached(root) == {"tests": True}


def test_the_tree_id_holds_the_bytes_and_modes_on_disk_whatever_git_is_told_locally(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", {"tools/run.sh": "#!/bin/sh\n"})
    committed = git(root, "rev-parse", "HEAD^{tree}")
    git(root, "config", "core.fileMode", "false")
    (root / "tools" / "run.sh").chmod(0o755)
    assert git(root, "status", "--porcelain") == ""  # git no longer sees the bit
    executable = cache.tree_id(root)
    assert executable != committed

    (root / "tools" / "run.sh").chmod(0o644)
    assert cache.tree_id(root) == committed
    # A clean filter the repository alone defines: the key holds what the tests read.
    git(root, "config", "filter.flip.clean", "sed 's/a - b/a + b/'")
    (root / ".gitattributes").write_text("*.py filter=flip\n")
    source = root / "pkg" / "__init__.py"
    source.write_text(source.read_text().replace("a + b", "a - b"))
    git(root, "add", ".gitattributes")
    git(root, "commit", "-q", "-m", "filter", "--", ".gitattributes")
    assert git(root, "status", "--porcelain") == ""  # cleaned, it is the committed file
    assert cache.tree_id(root) != git(root, "rev-parse", "HEAD^{tree}")


@pytest.mark.parametrize("convert", ["filter", "filter-elsewhere", "autocrlf", "attributes"])
def test_a_file_checked_out_through_a_conversion_is_keyed_by_its_bytes_on_disk(
    tmp_path: Path, convert: str
) -> None:
    # The checkout wrote other bytes than a clone in CI gets, and the index's stat data
    # matches them: only hashing every file again shows the key what the tests read.
    root = make_project(tmp_path / "p", {"data.txt": "hello\n"})
    options: list[str] = []
    if convert.startswith("filter"):
        (root / ".gitattributes").write_text("*.txt filter=up\n")
        git(root, "add", ".gitattributes")
        git(root, "commit", "-q", "-m", "attributes")
        drivers = {"filter.up.smudge": "tr a-z A-Z", "filter.up.clean": "tr A-Z a-z"}
        for key, value in drivers.items():
            if convert == "filter":
                git(root, "config", key, value)
            else:  # defined where gatekeeper's git calls do not look (here: the command line)
                options += ["-c", f"{key}={value}"]
    elif convert == "autocrlf":
        git(root, "config", "core.autocrlf", "true")
    else:  # the user's own attributes file, which a clone in CI does not have
        (tmp_path / "attributes").write_text("*.txt text eol=crlf\n")
        git(root, "config", "core.attributesFile", str(tmp_path / "attributes"))
    (root / "data.txt").unlink()
    git(root, *options, "checkout", "--", "data.txt")
    assert (root / "data.txt").read_bytes() != b"hello\n"  # the checkout converted it
    # Written well after the file: the index's stat data is trusted, not racily clean.
    os.utime(root / "data.txt", (1_700_000_000, 1_700_000_000))
    git(root, *options, "update-index", "--refresh")
    assert git(root, *options, "status", "--porcelain") == ""

    tree = cache.tree_id(root)
    assert tree != git(root, "rev-parse", "HEAD^{tree}")
    raw = git(root, "hash-object", "--no-filters", "data.txt")
    assert git(root, "rev-parse", f"{tree}:data.txt") == raw


def test_committed_attributes_that_convert_keep_the_tree_id_of_the_commit(tmp_path: Path) -> None:
    # A clone in CI converts as the user's checkout did: the key is the commit's tree.
    root = make_project(tmp_path / "p", {"data.txt": "hello\n"})
    (root / ".gitattributes").write_text("*.txt text eol=crlf\n")
    git(root, "add", ".gitattributes")
    git(root, "commit", "-q", "-m", "attributes")
    (root / "data.txt").unlink()
    git(root, "checkout", "--", "data.txt")
    assert (root / "data.txt").read_bytes() == b"hello\r\n"
    assert cache.tree_id(root) == git(root, "rev-parse", "HEAD^{tree}")
