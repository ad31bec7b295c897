"""YAML under ``evals/`` becomes eval cases only in a project that asked for the gate, and only
when the file is a dataset: other projects keep their own YAML there (registries, configs), and
plain pytest must not break on it for merely having the plugin installed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory

# The shape of another tool's registry entries (top-level keys are eval names).
REGISTRY = """\
arithmetic:
  id: arithmetic.dev.match-v1
  metrics: [accuracy]
arithmetic.dev.match-v1:
  class: evals.elsuite.basic.match:Match
  args:
    samples_jsonl: arithmetic/samples.jsonl
"""


def test_plain_pytest_leaves_yaml_alone_in_a_project_that_did_not_opt_in(
    pytester: pytest.Pytester, project: ProjectFactory, make_eval_dataset: Callable[..., str]
) -> None:
    project(
        files={
            "evals/registry/evals/arithmetic.yaml": REGISTRY,
            "evals/registry/data/list.yaml": "- a\n- b\n",
            "evals/double.yaml": make_eval_dataset(),  # a dataset, but nobody asked for the gate
        }
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    listed = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    listed.stdout.fnmatch_lines(
        [
            "gatekeeper: 3 YAML file(s) under evals not collected as eval datasets: the project "
            "has not opted in*",
        ]
    )
    assert "evals/double.yaml::" not in listed.stdout.str()
    verbose = pytester.runpytest_subprocess("--collect-only", "-v", "-p", "no:cacheprovider")
    verbose.stdout.fnmatch_lines(["*evals/registry/evals/arithmetic.yaml: not collected*"])


def test_an_opted_in_project_collects_only_the_files_that_are_datasets(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    eval_project(
        files={
            "evals/registry/arithmetic.yaml": REGISTRY,
            "evals/notes.yaml": "",
            "evals/list.yaml": "- a\n",
        }
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "evals")
    result.assert_outcomes(passed=19, failed=1)
    listed = pytester.runpytest_subprocess(
        "--collect-only", "-v", "-p", "no:cacheprovider", "evals"
    )
    assert "<EvalItem c20>" in listed.stdout.str()
    listed.stdout.fnmatch_lines(
        [
            "gatekeeper: 3 YAML file(s) under evals not collected as eval datasets*",
            "*evals/list.yaml: not a dataset: not a mapping*",
            "*evals/notes.yaml: not a dataset: empty*",
            "*evals/registry/arithmetic.yaml: not a dataset: none of the keys*",
        ]
    )


def test_the_gate_and_an_explicit_eval_path_opt_in(
    pytester: pytest.Pytester, project: ProjectFactory, make_eval_dataset: Callable[..., str]
) -> None:
    project(files={"evals/double.yaml": make_eval_dataset(), "pkg/target.py": TARGET})
    given = pytester.runpytest_subprocess(
        "--collect-only", "-q", "-p", "no:cacheprovider", "--gatekeeper-evals-paths", "evals"
    )
    given.stdout.fnmatch_lines(["evals/double.yaml::c20"])
    gated = pytester.runpytest_subprocess("--gatekeeper", "--collect-only", "-q")
    gated.stdout.fnmatch_lines(["evals/double.yaml::c20"])


def test_a_file_that_claims_to_be_a_dataset_is_held_to_it(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    # A typo in one key is not a way out of the gate: the other keys still say "dataset".
    eval_project(files={"evals/double.yaml": "taget: pkg.target:double\ncases: []\n"})
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "evals")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*evals/double.yaml: unknown key 'taget'*"])


def test_asking_for_a_baseline_is_opting_in(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    eval_project(broken=frozenset({7}), gatekeeper="")  # no [tool.gatekeeper] table
    result = pytester.run(GATEKEEPER, "evals", "baseline")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["*recorded 20 case(s) in evals/baseline.json*"])


GATEKEEPER = str(Path(sys.executable).with_name("gatekeeper"))
TARGET = "def double(x: int) -> int:\n    return 2 * x\n"
