"""Eval datasets: YAML files naming a target, a scorer, a threshold and their cases.

Cases are inline (``cases: [...]``) or in a JSONL file beside the YAML (``cases: big.jsonl``).
Everything is validated on load; a bad dataset raises :class:`DatasetError` whose message names
the file and the case or line at fault.

PyYAML parses the YAML: it is the reference YAML parser for Python, ships a C-accelerated loader
used here when available, and its node tree gives the line of every inline case.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NoReturn

import yaml

from gatekeeper.errors import UsageError
from gatekeeper.evals import callables
from gatekeeper.evals.scorers import Registry
from gatekeeper.project.paths import SKIP_DIRS, relative

SUFFIXES: Final = (".yaml", ".yml")
DATASET_KEYS: Final = frozenset(
    {"target", "scorer", "threshold", "cases", "repeats", "must_pass", "description"}
)
# A YAML file under the eval paths is a dataset when it has any of these keys (``description`` is
# too common to say so); a file with one of them is held to being a valid dataset.
CLAIM_KEYS: Final = DATASET_KEYS - {"description"}
CASE_KEYS: Final = frozenset(
    {"id", "input", "expected", "scorer", "tags", "flaky", "repeats", "must_pass", "description"}
)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DatasetError(UsageError):
    """A dataset cannot be used; the message names the file and the case or line."""


@dataclass(frozen=True, slots=True)
class ScorerSpec:
    """A scorer with its options; ``digest`` identifies this exact configuration."""

    name: str
    options: Mapping[str, object] = field(default_factory=dict)
    digest: str = ""

    @classmethod
    def of(cls, name: str, options: Mapping[str, object] | None = None) -> ScorerSpec:
        options = dict(options or {})
        return cls(name, options, digest({"name": name, "options": options}))


@dataclass(frozen=True, slots=True)
class Case:
    """One scenario. ``source`` and ``line`` say where it is written (YAML or JSONL file)."""

    id: str
    input: object
    expected: object
    scorer: ScorerSpec
    source: str
    line: int
    tags: tuple[str, ...] = ()
    flaky: bool = False
    repeats: int = 1
    must_pass: int = 1
    digest: str = ""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A loaded, validated dataset. ``path`` is relative to the project root, POSIX style."""

    path: str
    target: str
    threshold: float
    cases: tuple[Case, ...]
    digest: str


def digest(value: object) -> str:
    """A stable content hash of a JSON-like value (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def discover(root: Path, paths: Iterable[str]) -> list[Path]:
    """Every dataset file under ``paths`` (relative to ``root``), sorted; missing paths are none.
    YAML files that are not datasets (:func:`not_a_dataset`) are left out."""
    found: set[Path] = set()
    for entry in paths:
        target = root / entry
        if target.is_file() and target.suffix in SUFFIXES:
            found.add(target)
        elif target.is_dir():
            found.update(p for p in _walk(target) if p.suffix in SUFFIXES)
    return sorted(path for path in found if not_a_dataset(path) is None)


def _walk(directory: Path) -> Iterator[Path]:
    for path in directory.rglob("*"):
        parts = path.relative_to(directory).parts
        if path.is_file() and not any(p in SKIP_DIRS or p.startswith(".") for p in parts):
            yield path


def in_paths(path: Path, root: Path, paths: Iterable[str]) -> bool:
    """Whether ``path`` is a YAML file at or under one of ``paths`` (relative to ``root``)."""
    if path.suffix not in SUFFIXES:
        return False
    resolved = path.resolve()
    for entry in paths:
        base = (root / entry).resolve()
        if resolved == base or base in resolved.parents:
            return True
    return False


def not_a_dataset(path: Path) -> str | None:
    """Why the YAML file at ``path`` is not an eval dataset; None when it is one, or claims to
    be (a mapping with any of :data:`CLAIM_KEYS`), or cannot be told apart from one (unreadable
    or malformed YAML): :func:`load` then says what is wrong with it."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if document is None:
        return "empty"
    if not isinstance(document, dict):
        return f"not a mapping (a {type(document).__name__})"
    if CLAIM_KEYS.isdisjoint(document):
        keys = ", ".join(sorted(str(k) for k in document)[:3]) or "none"
        return f"none of the keys {', '.join(sorted(CLAIM_KEYS))} (it has {keys})"
    return None


def load(path: Path, root: Path, scorers: Registry) -> Dataset:
    """Read and validate the dataset at ``path``; raises :class:`DatasetError`."""
    name = relative(path, root)
    text = _read(path, name)
    document, lines = _parse_yaml(text, name)
    table = _require_mapping(document, name)
    reader = _Reader(name, scorers)
    target = reader.target(table)
    threshold = reader.threshold(table)
    defaults = reader.defaults(table)
    raw_cases, sources, extra_text = _raw_cases(table, path, name, lines, root)
    cases = reader.cases(raw_cases, sources, defaults, target)
    content = hashlib.sha256((text + extra_text).encode()).hexdigest()[:16]
    return Dataset(name, target, threshold, cases, content)


def repeats_anywhere(root: Path, paths: Iterable[str]) -> bool:
    """Whether any dataset under ``paths`` runs a case more than once (``repeats`` other than 1
    on the dataset or on a case). Read before the session collects, so a pass of a
    nondeterministic target is never reused; a dataset that cannot be read counts as repeated
    (collection reports what is wrong with it)."""
    for path in discover(root, paths):
        try:
            if _repeated(path, root):
                return True
        except DatasetError:
            return True
    return False


def _repeated(path: Path, root: Path) -> bool:
    name = relative(path, root)
    document, _ = _parse_yaml(_read(path, name), name)
    table = _require_mapping(document, name)
    raw_cases, _, _ = _raw_cases(table, path, name, [], root)
    return any(
        not isinstance(value, dict) or value.get("repeats", 1) != 1 for value in (table, *raw_cases)
    )


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{name}: cannot read the dataset ({error}).") from None


def _parse_yaml(text: str, name: str) -> tuple[object, list[int]]:
    """The document and the line of each inline case (from PyYAML's node tree)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        document = _Loader("").construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise DatasetError(f"{name}{where}: malformed YAML ({problem}). Fix the file.") from None
    return document, _case_lines(node)


def _case_lines(node: yaml.Node | None) -> list[int]:
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "cases" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _require_mapping(document: object, name: str) -> dict[str, object]:
    if not isinstance(document, dict):
        raise DatasetError(
            f"{name}: a dataset must be a mapping with target, scorer, threshold and cases."
        )
    unknown = sorted(str(k) for k in document if k not in DATASET_KEYS)
    if unknown:
        raise DatasetError(f"{name}: unknown key {unknown[0]!r}.{_hint(unknown[0], DATASET_KEYS)}")
    return document


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(sorted(choices))}."


def _raw_cases(
    table: Mapping[str, object], path: Path, name: str, lines: list[int], root: Path
) -> tuple[list[object], list[tuple[str, int]], str]:
    """The raw case values, where each is written, and the extra file's text (for the hash)."""
    cases = table.get("cases")
    if isinstance(cases, list):
        lines = lines if len(lines) == len(cases) else [0] * len(cases)
        return cases, [(name, line) for line in lines], ""
    if isinstance(cases, str):
        return _jsonl_cases(path.parent / cases, root, name)
    raise DatasetError(
        f"{name}: 'cases' must be a list of cases or the name of a JSONL file beside the dataset."
    )


def _jsonl_cases(
    path: Path, root: Path, dataset: str
) -> tuple[list[object], list[tuple[str, int]], str]:
    name = relative(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{dataset}: cannot read its cases file {name} ({error}).") from None
    cases: list[object] = []
    sources: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(json.loads(line))
        except ValueError as error:
            raise DatasetError(f"{name} line {number}: not valid JSON ({error}).") from None
        sources.append((name, number))
    return cases, sources, text


@dataclass(frozen=True, slots=True)
class _Defaults:
    """Dataset-level settings a case inherits unless it overrides them."""

    scorer: ScorerSpec
    repeats: int
    must_pass: int | None  # None: not set, so every run of a case must pass


class _Reader:
    """Validates a dataset's keys and cases, naming the file and case in every error."""

    def __init__(self, name: str, scorers: Registry) -> None:
        self.name = name
        self.scorers = scorers

    def fail(self, message: str, where: tuple[str, int] | None = None, case: str = "") -> NoReturn:
        source, line = where or (self.name, 0)
        at = f" line {line}" if line else ""
        what = f" case {case!r}" if case else ""
        raise DatasetError(f"{source}{at}:{what} {message}")

    def target(self, table: Mapping[str, object]) -> str:
        target = table.get("target")
        if not isinstance(target, str):
            self.fail("'target' must name the callable under test as 'module:function'.")
        assert isinstance(target, str)
        try:
            callables.resolve(target)
        except ValueError as error:
            self.fail(f"target {target!r} is not importable: {error}.")
        return target

    def threshold(self, table: Mapping[str, object]) -> float:
        value = table.get("threshold")
        if not _is_number(value) or not 0 <= float(value) <= 1:  # type: ignore[arg-type]
            self.fail(f"'threshold' must be the minimum pass rate, 0 to 1, got {value!r}.")
        return float(value)  # type: ignore[arg-type]

    def defaults(self, table: Mapping[str, object]) -> _Defaults:
        spec = self.scorer(table.get("scorer", "exact"))
        repeats = self.count(table, "repeats", 1)
        if "must_pass" not in table:
            return _Defaults(spec, repeats, None)
        must_pass = self.count(table, "must_pass", repeats)
        if must_pass > repeats:
            self.fail(f"must_pass {must_pass} is more than repeats {repeats}.")
        return _Defaults(spec, repeats, must_pass)

    def scorer(
        self, value: object, where: tuple[str, int] | None = None, case: str = ""
    ) -> ScorerSpec:
        if isinstance(value, str):
            spec = ScorerSpec.of(value)
        elif isinstance(value, dict) and isinstance(value.get("name"), str):
            spec = ScorerSpec.of(value["name"], {k: v for k, v in value.items() if k != "name"})
        else:
            self.fail("'scorer' must be a scorer name or a mapping with 'name'.", where, case)
        if self.scorers.get(spec.name) is None:
            self.fail(
                f"unknown scorer {spec.name!r}.{_hint(spec.name, self.scorers.names())}",
                where,
                case,
            )
        return spec

    def count(
        self,
        table: Mapping[str, object],
        key: str,
        default: int,
        where: tuple[str, int] | None = None,
        case: str = "",
    ) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.fail(f"{key!r} must be a whole number of at least 1, got {value!r}.", where, case)
        return value

    def cases(
        self,
        raw: Sequence[object],
        sources: Sequence[tuple[str, int]],
        defaults: _Defaults,
        target: str,
    ) -> tuple[Case, ...]:
        if not raw:
            self.fail("has no cases; a dataset needs at least one.")
        seen: dict[str, tuple[str, int]] = {}
        cases = []
        for value, where in zip(raw, sources, strict=True):
            case = self.case(value, where, defaults, target)
            if case.id in seen:
                first = seen[case.id]
                self.fail(
                    f"duplicate case id (first at {first[0]} line {first[1]}).", where, case.id
                )
            seen[case.id] = where
            cases.append(case)
        return tuple(cases)

    def case(self, value: object, where: tuple[str, int], defaults: _Defaults, target: str) -> Case:
        if not isinstance(value, dict):
            self.fail("a case must be a mapping with id, input and expected.", where)
        assert isinstance(value, dict)
        case_id = self.case_id(value, where)
        self.case_keys(value, where, case_id)
        spec = self.scorer(value["scorer"], where, case_id) if "scorer" in value else None
        spec = spec or defaults.scorer
        self.validate_scorer(spec, value["expected"], where, case_id)
        repeats = self.count(value, "repeats", defaults.repeats, where, case_id)
        # Without must_pass anywhere a case passes all of its runs; the dataset's must_pass
        # applies to a case that repeats less only up to its own number of runs.
        fallback = repeats if defaults.must_pass is None else min(defaults.must_pass, repeats)
        must_pass = self.count(value, "must_pass", fallback, where, case_id)
        if must_pass > repeats:
            self.fail(f"must_pass {must_pass} is more than repeats {repeats}.", where, case_id)
        return Case(
            id=case_id,
            input=value["input"],
            expected=value["expected"],
            scorer=spec,
            source=where[0],
            line=where[1],
            tags=self.tags(value.get("tags", []), where, case_id),
            flaky=self.flag(value.get("flaky", False), where, case_id),
            repeats=repeats,
            must_pass=must_pass,
            digest=digest([target, value["input"], value["expected"], repeats, must_pass]),
        )

    def case_keys(self, value: Mapping[str, object], where: tuple[str, int], case: str) -> None:
        unknown = sorted(str(k) for k in value if k not in CASE_KEYS)
        if unknown:
            self.fail(f"unknown key {unknown[0]!r}.{_hint(unknown[0], CASE_KEYS)}", where, case)
        for key in ("input", "expected"):
            if key not in value:
                self.fail(f"has no {key!r}.", where, case)

    def case_id(self, value: Mapping[str, object], where: tuple[str, int]) -> str:
        case_id = value.get("id")
        if isinstance(case_id, bool) or not isinstance(case_id, str | int) or str(case_id) == "":
            self.fail("a case needs an 'id' (a non-empty string or number).", where)
        text = str(case_id)
        if "::" in text or text != text.strip():
            self.fail("a case id must not contain '::' or surrounding spaces.", where, text)
        return text

    def validate_scorer(
        self, spec: ScorerSpec, expected: object, where: tuple[str, int], case: str
    ) -> None:
        scorer = self.scorers.get(spec.name)
        assert scorer is not None
        try:
            scorer.validate(spec.options, expected)
        except ValueError as error:
            self.fail(f"{error}.", where, case)

    def tags(self, value: object, where: tuple[str, int], case: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            self.fail("'tags' must be a list of strings.", where, case)
        return tuple(value)

    def flag(self, value: object, where: tuple[str, int], case: str) -> bool:
        if not isinstance(value, bool):
            self.fail(f"'flaky' must be true or false, got {value!r}.", where, case)
        return bool(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
