"""Whole-gate passes: the key the gate stores is the key the hook computes for the commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gatekeeper.cache import environment, gatepasses
from gatekeeper.cache import store as cache
from tests.conftest import git, make_project

FAST_GATE = '\n[tool.gatekeeper]\nchecks = ["tests", "lint"]\n'


def gate(root: Path, *args: str, **extra: str) -> int:
    """``pytest --gatekeeper args`` in ``root``, in the environment the hook's gate would get
    from this process (plus ``extra``); its exit status."""
    env = {**environment.scrubbed(os.environ), **extra}
    argv = [sys.executable, "-m", "pytest", "--gatekeeper", *args]
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, check=False)
    return done.returncode


def stored(root: Path) -> list[str]:
    """The keys of every whole-gate pass stored in ``root``'s repository."""
    folder = cache.directory(root / ".git") / gatepasses.FOLDER
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def test_commit_tree_equals_the_tree_id_of_that_content_in_a_worktree(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    # Committed on purpose: tracked files count on both sides, whatever their names.
    (root / ".gatekeeper").mkdir()
    (root / ".gatekeeper" / "data.json").write_text("{}")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    git(root, "add", "-f", ".gatekeeper", "pkg/__pycache__")
    git(root, "commit", "-q", "-m", "derived files")
    (root / "pkg" / "more.py").write_text("X = 1\n")  # untracked: in the worktree's tree

    judged = cache.tree_id(root)
    head = commit_all(root, "more")

    assert cache.commit_tree(root, head) == judged == git(root, "rev-parse", "HEAD^{tree}")


def test_the_key_the_gate_stored_is_the_key_the_hook_computes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", gatekeeper=FAST_GATE)
    (root / "pkg" / "more.py").write_text("X = 1\n")  # judged uncommitted

    assert gate(root) == 0
    head = commit_all(root, "more")

    assert stored(root) == [gatepasses.commit_key(root, head)]
    assert gatepasses.accepts(root, head)
    assert not gatepasses.accepts(root, git(root, "rev-parse", "HEAD~1"))  # other content


def test_a_commit_without_the_baseline_the_gate_ran_with_is_not_accepted(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", gatekeeper=FAST_GATE)
    # An ignored baseline: not in the tree, but an input (a clean clone lacks it), so the pass
    # is stored under a key no commit has.
    (root / ".gatekeeper").mkdir()
    (root / ".gatekeeper" / "baseline.json").write_text('{"format": 1, "findings": []}\n')
    assert gate(root) == 0
    head = git(root, "rev-parse", "HEAD")

    assert len(stored(root)) == 1 and stored(root) != [gatepasses.commit_key(root, head)]
    assert not gatepasses.accepts(root, head)  # the commit holds no baseline


def test_failures_selections_and_changed_scope_store_nothing(tmp_path: Path) -> None:
    failing = make_project(tmp_path / "f", {"pkg/bad.py": "import os\n"}, gatekeeper=FAST_GATE)
    assert gate(failing) != 0
    selected = make_project(tmp_path / "s", gatekeeper=FAST_GATE)
    assert gate(selected, "-k", "add") == 0
    changed = make_project(tmp_path / "c", gatekeeper=FAST_GATE + 'scope = "changed"\n')
    assert gate(changed) == 0

    assert stored(failing) == stored(selected) == stored(changed) == []
    # The per-check cache did store the passes: only the whole-gate entry is withheld.
    assert any(cache.directory(changed / ".git").glob("??/*.json"))


def test_a_gate_with_diff_coverage_stores_no_whole_gate_pass(tmp_path: Path) -> None:
    # Its verdict depends on the merge-base, which the hook cannot tell from the commit alone.
    gatekeeper = (
        '\n[tool.gatekeeper]\nchecks = ["tests", "coverage"]\n'
        "\n[tool.gatekeeper.coverage]\ndiff-fail-under = 0\n"
    )
    root = make_project(tmp_path / "p", gatekeeper=gatekeeper)
    assert gate(root) == 0
    assert stored(root) == []


def entry(root: Path) -> dict[str, object]:
    (name,) = stored(root)
    path = cache.directory(root / ".git") / gatepasses.FOLDER / f"{name}.json"
    found = json.loads(path.read_text())
    assert isinstance(found, dict)
    return found


def test_a_pass_that_may_rest_on_an_ignored_file_records_so_and_is_not_accepted(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", gatekeeper=FAST_GATE)
    (root / ".gitignore").write_text((root / ".gitignore").read_text() + "pkg/generated.py\n")
    (root / "pkg" / "generated.py").write_text("VALUE = 1\n")  # ignored: not in the tree id
    head = commit_all(root, "ignore the generated module")

    assert gate(root) == 0

    assert entry(root)["recorded"] == {"clean": False, "scrubbed": True}
    assert stored(root) != [gatepasses.commit_key(root, head)]
    assert not gatepasses.accepts(root, head)


def test_a_pass_recorded_with_a_variable_the_hook_drops_records_so_and_is_not_accepted(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", gatekeeper=FAST_GATE)

    assert gate(root, FAST="1") == 0

    assert entry(root)["recorded"] == {"clean": True, "scrubbed": False}
    assert not gatepasses.accepts(root, git(root, "rev-parse", "HEAD"))


def test_the_hook_accepts_only_an_entry_recorded_as_it_judges(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", gatekeeper=FAST_GATE)
    assert gate(root) == 0
    head = git(root, "rev-parse", "HEAD")
    assert gatepasses.accepts(root, head)
    (name,) = stored(root)
    path = cache.directory(root / ".git") / gatepasses.FOLDER / f"{name}.json"

    # An entry under the right key that does not say it was judged as the hook judges.
    document = entry(root)
    path.write_text(json.dumps({**document, "recorded": {"clean": True, "scrubbed": False}}))
    assert not gatepasses.accepts(root, head)
    path.write_text(json.dumps({k: v for k, v in document.items() if k != "recorded"}))
    assert not gatepasses.accepts(root, head)
