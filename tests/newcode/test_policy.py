"""The policy's cache token: what a cached verdict depends on beyond the tree."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.config import load
from gatekeeper.newcode.policy import Policy
from tests.conftest import git, make_project

DIFF_COVERAGE = "\n[tool.gatekeeper.coverage]\ndiff-fail-under = 100\n"


def test_the_diff_coverage_merge_base_is_in_the_token_even_with_scope_all(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", gatekeeper=DIFF_COVERAGE)
    git(root, "switch", "-q", "-c", "feature")
    (root / "pkg" / "more.py").write_text("def more() -> int:\n    return 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "more")
    settings = load(root)
    assert settings.text("scope") == "all"
    before = Policy.load(settings, root)
    assert before.diff_base == git(root, "rev-parse", "main")

    git(root, "branch", "-f", "main", "HEAD")  # the base moved: the same tree, other new lines
    after = Policy.load(settings, root)
    assert after.token() != before.token()
    assert after.base_dependent


def test_without_diff_coverage_the_token_does_not_follow_the_base(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    policy = Policy.load(load(root), root)
    assert policy.diff_base is None and not policy.base_dependent
    assert policy.token() == "no-baseline:all"
