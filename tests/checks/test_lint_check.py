"""The lint check on real sample projects: a file that does not parse is a finding, not an error."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.checks import ruffpin
from gatekeeper.gate import Gate, load_setup
from gatekeeper.model import CheckResult

BROKEN = "def f(:\n    pass\n"


def judge(root: Path, name: str) -> CheckResult:
    """Run one check as ``gatekeeper check NAME`` does, never reusing a cached pass."""
    setup = load_setup(root)
    gate = Gate(setup)
    return gate.judge(setup.checks[name], gate.context(), reuse=False)


def test_a_file_that_does_not_parse_fails_lint_with_its_syntax_errors(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    root = project({"pkg/broken.py": BROKEN, "pkg/ugly.py": "x=1\n"})
    result = judge(root, "lint")
    assert result.status.value == "failed", result.summary
    found = [(f.path, f.line, f.code) for f in result.findings]
    # ruff check names every syntax error; ruff format's own parse failure is not repeated, and
    # the file it could still judge is reported as one to reformat.
    assert found == [
        ("pkg/broken.py", 1, "invalid-syntax"),
        ("pkg/broken.py", 1, "invalid-syntax"),
        ("pkg/ugly.py", 1, "unformatted"),
    ]
    assert len(result.ran) == 2


def test_a_file_that_does_not_parse_fails_lint_without_the_format_check(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    root = project(
        {"pkg/broken.py": BROKEN}, gatekeeper="\n[tool.gatekeeper.lint]\nformat = false\n"
    )
    result = judge(root, "lint")
    assert result.status.value == "failed"
    assert {(f.path, f.code) for f in result.findings} == {("pkg/broken.py", "invalid-syntax")}
    assert len(result.ran) == 1


def unformatted(root: Path) -> list[str]:
    result = judge(root, "lint")
    return [f.fingerprint for f in result.findings if f.code == "unformatted"]


def test_a_file_to_reformat_keeps_its_fingerprint_until_its_formatting_problems_change(
    project: Callable[..., Path],
) -> None:
    body = '"""Doc."""\n\nX=1\n'
    root = project({"pkg/ugly.py": body})
    (first,) = unformatted(root)

    ugly = root / "pkg" / "ugly.py"
    ugly.write_text("# one\n# two\n# three\n" + body)  # lines shift: the same problem
    assert unformatted(root) == [first]

    ugly.write_text(body + "\n\ndef f( a ):\n    return a\n")  # a second problem further down
    (second,) = unformatted(root)
    assert second != first


# -- which ruff judges: the project's pin (docs/configuration.md) -------------------------------

README = "# Sample\n\n```python\nx=1\nprint( x )\n```\n"
PRE_COMMIT = """\
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: {rev}
    hooks:
      - id: ruff-check
      - id: ruff-format
"""
INSTALLED = ruffpin.installed_version() or "0"


@pytest.fixture
def markdown_formatting_ruff() -> None:
    if ruffpin.release(INSTALLED) < ruffpin.FORMATS_MARKDOWN:
        pytest.skip(f"ruff {INSTALLED} does not format Markdown: nothing to keep out")


@pytest.mark.usefixtures("markdown_formatting_ruff")
def test_a_project_pinned_below_0_16_is_not_failed_on_markdown_it_never_formatted(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    # As on click: ruff 0.15.9 in its pre-commit config, Markdown code blocks never formatted.
    unpinned = make_repo(tmp_path / "unpinned", {"README.md": README})
    assert [(f.path, f.code) for f in judge(unpinned, "lint").findings] == [
        ("README.md", "unformatted")
    ]  # the installed ruff does format them

    pinned = make_repo(
        tmp_path / "pinned",
        {"README.md": README, ".pre-commit-config.yaml": PRE_COMMIT.format(rev="v0.15.9")},
    )
    result = judge(pinned, "lint")
    assert result.status.value == "passed", result.summary
    assert result.summary == (
        f"no findings (ruff {INSTALLED}; the project pins 0.15.9 in .pre-commit-config.yaml, "
        "Markdown not format-checked; `pip install ruff==0.15.9` beside gatekeeper judges "
        "exactly as it does)"
    )
    assert result.metrics["ruff"] == INSTALLED and result.metrics["ruff-pin"] == "0.15.9"
    assert "--extend-exclude '*.md'" in result.ran[1]


@pytest.mark.usefixtures("markdown_formatting_ruff")
@pytest.mark.parametrize(
    ("files", "gatekeeper"),
    [
        ({".pre-commit-config.yaml": PRE_COMMIT.format(rev="v0.16.0")}, ""),
        (
            {
                ".pre-commit-config.yaml": PRE_COMMIT.format(rev="v0.15.9"),
                "ruff.toml": "[format]\npreview = true\n",
            },
            "",
        ),
        ({}, '\n[tool.gatekeeper.lint]\nruff-version = "0.17.0"\n'),
    ],
    ids=["pinned-at-0.16", "preview-formatting-on", "configured-0.17"],
)
def test_markdown_is_checked_when_the_pinned_ruff_formats_it_too(
    tmp_path: Path, make_repo: Callable[..., Path], files: dict[str, str], gatekeeper: str
) -> None:
    root = make_repo(tmp_path, {"README.md": README, **files}, gatekeeper)
    result = judge(root, "lint")
    assert [(f.path, f.code) for f in result.findings] == [("README.md", "unformatted")]
    assert "Markdown not format-checked" not in result.summary
    assert f"ruff {INSTALLED}" in result.summary


def test_the_summary_names_only_the_installed_ruff_when_it_is_the_pinned_one(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(
        tmp_path, gatekeeper=f'\n[tool.gatekeeper.lint]\nruff-version = "{INSTALLED}"\n'
    )
    result = judge(root, "lint")
    assert result.summary == f"no findings (ruff {INSTALLED})"


def test_a_ruff_version_that_is_no_version_is_an_error_naming_the_key(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(tmp_path, gatekeeper='\n[tool.gatekeeper.lint]\nruff-version = "latest"\n')
    result = judge(root, "lint")
    assert result.status.value == "error"
    assert "[tool.gatekeeper.lint] ruff-version must be a version such as 0.15.9" in result.summary


@pytest.mark.parametrize(
    ("files", "source"),
    [
        ({"uv.lock": 'version = 1\n[[package]]\nname = "ruff"\nversion = "0.14.2"\n'}, "uv.lock"),
        (
            {"pyproject.toml": '[dependency-groups]\ndev = ["pytest", "ruff==0.14.2"]\n'},
            "pyproject.toml",
        ),
        ({"requirements/dev.txt": "pytest>=8\nRuff == 0.14.2  # lint\n"}, "requirements/dev.txt"),
        ({"requirements-dev.txt": "ruff>=0.14\n"}, None),  # a range is no pin
        ({".pre-commit-config.yaml": PRE_COMMIT.format(rev="3a1b2c4d")}, None),  # a commit id
    ],
    ids=["uv-lock", "dependency-group", "requirements-dir", "a-range", "a-commit-rev"],
)
def test_the_pin_is_read_from_lock_files_dependency_groups_and_requirements(
    tmp_path: Path, files: dict[str, str], source: str | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = ruffpin.find(tmp_path, "")
    expected = None if source is None else ruffpin.Pin("0.14.2", source)
    assert found == expected


def same_mtime_edit(path: Path, text: str) -> None:
    """Rewrite ``path`` keeping its size and modification time, as `touch -r` does."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_an_edit_that_keeps_the_mtime_is_still_linted(project: Callable[..., Path]) -> None:
    # ruff's cache trusts a file's modification time; the gate must not trust ruff's cache.
    root = project({"pkg/names.py": "os = 1234\n", "pkg/shape.py": "x = 1\n"})
    assert judge(root, "lint").status.value == "passed"
    same_mtime_edit(root / "pkg/names.py", "import os\n")
    same_mtime_edit(root / "pkg/shape.py", "x  =1\n")

    result = judge(root, "lint")

    assert result.status.value == "failed", result.summary
    found = {(f.path, f.code) for f in result.findings}
    assert found == {("pkg/names.py", "F401"), ("pkg/shape.py", "unformatted")}
