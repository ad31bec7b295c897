"""Loading datasets: every bad dataset is an error naming the file and the case or line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.evals import dataset
from gatekeeper.evals.scorers import Registry, builtin_scorers

HEADER = "target: json:dumps\nthreshold: 1\n"


def load(tmp_path: Path, text: str, extra: dict[str, str] | None = None) -> dataset.Dataset:
    (tmp_path / "evals").mkdir(exist_ok=True)
    for name, content in (extra or {}).items():
        (tmp_path / "evals" / name).write_text(content)
    path = tmp_path / "evals" / "set.yaml"
    path.write_text(text)
    return dataset.load(path, tmp_path, Registry(builtin_scorers()))


def error(tmp_path: Path, text: str, extra: dict[str, str] | None = None) -> str:
    with pytest.raises(dataset.DatasetError) as caught:
        load(tmp_path, text, extra)
    return str(caught.value)


def test_inline_cases_with_lines_and_defaults(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        HEADER + "scorer: {name: contains, ignore_case: true}\nrepeats: 3\nmust_pass: 2\n"
        "cases:\n  - id: a\n    input: x\n    expected: X\n    tags: [smoke]\n"
        "  - id: 2\n    input: y\n    expected: Y\n    scorer: exact\n    repeats: 1\n",
    )
    first, second = loaded.cases
    assert (loaded.path, loaded.target, loaded.threshold) == ("evals/set.yaml", "json:dumps", 1.0)
    assert (first.line, first.scorer.options, first.tags) == (7, {"ignore_case": True}, ("smoke",))
    assert (first.repeats, first.must_pass) == (3, 2)
    assert (second.id, second.scorer.name, second.repeats, second.must_pass) == ("2", "exact", 1, 1)
    assert first.scorer.digest != second.scorer.digest


def test_jsonl_cases_beside_the_dataset(tmp_path: Path) -> None:
    lines = '{"id": "a", "input": 1, "expected": "1"}\n\n{"id": "b", "input": 2, "expected": "2"}\n'
    loaded = load(tmp_path, HEADER + "cases: big.jsonl\n", {"big.jsonl": lines})
    assert [(c.id, c.source, c.line) for c in loaded.cases] == [
        ("a", "evals/big.jsonl", 1),
        ("b", "evals/big.jsonl", 3),
    ]


def test_content_hash_follows_the_jsonl_file(tmp_path: Path) -> None:
    one = load(
        tmp_path, HEADER + "cases: b.jsonl\n", {"b.jsonl": '{"id":1,"input":1,"expected":1}'}
    )
    two = load(
        tmp_path, HEADER + "cases: b.jsonl\n", {"b.jsonl": '{"id":1,"input":1,"expected":2}'}
    )
    assert one.digest != two.digest
    assert one.cases[0].digest != two.cases[0].digest


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEADER + "cases:\n  - id: a\n    input: 1\n    expected: 1\n  - id: a\n"
            "    input: 2\n    expected: 2\n",
            "evals/set.yaml line 7: case 'a' duplicate case id (first at evals/set.yaml line 4)",
        ),
        (HEADER + "cases:\n  - input: 1\n    expected: 1\n", "evals/set.yaml line 4: a case needs"),
        (
            HEADER + "cases:\n  - id: a\n    input: 1\n    expected: 1\n    scorer: exactly\n",
            "evals/set.yaml line 4: case 'a' unknown scorer 'exactly'. Did you mean 'exact'?",
        ),
        (
            "target: nowhere.at.all:run\nthreshold: 1\ncases: []\n",
            "evals/set.yaml: target 'nowhere.at.all:run' is not importable: cannot import",
        ),
        (HEADER + "cases: [\n  {id: a\n", "evals/set.yaml line 5: malformed YAML"),
        (HEADER + "treshold: 1\ncases: []\n", "unknown key 'treshold'. Did you mean 'threshold'?"),
        ("target: json:dumps\ncases: []\n", "'threshold' must be the minimum pass rate"),
        (
            HEADER + "cases:\n  - id: a\n    input: 1\n",
            "evals/set.yaml line 4: case 'a' has no 'expected'.",
        ),
        (
            HEADER + "cases:\n  - id: a\n    input: 1\n    expected: '('\n    scorer: regex\n",
            "case 'a' expected is not a valid regular expression",
        ),
        (
            HEADER + "repeats: 2\ncases:\n  - {id: a, input: 1, expected: 1, must_pass: 3}\n",
            "case 'a' must_pass 3 is more than repeats 2.",
        ),
        (HEADER + "cases: []\n", "evals/set.yaml: has no cases"),
        (
            HEADER + "repeats: 2\nmust_pass: 3\ncases:\n  - {id: a, input: 1, expected: 1}\n",
            "evals/set.yaml: must_pass 3 is more than repeats 2.",
        ),
    ],
)
def test_bad_dataset_names_file_and_case(tmp_path: Path, text: str, message: str) -> None:
    assert message in error(tmp_path, text)


def test_a_case_that_only_repeats_must_pass_every_run(tmp_path: Path) -> None:
    text = HEADER + "cases:\n  - {id: a, input: 1, expected: 1, repeats: 5}\n"
    (case,) = load(tmp_path, text).cases
    assert (case.repeats, case.must_pass) == (5, 5)
    capped = HEADER + "repeats: 3\nmust_pass: 2\ncases:\n"
    capped += "  - {id: a, input: 1, expected: 1, repeats: 5}\n"
    capped += "  - {id: b, input: 1, expected: 1, repeats: 1}\n"
    first, second = load(tmp_path, capped).cases
    assert (first.must_pass, second.must_pass) == (2, 1)  # the dataset's, up to the case's runs


def test_malformed_jsonl_line_is_named(tmp_path: Path) -> None:
    lines = '{"id": "a", "input": 1, "expected": 1}\n{"id": "b", "input": \n'
    found = error(tmp_path, HEADER + "cases: big.jsonl\n", {"big.jsonl": lines})
    assert found.startswith("evals/big.jsonl line 2: not valid JSON")


def test_missing_jsonl_file_is_named(tmp_path: Path) -> None:
    found = error(tmp_path, HEADER + "cases: gone.jsonl\n")
    assert found.startswith("evals/set.yaml: cannot read its cases file evals/gone.jsonl")


def test_discover_and_in_paths(tmp_path: Path) -> None:
    contents = {
        "evals/a.yaml": "cases: []\n",
        "evals/sub/b.yml": "target: x:y\n",
        "evals/.hidden/c.yaml": "cases: []\n",
        "evals/c.jsonl": "{}\n",
        "evals/empty.yaml": "",
        "evals/registry.yaml": "arithmetic:\n  id: x\n",
        "evals/broken.yaml": "cases: [\n",
    }
    for name, text in contents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = dataset.discover(tmp_path, ["evals", "missing"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "evals/a.yaml",
        "evals/broken.yaml",  # cannot be told from a dataset: loading it says what is wrong
        "evals/sub/b.yml",
    ]
    assert dataset.in_paths(tmp_path / "evals/sub/b.yml", tmp_path, ["evals"])
    assert not dataset.in_paths(tmp_path / "other/b.yml", tmp_path, ["evals"])
    assert not dataset.in_paths(tmp_path / "evals/c.jsonl", tmp_path, ["evals"])
    assert dataset.not_a_dataset(tmp_path / "evals/empty.yaml") == "empty"
    reason = dataset.not_a_dataset(tmp_path / "evals/registry.yaml")
    assert reason is not None and "(it has arithmetic)" in reason
