"""The baseline: only new findings fail; fingerprints survive line shifts; the file only shrinks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.cli import main
from gatekeeper.errors import ConfigError
from gatekeeper.gate import Gate, load_setup
from gatekeeper.model import CheckResult, Status
from gatekeeper.newcode import baseline

LEGACY = '''\
"""Old code with problems nobody fixes today."""


def first(x: int) -> str:
    return x


def second(y: int) -> str:
    return y
'''

BRANCHY = """\
def branchy(a: int) -> int:
    if a == 1:
        return 1
    if a == 2:
        return 2
    return 3
"""

GATEKEEPER = """\
[tool.gatekeeper]
checks = ["lint", "types", "complexity"]
cache = false

[tool.gatekeeper.complexity]
max = 2
"""


def judge(root: Path) -> dict[str, CheckResult]:
    """Every non-session check of the project at ``root``, as the gate decides it."""
    gate = Gate(load_setup(root))
    return {c.name: gate.judge(c, gate.context()) for c in gate.setup.enabled}


def new_findings(results: dict[str, CheckResult]) -> list[str]:
    return [f"{f.path}:{f.code}" for r in results.values() for f in r.findings if f.new]


@pytest.fixture
def legacy(project: Callable[..., Path]) -> Path:
    root = project({"pkg/legacy.py": LEGACY, "pkg/branchy.py": BRANCHY}, GATEKEEPER)
    assert main(["baseline"]) == 0
    return root


def test_without_baseline_the_legacy_findings_fail(project: Callable[..., Path]) -> None:
    root = project({"pkg/legacy.py": LEGACY}, GATEKEEPER)
    results = judge(root)
    assert results["types"].status is Status.FAILED
    assert all(f.new is None for f in results["types"].findings)


def test_baselined_findings_pass_and_are_marked_not_new(legacy: Path) -> None:
    stored = json.loads((legacy / ".gatekeeper" / "baseline.json").read_text())
    assert {e["check"] for e in stored["findings"]} == {"types", "complexity"}
    results = judge(legacy)
    assert all(r.status is Status.PASSED for r in results.values()), results
    assert results["types"].metrics["baselined"] == 2
    assert all(f.new is False for r in results.values() for f in r.findings)


def test_a_new_type_error_fails_with_exactly_one_new_finding(legacy: Path) -> None:
    path = legacy / "pkg" / "legacy.py"
    path.write_text(path.read_text() + "\n\ndef third(z: int) -> str:\n    return z\n")
    results = judge(legacy)
    assert results["types"].status is Status.FAILED
    assert new_findings(results) == ["pkg/legacy.py:return-value"]
    assert results["types"].summary.startswith("1 new finding(s)")


def test_prepended_lines_and_moved_functions_make_nothing_new(legacy: Path) -> None:
    path = legacy / "pkg" / "legacy.py"
    text = path.read_text()
    first, _, second = text.partition("\n\ndef second")
    path.write_text("# one\n# two\n# three\n" + first + "\n\ndef second" + second)
    assert new_findings(judge(legacy)) == []
    moved = (
        '"""Moved around."""\n\n\ndef second(y: int) -> str:\n    return y\n\n\n'
        "def first(x: int) -> str:\n    return x\n"
    )
    path.write_text(moved)
    assert new_findings(judge(legacy)) == []


def test_a_second_identical_problem_in_the_same_function_is_new(legacy: Path) -> None:
    path = legacy / "pkg" / "legacy.py"
    text = path.read_text().replace(
        "def first(x: int) -> str:\n    return x\n",
        "def first(x: int) -> str:\n    if x:\n        return x\n    return x\n",
    )
    path.write_text(text)
    assert new_findings(judge(legacy)) == ["pkg/legacy.py:return-value"]


def test_a_baselined_function_that_gets_worse_fails_again(legacy: Path) -> None:
    path = legacy / "pkg" / "branchy.py"
    path.write_text(
        BRANCHY.replace("    return 3\n", "    if a == 3:\n        return 3\n    return 4\n")
    )
    results = judge(legacy)
    assert results["complexity"].status is Status.FAILED
    assert new_findings(results) == ["pkg/branchy.py:CC"]


def test_fixed_entries_are_reported_and_pruned_and_the_file_never_grows(
    legacy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = legacy / "pkg" / "legacy.py"
    path.write_text(LEGACY.replace("    return y\n", "    return str(y)\n"))
    (legacy / "pkg" / "worse.py").write_text("def bad(x: int) -> str:\n    return x\n")
    stored = legacy / ".gatekeeper" / "baseline.json"
    before = stored.read_text()
    results = judge(legacy)
    assert results["types"].metrics["baseline_fixed"] == 1
    assert "gatekeeper baseline --prune" in results["types"].summary

    capsys.readouterr()
    assert main(["baseline"]) == 1  # reports the new finding, writes nothing
    assert "1 new finding(s) not in it" in capsys.readouterr().out
    assert stored.read_text() == before

    assert main(["baseline", "--prune"]) == 0
    kept = baseline.load(stored)
    assert kept is not None
    assert len(kept.entries) == 2  # one type error fixed; the new one was not added
    assert "pkg/worse.py" not in stored.read_text()

    assert main(["baseline", "--update"]) == 0
    assert "pkg/worse.py" in stored.read_text()


def test_the_json_report_carries_new_on_every_finding(
    legacy: Path, pytester: pytest.Pytester
) -> None:
    (legacy / "pyproject.toml").write_text(
        (legacy / "pyproject.toml")
        .read_text()
        .replace('checks = ["lint",', 'checks = ["tests", "lint",')
    )
    (legacy / "pkg" / "worse.py").write_text("def bad(x: int) -> str:\n    return x\n")
    result = pytester.runpytest_subprocess("--gatekeeper", "-p", "no:cacheprovider")
    assert result.ret == 1
    report = json.loads((legacy / ".gatekeeper" / "report.json").read_text())
    findings = [f for c in report["checks"] if c["name"] != "tests" for f in c["findings"]]
    assert sorted(f["new"] for f in findings) == [False, False, False, True]
    result.stdout.fnmatch_lines(["*pkg/worse.py:2:12: return-value*"])
    assert "legacy.py:5" not in result.stdout.str()


def test_a_damaged_baseline_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text('{"format": 1, "findings": [{"fingerprint": 3}]}')
    with pytest.raises(ConfigError, match=r"baseline.json: not a gatekeeper baseline"):
        baseline.load(path)
    path.write_text("not json")
    with pytest.raises(ConfigError, match="--update"):
        baseline.load(path)
    assert baseline.load(tmp_path / "absent.json") is None


@pytest.mark.parametrize("path", ["/tmp/elsewhere/baseline.json", "../outside.json", "a/../../b"])
def test_a_baseline_outside_the_project_is_a_configuration_error(
    project: Callable[..., Path], capsys: pytest.CaptureFixture[str], path: str
) -> None:
    # A gate in a temporary worktree must judge the tree's own baseline, not a file beside it.
    root = project(gatekeeper=f'\n[tool.gatekeeper]\nbaseline = "{path}"\n')

    assert root.is_dir()
    code = main(["check", "lint"])

    assert code == 4
    err = capsys.readouterr().err
    assert "[tool.gatekeeper] baseline" in err and path in err
    assert "inside the project" in err


def test_a_baseline_inside_the_project_may_be_written_with_dots(
    project: Callable[..., Path],
) -> None:
    root = project(gatekeeper='\n[tool.gatekeeper]\nbaseline = "./a/../kept.json"\n')
    assert load_setup(root).settings.text("baseline") == "./a/../kept.json"


@pytest.mark.parametrize("key", ["baseline", "evals.baseline"])
@pytest.mark.parametrize("path", ["/tmp/elsewhere/baseline.json", "../outside.json", "linked.json"])
def test_either_baseline_outside_the_project_or_linked_out_of_it_is_a_configuration_error(
    project: Callable[..., Path], tmp_path: Path, key: str, path: str
) -> None:
    # The evals baseline follows the findings baseline's rule; a link whose target lies outside
    # the project is outside it too: a clean clone has no target, and the target is not keyed.
    section, _, name = key.rpartition(".")
    table = f"tool.gatekeeper.{section}" if section else "tool.gatekeeper"
    outside = tmp_path / "outside-the-project.json"
    outside.write_text("{}\n", encoding="utf-8")
    root = project(files={"linked.json": ""}, gatekeeper=f'\n[{table}]\n{name} = "{path}"\n')
    (root / "linked.json").unlink()
    (root / "linked.json").symlink_to(outside)

    with pytest.raises(ConfigError) as caught:
        load_setup(root)

    assert f"[{table}] {name}" in str(caught.value)
    assert "inside the project" in str(caught.value)


def test_a_baseline_linked_inside_the_project_is_accepted(project: Callable[..., Path]) -> None:
    root = project(gatekeeper='\n[tool.gatekeeper.evals]\nbaseline = "linked.json"\n')
    (root / "linked.json").symlink_to("evals/baseline.json")
    assert load_setup(root).settings.text("evals.baseline") == "linked.json"


def test_writing_a_baseline_git_ignores_says_it_cannot_be_committed(
    project: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # An ignored baseline can never be committed: only this checkout would pass with it, while
    # the hook's clean checkout and CI judge without it. The sample ignores .gatekeeper/, as
    # many projects do.
    root = project({"pkg/legacy.py": LEGACY}, GATEKEEPER)
    assert main(["baseline"]) == 0
    said = capsys.readouterr().out
    assert "is ignored by git (.gitignore:1:.gatekeeper/)" in said
    assert "cannot be committed" in said

    (root / ".gitignore").write_text(".gatekeeper/*\n!.gatekeeper/baseline.json\n")
    assert main(["baseline", "--update"]) == 0
    assert "ignored by git" not in capsys.readouterr().out  # let in again: nothing to say
