"""Scope: the base branch, the merge-base and what changed since, in real git repositories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.cli import main
from gatekeeper.errors import UsageError
from gatekeeper.git import scope

DIFF = """\
diff --git a/pkg/a.py b/pkg/a.py
index 1111111..2222222 100644
--- a/pkg/a.py
+++ b/pkg/a.py
@@ -3,0 +4,2 @@ def f():
+    x = 1
+    y = 2
@@ -10 +12 @@ def g():
-    old
+    new
diff --git a/pkg/new.py b/pkg/new.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/pkg/new.py
@@ -0,0 +1,3 @@
+a
+b
+c
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-x
"""


def test_parse_diff_reads_added_lines_and_whole_new_files() -> None:
    parsed = dict(scope.parse_diff(DIFF))
    assert parsed == {"pkg/a.py": frozenset({4, 5, 12}), "pkg/new.py": None}


def test_ranges_join_consecutive_lines() -> None:
    assert scope.ranges([7, 1, 2, 3, 9, 10]) == "1-3, 7, 9-10"
    assert scope.ranges([]) == ""


def test_changes_include_commits_uncommitted_edits_and_untracked_files(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    root = make_repo(tmp_path, {"pkg/other.py": "A = 1\nB = 2\nC = 3\n"})
    run_git(root, "switch", "-q", "-c", "feature")
    (root / "pkg" / "committed.py").write_text("X = 1\n")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "feature")
    (root / "pkg" / "other.py").write_text("A = 1\nB = 20\nC = 3\n")  # uncommitted
    (root / "pkg" / "untracked.py").write_text("Y = 2\n")
    (root / "ignored.log").write_text("noise\n")
    (root / ".gitignore").write_text((root / ".gitignore").read_text() + "*.log\n")

    changes = scope.changes(root)

    assert changes.base == "main"
    assert changes.merge_base == run_git(root, "rev-parse", "main")
    assert changes.lines["pkg/other.py"] == frozenset({2})
    assert changes.lines["pkg/committed.py"] is None
    assert changes.lines["pkg/untracked.py"] is None
    assert "ignored.log" not in changes.files
    assert changes.changed("pkg/other.py", 2)
    assert not changes.changed("pkg/other.py", 1)
    assert not changes.changed("pkg/__init__.py", 1)


def test_detect_base_prefers_the_remote_head_then_main_then_master(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    origin = make_repo(tmp_path / "origin")
    run_git(tmp_path, "clone", "-q", str(origin), "clone")
    assert scope.detect_base(tmp_path / "clone") == "origin/main"
    assert scope.detect_base(origin) == "main"
    run_git(origin, "branch", "-q", "-m", "main", "master")
    assert scope.detect_base(origin) == "master"
    run_git(origin, "branch", "-q", "-m", "master", "trunk")
    with pytest.raises(UsageError, match="--gatekeeper-base"):
        scope.detect_base(origin)


def test_unknown_base_is_a_usage_error_naming_it(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path)
    with pytest.raises(UsageError, match="'nope' is not a commit"):
        scope.changes(root, "nope")


def test_scope_changed_counts_only_findings_in_changed_files(
    project: Callable[..., Path], capsys: pytest.CaptureFixture[str], run_git: Callable[..., str]
) -> None:
    root = project(
        {"pkg/legacy.py": "import os\n"},
        gatekeeper='[tool.gatekeeper]\nscope = "changed"\ncache = false\n',
    )
    run_git(root, "switch", "-q", "-c", "feature")
    assert main(["check", "lint"]) == 0  # the legacy finding is outside the changed files

    (root / "pkg" / "fresh.py").write_text("import sys\n")
    capsys.readouterr()
    assert main(["check", "lint"]) == 1
    shown = capsys.readouterr().out
    assert "pkg/fresh.py:1:8: F401" in shown
    assert "legacy.py" not in shown.replace("1 outside the changed files", "")
    assert "1 outside the changed files" in shown


def test_changes_do_not_depend_on_the_users_diff_settings_or_odd_file_names(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    root = make_repo(tmp_path, {"pkg/with space.py": "A = 1\nB = 2\n", 'pkg/q"uote.py': "A = 1\n"})
    for key, value in (("diff.mnemonicPrefix", "true"), ("diff.relative", "true")):
        run_git(root, "config", key, value)
    run_git(root, "switch", "-q", "-c", "feature")
    (root / "pkg" / "with space.py").write_text("A = 1\nB = 20\n")
    (root / "pkg" / 'q"uote.py').write_text("A = 10\n")
    (root / "pkg" / "__init__.py").write_text("X = 1\n")

    lines = scope.changes(root / "pkg").lines  # diff.relative would cut pkg/ from below it

    assert lines == {
        "pkg/with space.py": frozenset({2}),
        'pkg/q"uote.py': frozenset({1}),
        "pkg/__init__.py": frozenset({1}),
    }

    run_git(root, "config", "--unset", "diff.mnemonicPrefix")
    run_git(root, "config", "diff.noprefix", "true")
    assert scope.changes(root).lines == lines


def test_parse_diff_reads_quoted_names_as_git_writes_them() -> None:
    # core.quotePath=true writes non-ASCII bytes in octal; a tab or quote is escaped either way.
    text = (
        'diff --git "a/caf\\303\\251\\t\\"x\\".py" "b/caf\\303\\251\\t\\"x\\".py"\n'
        '--- "a/caf\\303\\251\\t\\"x\\".py"\n'
        '+++ "b/caf\\303\\251\\t\\"x\\".py"\n'
        "@@ -1 +1 @@\n-a\n+b\n"
    )
    assert dict(scope.parse_diff(text)) == {'café\t"x".py': frozenset({1})}


def test_a_diff_attribute_hides_no_changed_line_and_a_binary_file_is_read(
    tmp_path: Path, make_repo: Callable[..., Path], run_git: Callable[..., str]
) -> None:
    root = make_repo(tmp_path, {"pkg/other.py": "A = 1\nB = 2\n", "logo.bin": "old\n"})
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("*.py -diff\n")
    run_git(root, "switch", "-q", "-c", "feature")
    (root / "pkg" / "other.py").write_text("A = 1\nB = 20\n")
    (root / "logo.bin").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01\n")
    run_git(root, "commit", "-q", "-am", "feature")

    changes = scope.changes(root)

    assert changes.lines["pkg/other.py"] == frozenset({2})
    assert "logo.bin" in changes.files
