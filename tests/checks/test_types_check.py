"""The types check on real sample projects: mypy's exit 2 for a file that does not parse is a
finding; every other exit 2 stays an error."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.errors import ConfigError
from gatekeeper.gate import Gate, load_setup
from gatekeeper.model import CheckResult

BROKEN = "def f(:\n    pass\n"


def judge(root: Path, name: str) -> CheckResult:
    """Run one check as ``gatekeeper check NAME`` does, never reusing a cached pass."""
    setup = load_setup(root)
    gate = Gate(setup)
    return gate.judge(setup.checks[name], gate.context(), reuse=False)


def test_a_file_that_does_not_parse_fails_types_with_its_syntax_errors(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    root = project({"pkg/broken.py": BROKEN})
    result = judge(root, "types")
    assert result.status.value == "failed", result.summary
    assert {(f.path, f.code) for f in result.findings} == {("pkg/broken.py", "syntax")}
    assert result.findings[0].line == 1
    assert result.metrics["errors"] == len(result.findings)


def test_a_syntax_error_next_to_a_broken_mypy_plugin_is_still_an_error(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    root = project(
        {"pkg/broken.py": BROKEN}, gatekeeper='\n[tool.mypy]\nplugins = ["no_such_mypy_plugin"]\n'
    )
    result = judge(root, "types")
    assert result.status.value == "error"
    assert "exit status 2" in result.summary
    assert "no_such_mypy_plugin" in result.summary


TYPING_TEST = "from pkg import add\n\nresult: str = add(1, 2)\n"  # an int is no str


@pytest.mark.parametrize(
    ("files", "gatekeeper"),
    [
        ({}, '\n[tool.mypy]\nfiles = ["pkg", "typing_tests"]\n'),
        ({"mypy.ini": "[mypy]\nfiles = pkg, typing_tests\n"}, ""),
        ({"setup.cfg": "[metadata]\nname = x\n\n[mypy]\nfiles = pkg,typing_tests\n"}, ""),
    ],
    ids=["pyproject", "mypy-ini", "setup-cfg"],
)
def test_the_files_named_by_the_projects_mypy_configuration_are_checked(
    tmp_path: Path, make_repo: Callable[..., Path], files: dict[str, str], gatekeeper: str
) -> None:
    # As on click: mypy's `files` covers src and tests/typing; the detected paths cover only
    # the package, which would narrow the project's own mypy setup.
    root = make_repo(tmp_path, {"typing_tests/check_add.py": TYPING_TEST, **files}, gatekeeper)
    result = judge(root, "types")
    assert [(f.path, f.code) for f in result.findings] == [
        ("typing_tests/check_add.py", "assignment")
    ]
    assert "typing_tests" not in result.ran[0]  # mypy reads its own list; none is passed
    section = Gate(load_setup(root)).effective_config()["types"]  # the report says so too
    assert isinstance(section, dict)
    assert section["paths"] == ["pkg", "typing_tests"]


def test_types_paths_still_win_over_mypys_files(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    root = make_repo(
        tmp_path,
        {"typing_tests/check_add.py": TYPING_TEST},
        '\n[tool.mypy]\nfiles = ["pkg", "typing_tests"]\n'
        '\n[tool.gatekeeper.types]\npaths = ["pkg"]\n',
    )
    result = judge(root, "types")
    assert result.status.value == "passed", result.summary


UNUSED_SECTION = "[mypy]\nwarn_unused_configs = True\n\n[mypy-foo]\nignore_missing_imports = True\n"
UNUSED_OVERRIDE = (
    "\n[tool.mypy]\nwarn_unused_configs = true\n\n"
    '[[tool.mypy.overrides]]\nmodule = "foo"\nignore_missing_imports = true\n'
)
WRONG = {"pkg/wrong.py": "x: str = 1\n"}


@pytest.mark.parametrize(
    ("files", "gatekeeper", "status", "findings"),
    [
        ({"setup.cfg": UNUSED_SECTION}, "", "passed", []),
        ({"setup.cfg": UNUSED_SECTION, **WRONG}, "", "failed", [("pkg/wrong.py", "assignment")]),
        (WRONG, UNUSED_OVERRIDE, "failed", [("pkg/wrong.py", "assignment")]),
    ],
    ids=["setup-cfg-clean", "setup-cfg-an-error", "pyproject-an-error"],
)
def test_mypys_note_on_an_unused_config_section_is_neither_a_finding_nor_an_error(
    tmp_path: Path,
    make_repo: Callable[..., Path],
    files: dict[str, str],
    gatekeeper: str,
    status: str,
    findings: list[tuple[str, str]],
) -> None:
    # A [mypy-...] section no module matches, with warn_unused_configs, makes mypy print
    # `setup.cfg: note: unused section(s): [mypy-foo]`, a line of plain text among the JSON.
    root = make_repo(tmp_path, files, gatekeeper)
    result = judge(root, "types")
    assert result.status.value == status, result.summary
    assert [(f.path, f.code) for f in result.findings] == findings


def test_an_edit_that_keeps_size_and_mtime_is_still_type_checked(
    project: Callable[..., Path],
) -> None:
    # mypy's cache trusts a file's size and modification time; the gate makes it compare content.
    root = project({"pkg/answer.py": "def answer() -> int:\n    return 42\n"})
    assert judge(root, "types").status.value == "passed"
    path = root / "pkg/answer.py"
    before = path.stat()
    path.write_text("def answer() -> str:\n    return 42\n")
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    result = judge(root, "types")

    assert result.status.value == "failed", result.summary
    assert [(f.path, f.line) for f in result.findings] == [("pkg/answer.py", 2)]


def same_size_same_time_edit(path: Path, text: str) -> None:
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize(
    "args",
    [
        ["--cache-dir", "elsewhere"],
        ["--cache-dir=elsewhere"],
        ["--cache-d", "elsewhere"],  # argparse takes a unique prefix of a long option
        ["--cache-map", "pkg/answer.py", "m.json", "d.json"],
        ["@mypy-args.txt"],  # a file of arguments: what it holds is not seen
    ],
    ids=["separate", "equals", "prefix", "cache-map", "argument-file"],
)
def test_types_args_cannot_point_mypy_at_a_cache_the_gate_does_not_check(
    project: Callable[..., Path], args: list[str]
) -> None:
    listed = ", ".join(f'"{arg}"' for arg in args)
    files = {"mypy-args.txt": "--cache-dir\nelsewhere\n"}
    root = project(files, gatekeeper=f"\n[tool.gatekeeper.types]\nargs = [{listed}]\n")

    with pytest.raises(ConfigError) as caught:
        load_setup(root)

    assert "[tool.gatekeeper.types] args" in str(caught.value)
    assert args[0].partition("=")[0] in str(caught.value)


def test_a_cache_dir_in_the_projects_mypy_configuration_does_not_hide_an_edit(
    project: Callable[..., Path],
) -> None:
    # mypy takes `cache_dir` from its configuration only when no `--cache-dir` is given, and
    # the gate always gives its own, checked one.
    root = project(
        {"pkg/answer.py": "def answer() -> int:\n    return 42\n"},
        gatekeeper='\n[tool.mypy]\ncache_dir = "elsewhere"\n',
    )
    assert judge(root, "types").status.value == "passed"
    same_size_same_time_edit(root / "pkg/answer.py", "def answer() -> str:\n    return 42\n")

    result = judge(root, "types")

    assert result.status.value == "failed", result.summary
    assert not (root / "elsewhere").exists()
