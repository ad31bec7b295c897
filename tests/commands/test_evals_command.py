"""``gatekeeper evals baseline``: deliberate recording, filtered runs keep other entries."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GATEKEEPER = str(Path(sys.executable).with_name("gatekeeper"))


def entries(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((root / "evals" / "baseline.json").read_text())
    cases: dict[str, Any] = document["datasets"]["evals/double.yaml"]
    return cases


def test_records_every_case_with_its_hashes(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    root = eval_project(broken=frozenset({7}))
    result = pytester.run(GATEKEEPER, "evals", "baseline")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(
        ["*recorded 20 case(s) in evals/baseline.json: 19 passing, 1 failing"]
    )
    recorded = entries(root)
    assert len(recorded) == 20
    assert recorded["c7"]["passed"] is False
    assert recorded["c7"]["actual"] == "15"
    assert {"case_digest", "scorer_digest", "dataset_digest"} <= set(recorded["c1"])


def test_filtered_run_updates_only_what_ran(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_target: Callable[[set[int]], str],
) -> None:
    root = eval_project(broken=frozenset({7}))
    assert pytester.run(GATEKEEPER, "evals", "baseline").ret == 0
    (root / "pkg" / "target.py").write_text(make_eval_target({3}))
    result = pytester.run(GATEKEEPER, "evals", "baseline", "--", "-k", "c3")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["*now failing: evals/double.yaml::c3*"])
    recorded = entries(root)
    assert len(recorded) == 20  # a filtered run never deletes entries
    assert recorded["c3"]["passed"] is False
    assert recorded["c7"]["passed"] is False  # not re-run, so not updated


def test_bad_dataset_writes_nothing(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    root = eval_project(files={"evals/double.yaml": "target: pkg.target:double\ncases: [\n"})
    result = pytester.run(GATEKEEPER, "evals", "baseline")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*nothing was written: evals/double.yaml line *: malformed YAML*"])
    assert not (root / "evals" / "baseline.json").exists()


def test_no_datasets_is_a_usage_error(
    pytester: pytest.Pytester, project: Callable[..., Path]
) -> None:
    project()
    result = pytester.run(GATEKEEPER, "evals", "baseline")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no eval datasets (*.yaml) under evals*"])


@pytest.mark.parametrize("where", ["PYTEST_ADDOPTS", "addopts"])
def test_a_filter_outside_the_command_line_never_prunes(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    root = eval_project(broken=frozenset({7}))
    assert pytester.run(GATEKEEPER, "evals", "baseline").ret == 0
    if where == "PYTEST_ADDOPTS":
        monkeypatch.setenv("PYTEST_ADDOPTS", "-k c3")
    else:
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text()
        pyproject.write_text(text.replace("testpaths =", 'addopts = "-k c3"\ntestpaths =', 1))
    result = pytester.run(GATEKEEPER, "evals", "baseline")
    assert result.ret == 0, result.stderr.str()
    assert len(entries(root)) == 20  # only c3 ran: the other 19 entries stay


def test_a_run_stopped_early_never_prunes(
    pytester: pytest.Pytester, eval_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = eval_project(broken=frozenset({7}))
    assert pytester.run(GATEKEEPER, "evals", "baseline").ret == 0
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    result = pytester.run(GATEKEEPER, "evals", "baseline")
    assert result.ret == 0, result.stderr.str()
    assert len(entries(root)) == 20  # c8..c20 did not run: their entries stay


JUDGE = """import os


def judge(expected, actual):
    if os.environ.get("JUDGE_CRASH") == str(expected):
        raise RuntimeError("judge broke")
    return expected == actual
"""


def test_a_case_that_cannot_be_judged_keeps_its_entry_and_fails_the_command(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_dataset: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    custom = "scorer: {name: custom, function: 'pkg.judge:judge'}"
    text = make_eval_dataset().replace("scorer: exact", custom)
    root = eval_project(files={"evals/double.yaml": text, "pkg/judge.py": JUDGE})
    assert pytester.run(GATEKEEPER, "evals", "baseline").ret == 0
    before = entries(root)["c10"]
    monkeypatch.setenv("JUDGE_CRASH", "20")  # the scorer raises on c10 (expected 20)
    result = pytester.run(GATEKEEPER, "evals", "baseline")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*1 case(s) could not be judged: evals/double.yaml::c10*"])
    assert entries(root)["c10"] == before
    assert len(entries(root)) == 20
