"""Scorers: how an eval case's actual output is compared with its expected output.

A scorer is a small :class:`Scorer` object collected in a :class:`Registry` by name. The built-in
scorers register through the ``gatekeeper_scorers`` hook, exactly as a plugin's scorers do; the
loaded setup collects them from its plugin manager (:attr:`gatekeeper.gate.Setup.scorers`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Protocol, runtime_checkable

from gatekeeper.evals import callables


@dataclass(frozen=True, slots=True)
class Score:
    """The judgement of one run: ``passed`` decides; ``value`` in [0, 1] is reported."""

    passed: bool
    value: float
    explanation: str = ""


@runtime_checkable
class Scorer(Protocol):
    """A named way of scoring ``actual`` against ``expected``.

    ``validate`` runs when the dataset is loaded and raises ``ValueError`` (one line, naming the
    option or value) when ``options`` or ``expected`` cannot be scored; ``score`` may then assume
    both are valid. ``score`` may raise for an ``actual`` it cannot handle: the case is an error.
    """

    name: str

    def validate(self, options: Mapping[str, object], expected: object) -> None: ...

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score: ...


class Registry:
    """Scorers by name. Duplicate names are refused: a scorer never silently replaces another."""

    def __init__(self, scorers: Iterable[Scorer]) -> None:
        self._scorers: dict[str, Scorer] = {}
        for scorer in scorers:
            if not isinstance(scorer, Scorer):
                raise ValueError(f"{scorer!r} is not a Scorer (needs name, validate, score)")
            if scorer.name in self._scorers:
                raise ValueError(f"two scorers are named {scorer.name!r}")
            self._scorers[scorer.name] = scorer

    def get(self, name: str) -> Scorer | None:
        return self._scorers.get(name)

    def names(self) -> list[str]:
        return sorted(self._scorers)


# -- option checking ----------------------------------------------------------------------------

_BOOL: Final = "true or false"
_NUMBER: Final = "a non-negative number"
_TEXT: Final = "a string"
_TEXTS: Final = "a list of strings"


def check_options(name: str, options: Mapping[str, object], allowed: Mapping[str, str]) -> None:
    """Raise ``ValueError`` for an option ``name`` does not know or of the wrong kind."""
    for key, value in options.items():
        kind = allowed.get(key)
        if kind is None:
            known = ", ".join(sorted(allowed)) or "none"
            raise ValueError(f"scorer {name!r} has no option {key!r} (options: {known})")
        if not _is_kind(value, kind):
            raise ValueError(f"scorer {name!r} option {key!r} must be {kind}, got {value!r}")


def _is_kind(value: object, kind: str) -> bool:
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _NUMBER:
        return _is_number(value) and float(value) >= 0  # type: ignore[arg-type]
    if kind == _TEXT:
        return isinstance(value, str)
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _verdict(passed: bool, explanation: str = "") -> Score:
    return Score(passed, 1.0 if passed else 0.0, "" if passed else explanation)


def _fold(value: object, options: Mapping[str, object]) -> object:
    if not isinstance(value, str):
        return value
    if options.get("strip"):
        value = value.strip()
    return value.casefold() if options.get("ignore_case") else value


# -- the built-in scorers -----------------------------------------------------------------------


class ExactScorer:
    """``actual == expected``; strings may be compared stripped and case-folded."""

    name = "exact"
    OPTIONS: Final = {"ignore_case": _BOOL, "strip": _BOOL}

    def validate(self, options: Mapping[str, object], expected: object) -> None:
        check_options(self.name, options, self.OPTIONS)

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score:
        return _verdict(_fold(actual, options) == _fold(expected, options), "not equal")


class ContainsScorer:
    """The actual text contains the expected string (or every string of an expected list)."""

    name = "contains"
    OPTIONS: Final = {"ignore_case": _BOOL}

    def validate(self, options: Mapping[str, object], expected: object) -> None:
        check_options(self.name, options, self.OPTIONS)
        if not (isinstance(expected, str) or _is_kind(expected, _TEXTS)):
            raise ValueError(f"scorer 'contains' needs expected as {_TEXT} or {_TEXTS}")

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score:
        wanted = [expected] if isinstance(expected, str) else list(expected)  # type: ignore[call-overload]
        text = _fold(actual if isinstance(actual, str) else str(actual), options)
        assert isinstance(text, str)
        missing = [w for w in wanted if str(_fold(w, options)) not in text]
        found = len(wanted) - len(missing)
        explanation = "missing " + ", ".join(repr(m) for m in missing) if missing else ""
        return Score(not missing, found / len(wanted) if wanted else 1.0, explanation)


class RegexScorer:
    """The expected value is a regular expression searched in (or matching all of) the text."""

    name = "regex"
    OPTIONS: Final = {"ignore_case": _BOOL, "fullmatch": _BOOL}

    def validate(self, options: Mapping[str, object], expected: object) -> None:
        check_options(self.name, options, self.OPTIONS)
        if not isinstance(expected, str):
            raise ValueError("scorer 'regex' needs expected as a regular expression string")
        try:
            _compiled(expected, bool(options.get("ignore_case")))
        except re.error as error:
            raise ValueError(f"expected is not a valid regular expression: {error}") from None

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score:
        assert isinstance(expected, str)
        pattern = _compiled(expected, bool(options.get("ignore_case")))
        text = actual if isinstance(actual, str) else str(actual)
        match = pattern.fullmatch(text) if options.get("fullmatch") else pattern.search(text)
        how = "match" if options.get("fullmatch") else "contain a match for"
        return _verdict(match is not None, f"does not {how} /{expected}/")


@lru_cache(maxsize=1024)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


class NumberScorer:
    """Numbers equal within ``abs`` (absolute) or ``rel`` (relative) tolerance; exact if none."""

    name = "number"
    OPTIONS: Final = {"abs": _NUMBER, "rel": _NUMBER}

    def validate(self, options: Mapping[str, object], expected: object) -> None:
        check_options(self.name, options, self.OPTIONS)
        if _number(expected) is None:
            raise ValueError(f"scorer 'number' needs a number as expected, got {expected!r}")

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score:
        want, got = _number(expected), _number(actual)
        assert want is not None
        if got is None:
            return _verdict(False, f"actual {actual!r} is not a number")
        tolerance_abs = float(options.get("abs", 0.0))  # type: ignore[arg-type]
        tolerance_rel = float(options.get("rel", 0.0))  # type: ignore[arg-type]
        close = math.isclose(got, want, rel_tol=tolerance_rel, abs_tol=tolerance_abs)
        return _verdict(
            close, f"off by {abs(got - want):g} (abs {tolerance_abs:g}, rel {tolerance_rel:g})"
        )


def _number(value: object) -> float | None:
    """A number, or a string holding one (targets that print); booleans are not numbers."""
    if _is_number(value):
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


class JsonScorer:
    """JSON equality; ``subset`` lets actual have extra keys, ``ignore`` skips dotted paths.

    A path is dotted keys and list indexes (``items.0.id``); ``*`` matches any one key or index.
    A string actual (or expected) is parsed as JSON first.
    """

    name = "json"
    OPTIONS: Final = {"subset": _BOOL, "ignore": _TEXTS}

    def validate(self, options: Mapping[str, object], expected: object) -> None:
        check_options(self.name, options, self.OPTIONS)
        if isinstance(expected, str):
            try:
                json.loads(expected)
            except ValueError as error:
                raise ValueError(f"expected is a string but not JSON: {error}") from None

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score:
        try:
            got = json.loads(actual) if isinstance(actual, str) else actual
        except ValueError as error:
            return _verdict(False, f"actual is not JSON: {error}")
        want = json.loads(expected) if isinstance(expected, str) else expected
        ignore = [tuple(p.split(".")) for p in options.get("ignore", [])]  # type: ignore[attr-defined]
        difference = json_difference(want, got, (), bool(options.get("subset")), ignore)
        return _verdict(difference is None, difference or "")


def json_difference(
    want: object,
    got: object,
    path: tuple[str, ...],
    subset: bool,
    ignore: Sequence[tuple[str, ...]],
) -> str | None:
    """The first difference between ``want`` and ``got`` as a sentence, or None if they match."""
    if any(_matches(pattern, path) for pattern in ignore):
        return None
    if isinstance(want, dict) and isinstance(got, dict):
        return _dict_difference(want, got, path, subset, ignore)
    if isinstance(want, list) and isinstance(got, list):
        return _list_difference(want, got, path, subset, ignore)
    return _scalar_difference(want, got, path)


def _scalar_difference(want: object, got: object, path: tuple[str, ...]) -> str | None:
    # 1 == True in Python, but not in JSON: the types must agree (any two numbers do).
    same_kind = type(want) is type(got) or (_is_number(want) and _is_number(got))
    if want != got or not same_kind:
        return f"at {_where(path)}: expected {want!r}, got {got!r}"
    return None


def _where(path: tuple[str, ...]) -> str:
    return ".".join(path) or "the top level"


def _list_difference(
    want: list[object],
    got: list[object],
    path: tuple[str, ...],
    subset: bool,
    ignore: Sequence[tuple[str, ...]],
) -> str | None:
    if len(want) != len(got):
        return f"at {_where(path)}: expected {len(want)} items, got {len(got)}"
    for index, (w, g) in enumerate(zip(want, got, strict=True)):
        found = json_difference(w, g, (*path, str(index)), subset, ignore)
        if found:
            return found
    return None


def _dict_difference(
    want: dict[str, object],
    got: dict[str, object],
    path: tuple[str, ...],
    subset: bool,
    ignore: Sequence[tuple[str, ...]],
) -> str | None:
    keys = _key_difference(want, got, path, subset, ignore)
    if keys:
        return keys
    for key, value in want.items():
        if key in got:
            found = json_difference(value, got[key], (*path, str(key)), subset, ignore)
            if found:
                return found
    return None


def _key_difference(
    want: dict[str, object],
    got: dict[str, object],
    path: tuple[str, ...],
    subset: bool,
    ignore: Sequence[tuple[str, ...]],
) -> str | None:
    kept = _unignored([*want, *got], path, ignore)
    missing = [k for k in kept if k not in got]
    if missing:
        return f"at {_where(path)}: missing key {missing[0]!r}"
    extra = [k for k in kept if k not in want]
    if extra and not subset:
        return f"at {_where(path)}: unexpected key {extra[0]!r}"
    return None


def _unignored(
    keys: Sequence[str], path: tuple[str, ...], ignore: Sequence[tuple[str, ...]]
) -> list[str]:
    return [k for k in keys if not any(_matches(p, (*path, k)) for p in ignore)]


def _matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return len(pattern) == len(path) and all(
        p in ("*", s) for p, s in zip(pattern, path, strict=True)
    )


class CustomScorer:
    """A project's own callable ``function(expected, actual)`` (``module:function``).

    It returns a bool, a number (passes at ``min_score``, default 1.0), a :class:`Score`, a
    mapping with ``passed``/``score``/``explanation``, or a ``(bool or number, explanation)`` pair.
    """

    name = "custom"
    OPTIONS: Final = {"function": _TEXT, "min_score": _NUMBER}

    def validate(self, options: Mapping[str, object], expected: object) -> None:
        check_options(self.name, options, self.OPTIONS)
        function = options.get("function")
        if not isinstance(function, str):
            raise ValueError("scorer 'custom' needs option 'function: module:function'")
        try:
            callables.resolve(function)
        except ValueError as error:
            raise ValueError(f"scorer 'custom' function: {error}") from None

    def score(self, expected: object, actual: object, options: Mapping[str, object]) -> Score:
        function = callables.resolve(str(options["function"]))
        minimum = float(options.get("min_score", 1.0))  # type: ignore[arg-type]
        return to_score(function(expected, actual), minimum)


def to_score(value: object, minimum: float) -> Score:
    """Interpret what a custom scorer returned; raises ``TypeError`` for anything else."""
    if isinstance(value, Score):
        return value
    if isinstance(value, bool):
        return _verdict(value, "the custom scorer returned False")
    if _is_number(value):
        number = float(value)  # type: ignore[arg-type]
        return Score(number >= minimum, number, f"score {number:g} below {minimum:g}")
    if isinstance(value, Mapping) and ("passed" in value or "score" in value):
        base = to_score(value.get("passed", value.get("score")), minimum)
        value_ = value.get("score", base.value)
        explanation = str(value.get("explanation", base.explanation))
        return Score(base.passed, float(value_), explanation)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        base = to_score(value[0], minimum)
        return Score(base.passed, base.value, value[1])
    raise TypeError(
        f"the custom scorer returned {value!r}; return a bool, a number, a Score, a mapping "
        "with 'passed'/'score'/'explanation' or a (verdict, explanation) pair"
    )


BUILTIN_SCORERS: Final[tuple[type, ...]] = (
    ExactScorer,
    ContainsScorer,
    RegexScorer,
    NumberScorer,
    JsonScorer,
    CustomScorer,
)


def builtin_scorers() -> list[Scorer]:
    """Fresh instances of the built-in scorers (registered through the hook)."""
    return [cls() for cls in BUILTIN_SCORERS]
