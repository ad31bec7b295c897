"""The built-in scorers, the registry and the hook plugins use to add scorers."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from gatekeeper.evals import scorers
from gatekeeper.evals.scorers import Registry, Score, builtin_scorers

REGISTRY = Registry(builtin_scorers())


def score(name: str, expected: object, actual: object, **options: object) -> Score:
    scorer = REGISTRY.get(name)
    assert scorer is not None
    scorer.validate(options, expected)
    return scorer.score(expected, actual, options)


@pytest.mark.parametrize(
    ("name", "expected", "actual", "options", "passed"),
    [
        ("exact", 4, 4, {}, True),
        ("exact", 4, "4", {}, False),
        ("exact", "Paris", " paris ", {"ignore_case": True, "strip": True}, True),
        ("contains", "cat", "concatenate", {}, True),
        ("contains", ["a", "Z"], "abc", {}, False),
        ("contains", ["A", "B"], "abc", {"ignore_case": True}, True),
        ("regex", r"\d+ items", "found 12 items", {}, True),
        ("regex", r"\d+", "12 items", {"fullmatch": True}, False),
        ("number", 1.0, 1.05, {"abs": 0.1}, True),
        ("number", 100, 103, {"rel": 0.01}, False),
        ("number", 100, "101", {"rel": 0.02}, True),
        ("number", 3, "three", {}, False),
        ("number", 1, True, {}, False),
        ("json", {"a": 1}, '{"a": 1}', {}, True),
        ("json", {"a": 1}, {"a": 1, "b": 2}, {}, False),
        ("json", {"a": 1}, {"a": 1, "b": 2}, {"subset": True}, True),
        ("json", {"a": {"t": 1}}, {"a": {"t": 2}}, {"ignore": ["a.t"]}, True),
        ("json", [{"id": 1, "t": 5}], [{"id": 1, "t": 6}], {"ignore": ["*.t"]}, True),
        ("json", [1, 2], [1, 2, 3], {}, False),
        ("json", {"a": 1}, "not json", {}, False),
        ("json", 1, True, {}, False),
    ],
)
def test_builtin_scorers(
    name: str, expected: object, actual: object, options: Mapping[str, object], passed: bool
) -> None:
    result = score(name, expected, actual, **options)
    assert result.passed is passed
    assert bool(result.explanation) is not passed


def test_json_explains_the_first_difference() -> None:
    result = score("json", {"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}})
    assert result.explanation == "at a.b.1: expected 2, got 3"


@pytest.mark.parametrize(
    ("name", "expected", "options", "message"),
    [
        ("exact", 1, {"ignorecase": True}, "scorer 'exact' has no option 'ignorecase'"),
        ("number", 1, {"abs": -1}, "option 'abs' must be a non-negative number"),
        ("number", "x", {}, "needs a number as expected"),
        ("regex", "(", {}, "not a valid regular expression"),
        ("contains", 3, {}, "needs expected as a string"),
        ("custom", 1, {}, "needs option 'function"),
        ("custom", 1, {"function": "nowhere:f"}, "cannot import 'nowhere'"),
    ],
)
def test_bad_options_are_refused(
    name: str, expected: object, options: Mapping[str, object], message: str
) -> None:
    scorer = REGISTRY.get(name)
    assert scorer is not None
    with pytest.raises(ValueError, match=message):
        scorer.validate(options, expected)


def judge_bool(expected: object, actual: object) -> bool:
    return expected == actual


def judge_number(expected: object, actual: object) -> float:
    return 0.8


def judge_explained(expected: object, actual: object) -> Score:
    return Score(False, 0.25, "too short")


def judge_mapping(expected: object, actual: object) -> dict[str, object]:
    return {"passed": True, "score": 0.9, "explanation": "close enough"}


def judge_pair(expected: object, actual: object) -> tuple[bool, str]:
    return (False, "wrong tone")


def judge_bad(expected: object, actual: object) -> object:
    return "yes"


@pytest.mark.parametrize(
    ("function", "options", "expected"),
    [
        ("judge_bool", {}, Score(True, 1.0, "")),
        ("judge_number", {}, Score(False, 0.8, "score 0.8 below 1")),
        ("judge_number", {"min_score": 0.75}, Score(True, 0.8, "score 0.8 below 0.75")),
        ("judge_explained", {}, Score(False, 0.25, "too short")),
        ("judge_mapping", {}, Score(True, 0.9, "close enough")),
        ("judge_pair", {}, Score(False, 0.0, "wrong tone")),
    ],
)
def test_custom_scorer_results(function: str, options: dict[str, object], expected: Score) -> None:
    found = score("custom", 1, 1, function=f"{__name__}:{function}", **options)
    assert found == expected


def test_custom_scorer_returning_nonsense_raises() -> None:
    with pytest.raises(TypeError, match="the custom scorer returned 'yes'"):
        score("custom", 1, 1, function=f"{__name__}:judge_bad")


def test_registry_refuses_duplicates_and_non_scorers() -> None:
    with pytest.raises(ValueError, match="two scorers are named 'exact'"):
        Registry([scorers.ExactScorer(), scorers.ExactScorer()])
    with pytest.raises(ValueError, match="is not a Scorer"):
        Registry([object()])  # type: ignore[list-item]


PLUGIN = """\
from collections.abc import Mapping

import gatekeeper
from gatekeeper.evals import Score


class Shout:
    name = "shout"

    def validate(self, options: Mapping[str, object], expected: object) -> None:
        pass

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score:
        return Score(str(actual) == str(expected).upper(), 1.0)


@gatekeeper.hookimpl
def gatekeeper_scorers() -> list[object]:
    return [Shout()]
"""


def test_plugin_adds_a_scorer_through_the_hook(
    pytester: pytest.Pytester, eval_project: object
) -> None:
    assert callable(eval_project)
    dataset = (
        "target: pkg.loud:loud\nthreshold: 1\nscorer: shout\n"
        "cases:\n  - id: hi\n    input: hi\n    expected: hi\n"
    )
    root = eval_project(
        files={
            "evals/double.yaml": dataset,
            "pkg/loud.py": "def loud(x: str) -> str:\n    return x.upper()\n",
            "shout_scorer.py": PLUGIN,
        },
        gatekeeper='[tool.gatekeeper]\nchecks = ["evals"]\nplugins = ["shout_scorer"]\n',
    )
    assert root.is_dir()
    result = pytester.runpytest_subprocess("--gatekeeper", "evals")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
