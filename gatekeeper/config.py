"""``[tool.gatekeeper]``: one declarative table of every key, read and checked in one place.

Every key is an :class:`Option`. The table drives reading ``pyproject.toml``, the mirrored
``--gatekeeper-*`` command-line options, validation (types, unknown keys, typo suggestions) and
the configuration reference in ``docs/configuration.md``. Nothing here imports a check or a tool,
so the pytest plugin can build its options without paying for the gate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Final, Literal

from gatekeeper.errors import ConfigError
from gatekeeper.redaction import insecure_endpoint, redact

Kind = Literal["bool", "int", "float", "str", "list"]

PYPROJECT: Final = "pyproject.toml"
BUILTIN_CHECKS: Final = ("tests", "coverage", "lint", "types", "complexity", "evals")


@dataclass(frozen=True, slots=True)
class Option:
    """One configuration key. ``key`` is dotted (``coverage.fail-under``) unless top-level.

    ``rule`` checks a value of the right type further: it returns why the value is refused, or
    None.
    """

    key: str
    kind: Kind
    default: object
    help: str
    choices: tuple[str, ...] = ()
    nullable: bool = False
    maximum: float | None = None  # the largest value that means anything (a percentage: 100)
    rule: Callable[[object], str | None] | None = None

    @property
    def section(self) -> str:
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.key.rpartition(".")[2]

    @property
    def flag(self) -> str:
        """The command-line flag; a boolean flag names the non-default value."""
        stem = self.key.replace(".", "-")
        if self.kind == "bool" and self.default is True:
            return f"--gatekeeper-no-{stem}"
        return f"--gatekeeper-{stem}"

    @property
    def dest(self) -> str:
        return "gatekeeper_" + self.key.replace(".", "_").replace("-", "_")

    @property
    def display(self) -> str:
        """How the key is written in ``pyproject.toml``, for messages."""
        if not self.section:
            return f"[tool.gatekeeper] {self.name}"
        return f"[tool.gatekeeper.{self.section}] {self.name}"


def _https_only(value: object) -> str | None:
    """The API key travels with every request: never in clear over a network."""
    if isinstance(value, str) and insecure_endpoint(value):
        return (
            "must be an https URL, since the API key ($NEON_API_KEY) travels with every "
            "request; plain http is accepted only to a loopback host (127.0.0.1, ::1, "
            "localhost), where nothing leaves the machine"
        )
    return None


def _at_least_one(value: object) -> str | None:
    """A store that keeps no run would forget each run as soon as it is recorded."""
    if isinstance(value, int) and value < 1:
        return "must be at least 1 (turn recording off with record = false instead)"
    return None


# Variables that steer what pytest, Python, coverage or gatekeeper itself run: a gate that
# received them from the shell could be narrowed until it passes.
_STEERING: Final = ("PYTEST_", "PYTHON", "COVERAGE_", "GATEKEEPER_")


def _no_steering(value: object) -> str | None:
    """``pass-env`` never hands a gate a variable that changes what it runs."""
    names = value if isinstance(value, list) else []
    steering = [name for name in names if isinstance(name, str) and name.startswith(_STEERING)]
    if not steering:
        return None
    return (
        f"lists {', '.join(steering)}, which would let the shell steer what the gate runs "
        f"(no variable starting with {', '.join(_STEERING)} may be passed); remove "
        f"{'it' if len(steering) == 1 else 'them'} from the list"
    )


def _inside_project(value: object) -> str | None:
    """The baseline is the tree's own: a gate in a temporary worktree must not judge against a
    file beside it (an absolute path, or one whose ``..`` leaves the project's root)."""
    if not isinstance(value, str):
        return None
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or PureWindowsPath(value).is_absolute():
        return "is an absolute path; it must be a path inside the project, relative to its root"
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return "leaves the project's root; it must be a path inside the project"
    return None


# mypy's options that choose where its cache is read from (argparse takes any unique prefix of
# a long option); gatekeeper checks one cache per worktree for edits mypy would miss.
_MYPY_CACHE_OPTIONS: Final = ("--cache-dir", "--cache-map")
_SHORTEST_PREFIX: Final = len("--cache-d")


def _own_mypy_cache(value: object) -> str | None:
    """``types.args`` never points mypy at a cache gatekeeper does not check
    (gatekeeper.checks.mypycache), nor hides its options in an argument file (``@file``)."""
    for arg in value if isinstance(value, list) else []:
        name = str(arg).partition("=")[0]
        if str(arg).startswith("@"):
            return (
                f"holds {arg!r}, a file of arguments whose options gatekeeper cannot check; "
                "list them in args itself"
            )
        chosen = [full for full in _MYPY_CACHE_OPTIONS if full.startswith(name)]
        if len(name) >= _SHORTEST_PREFIX and chosen:
            return (
                f"holds {name!r}: mypy's cache is gatekeeper's own, one per worktree, checked "
                "for edits mypy would take as unchanged; remove it from args"
            )
    return None


def check_options(
    check: str,
    *,
    timeout: float | None,
    args_rule: Callable[[object], str | None] | None = None,
) -> tuple[Option, ...]:
    """The keys every check has: ``timeout`` (seconds, 0 for none) and extra ``args``
    (checked by ``args_rule``)."""
    return (
        Option(
            f"{check}.timeout",
            "float",
            timeout,
            f"Seconds the {check} check may run before it is stopped and reported as an error.",
            nullable=True,
        ),
        Option(
            f"{check}.args",
            "list",
            [],
            f"Extra arguments passed to the {check} tool.",
            rule=args_rule,
        ),
    )


CORE_OPTIONS: Final[tuple[Option, ...]] = (
    Option(
        "paths",
        "list",
        [],
        "Source paths measured by coverage, types and complexity. Default: the packages under "
        "src/, else the top-level packages.",
    ),
    Option(
        "checks",
        "list",
        list(BUILTIN_CHECKS),
        "The checks that run; every one of them must pass.",
    ),
    Option(
        "report",
        "str",
        ".gatekeeper/report.json",
        "Where the JSON report is written, relative to the worktree root.",
    ),
    Option("plugins", "list", [], "Extra modules to load as gatekeeper plugins (checks)."),
    # -- ci: CI report formats (reports/formats.py) ------------------------------------------
    Option(
        "report-format",
        "list",
        [],
        "Extra reports beside the JSON one: github (annotations and step summary), sarif, "
        "junit. Default: all three when GITHUB_ACTIONS=true, none otherwise.",
        choices=("github", "sarif", "junit"),
    ),
    # -- end ci ----------------------------------------------------------------------------
    Option(
        "coverage.fail-under",
        "float",
        None,
        "Minimum total coverage in percent. Default: coverage's own fail_under, else report only.",
        nullable=True,
        maximum=100.0,
    ),
    Option(
        "complexity.max",
        "int",
        10,
        "Highest cyclomatic complexity a function may have.",
    ),
    Option("complexity.paths", "list", [], "Paths measured for complexity. Default: paths."),
    Option("lint.paths", "list", ["."], "Paths ruff checks; ruff's own include/exclude apply."),
    Option("lint.format", "bool", True, "Also run `ruff format --check`."),
    Option(
        "lint.ruff-version",
        "str",
        "",
        "The ruff version the project pins, when its pre-commit config, lock file or "
        "requirements do not say (docs/configuration.md: which ruff judges).",
    ),
    Option(
        "types.paths",
        "list",
        [],
        "Paths mypy checks. Default: the `files` of the project's mypy configuration, else paths.",
    ),
    # -- scope, baseline, cache (docs/adopting.md) ------------------------------------------
    Option(
        "scope",
        "str",
        "all",
        "Which findings of lint, types and complexity count: `all`, or only those in files "
        "`changed` since the merge-base with `base`.",
        choices=("all", "changed"),
    ),
    Option(
        "base",
        "str",
        None,
        "The base branch for `scope = changed` and diff coverage. Default: the remote's HEAD "
        "branch, else main, else master.",
        nullable=True,
    ),
    Option(
        "baseline",
        "str",
        ".gatekeeper/baseline.json",
        "The baseline file (written by `gatekeeper baseline`), relative to the project root "
        "and inside it.",
        rule=_inside_project,
    ),
    Option(
        "cache",
        "bool",
        True,
        "Reuse a check's passing result when the same content was already judged.",
    ),
    # -- trust: what gates in temporary worktrees receive from the shell (docs/trust.md) --
    Option(
        "pass-env",
        "list",
        [],
        "Variables the pre-push hook, integrate and land pass to their gate besides the fixed "
        "list (PATH, HOME, LANG, LC_*, TZ, ...): names only, values from your shell. For what "
        "your CI job sets too, such as a database URL; never a variable that steers pytest, "
        "Python, coverage or gatekeeper (PYTEST_*, PYTHON*, COVERAGE_*, GATEKEEPER_*).",
        rule=_no_steering,
    ),
    Option(
        "coverage.diff-fail-under",
        "float",
        None,
        "Minimum coverage in percent of the changed executable lines, judged line by line.",
        nullable=True,
        maximum=100.0,
    ),
    # -- end of scope, baseline, cache ------------------------------------------------------
    # -- isolation: ports and databases per worker (gatekeeper.resources) --
    Option("ports.first", "int", 20000, "Lowest port handed to workers and `gatekeeper port`."),
    Option("ports.last", "int", 29999, "Highest port handed to workers and `gatekeeper port`."),
    Option(
        "database.backend",
        "str",
        "sqlite",
        "Where per-worker databases live: sqlite, postgres, neon (or a registered backend).",
    ),
    Option(
        "database.url",
        "str",
        "",
        "PostgreSQL admin connection URL (default: $GATEKEEPER_DATABASE_URL).",
    ),
    Option(
        "database.setup",
        "str",
        "",
        "Command that fills the template database; run with DATABASE_URL set to it.",
    ),
    Option(
        "database.inputs",
        "list",
        [],
        "Glob patterns of the files the template is built from (e.g. migrations); a change "
        "rebuilds it. Unset: any change to a file git would commit rebuilds it.",
    ),
    Option(
        "database.prepare",
        "bool",
        True,
        "While a session starts, clone the built template once per worker (PostgreSQL), so "
        "each worker's fixture takes a database that is ready.",
    ),
    Option(
        "database.ttl",
        "float",
        86400.0,
        "Seconds after which a sweep removes a database even if its owner cannot be judged.",
    ),
    # -- neon: the Neon database backend (resources/databases/neon.py) --
    Option(
        "database.neon-project",
        "str",
        "",
        "Neon project id (backend = neon); the API key is read from $NEON_API_KEY only.",
    ),
    Option(
        "database.neon-parent",
        "str",
        "",
        "Neon branch id every branch is made from. Default: the project's default branch.",
    ),
    Option(
        "database.neon-mode",
        "str",
        "database",
        "`database`: one branch per run, a database per worker in it; `branch`: a branch per "
        "worker (free plans cap a project's branches).",
        choices=("database", "branch"),
    ),
    Option("database.neon-role", "str", "neondb_owner", "Neon role that owns and connects."),
    Option(
        "database.neon-database",
        "str",
        "neondb",
        "Database each worker uses inside its own branch (neon-mode = branch).",
    ),
    Option(
        "database.neon-api",
        "str",
        "https://console.neon.tech/api/v2",
        "Base URL of Neon's HTTP API; https only (plain http only to a loopback host).",
        rule=_https_only,
    ),
    # -- end neon --
    # -- end isolation --
    # -- evals (golden datasets) --
    Option(
        "evals.paths",
        "list",
        ["evals"],
        "Directories (or files) holding the eval datasets (*.yaml, *.yml), relative to the "
        "project root.",
    ),
    Option(
        "evals.baseline",
        "str",
        "evals/baseline.json",
        "The committed baseline of eval results, written by `gatekeeper evals baseline`, "
        "relative to the project root and inside it.",
        rule=_inside_project,
    ),
    # -- end evals --
    # -- integration (docs/integration.md) --
    Option(
        "integrate",
        "bool",
        False,
        "After the branch passes, also gate its merge onto `base` unless it already contains "
        "the base's tip; the verdict covers both.",
    ),
    # -- end integration --
    # -- pre-push merge gate (docs/ci.md) --
    Option(
        "push-merge",
        "bool",
        True,
        "The pre-push hook gates each pushed commit merged onto the remote's base (unless it "
        "already contains the base's tip); false: the commit alone. Read from the pushed commit.",
    ),
    # -- end pre-push merge gate --
    # -- worktrees: `gatekeeper worktree new/list/rm/adopt` (docs/worktrees.md) --
    Option(
        "worktree.copy",
        "list",
        [],
        "Glob patterns of untracked files copied from the current checkout into a new "
        "worktree (e.g. .env); each must match a real file inside the repository.",
    ),
    Option(
        "worktree.ports",
        "list",
        [],
        "Names of the ports reserved for each worktree (GATEKEEPER_PORT_<NAME> in its env file).",
    ),
    Option(
        "worktree.setup",
        "list",
        [],
        "Shell commands run inside a new worktree, in order; each must succeed.",
    ),
    Option(
        "worktree.location",
        "str",
        "../{repo}-{name}",
        "Where new worktrees go, relative to the main checkout; {repo} is its directory name, "
        "{name} the worktree's. Never inside the main checkout.",
    ),
    # -- end worktrees --
    # -- history: every gate run recorded for the floor view (docs/floor.md) --
    Option(
        "history.record",
        "bool",
        True,
        "Record every gate run in the repository's history (SQLite in the git common dir), "
        "which `gatekeeper status` reads.",
    ),
    Option(
        "history.keep-days",
        "float",
        90.0,
        "Days a recorded run is kept; 0 keeps runs of any age (keep-runs still bounds the store).",
    ),
    Option(
        "history.keep-runs",
        "int",
        10000,
        "The most runs kept, newest first: bounds the store's size whatever their age.",
        rule=_at_least_one,
    ),
    # -- end history --
    # -- sharding: `--gatekeeper-shard I/N` and `gatekeeper combine` (docs/ci.md) --
    Option(
        "shard.durations",
        "str",
        ".gatekeeper/durations.json",
        "The per-test durations (pytest-split's format) that balance the shards, relative to "
        "the worktree root; `gatekeeper combine --durations-out` writes a new one.",
    ),
    # -- end sharding --
    *check_options("lint", timeout=300.0),
    *check_options("types", timeout=900.0, args_rule=_own_mypy_cache),
    *check_options("complexity", timeout=300.0)[
        :1
    ],  # radon is driven through its API: no tool arguments
)
_CORE: Final = {option.key: option for option in CORE_OPTIONS}


@dataclass(frozen=True, slots=True)
class Table:
    """The set of known options: the core ones plus those plugin checks declare."""

    options: tuple[Option, ...] = CORE_OPTIONS
    checks: tuple[str, ...] = BUILTIN_CHECKS

    def extended(self, check: str, extra: Iterable[Option]) -> Table:
        """This table plus a (plugin) check and the options it declares."""
        known = {option.key for option in self.options}
        options = self.options + tuple(o for o in extra if o.key not in known)
        checks = self.checks if check in self.checks else (*self.checks, check)
        return Table(options, checks)

    def by_key(self) -> dict[str, Option]:
        return {option.key: option for option in self.options}

    def sections(self) -> set[str]:
        return {option.section for option in self.options if option.section}


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective configuration: every key of the table with its value, and its source."""

    values: Mapping[str, object]
    root: Path
    source: Path | None = None
    explicit: frozenset[str] = field(default_factory=frozenset)
    overridden: frozenset[str] = field(default_factory=frozenset)  # set on the command line

    def get(self, key: str) -> object:
        return self.values[key]

    def flag(self, key: str) -> bool:
        value = self.values[key]
        assert isinstance(value, bool), key
        return value

    def integer(self, key: str) -> int:
        value = self.values[key]
        assert isinstance(value, int), key
        return value

    def number(self, key: str) -> float | None:
        value = self.values[key]
        assert value is None or isinstance(value, int | float), key
        return None if value is None else float(value)

    def text(self, key: str) -> str:
        value = self.values[key]
        assert isinstance(value, str), key
        return value

    def strings(self, key: str) -> list[str]:
        value = self.values[key]
        assert isinstance(value, list), key
        return [str(item) for item in value]

    def section(self, name: str) -> dict[str, object]:
        """The keys of one check's section, for cache keys and reports."""
        prefix = f"{name}."
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}

    def as_dict(self) -> dict[str, object]:
        """Nested like the TOML table, for the JSON report."""
        nested: dict[str, object] = {}
        for key, value in sorted(self.values.items()):
            section, _, name = key.rpartition(".")
            target = nested
            if section:
                sub = nested.setdefault(section, {})
                assert isinstance(sub, dict)
                target = sub
            target[name] = value
        return nested


def given_options(namespace: object) -> dict[str, object]:
    """The ``--gatekeeper-*`` options given on a command line (``namespace``: the parsed
    options, pytest's or a command's), by configuration key."""
    given: dict[str, object] = {}
    for option in CORE_OPTIONS:
        value = getattr(namespace, option.dest, None)
        if option.kind == "bool":
            if value:
                given[option.key] = not option.default
        elif value is not None:
            given[option.key] = value
    return given


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding a pyproject.toml, else ``start``.

    The search never leaves the git worktree holding ``start`` (it stops at the folder with the
    ``.git`` entry): a ``pyproject.toml`` above it belongs to nobody's project, perhaps to
    another user (a temporary worktree under a shared folder), and its ``plugins`` would run as
    code in the gate.
    """
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / PYPROJECT).is_file():
            return candidate
        if (candidate / ".git").exists():
            break
    return start


def read_pyproject(root: Path) -> tuple[dict[str, object], Path | None]:
    """The raw ``[tool.gatekeeper]`` table of ``root/pyproject.toml`` (empty when absent)."""
    table, path = read_table(root)
    return (table if table is not None else {}), path


def read_table(root: Path) -> tuple[dict[str, object] | None, Path | None]:
    """The raw ``[tool.gatekeeper]`` table of ``root/pyproject.toml``: None when the file has
    none (an empty table is still the project opting in), and the file's path if it exists."""
    path = root / PYPROJECT
    if not path.is_file():
        return None, None
    import tomllib  # here, not at the top: plain pytest imports this module for its options

    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it as TOML ({error}). Fix the file.") from None
    tool = document.get("tool", {})
    table = tool.get("gatekeeper") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.gatekeeper] must be a table.")
    return table, path


def written(
    raw: Mapping[str, object], key: str, overrides: Mapping[str, object] | None = None
) -> object:
    """``key`` (a core option's) as the command line (``overrides``) or the raw
    ``[tool.gatekeeper]`` table ``raw`` gives it, else the option's default: the cheap read of a
    process that does not load the setup. A value of the wrong kind in the file gives the default
    too; validating it, and reporting it, is the loaded setup's."""
    option = _CORE[key]
    if overrides is not None and key in overrides:
        return overrides[key]
    holder = raw.get(option.section) if option.section else raw
    value = holder.get(option.name) if isinstance(holder, Mapping) else None
    return value if value is not None and _is_kind(option.kind, value) else option.default


def read_toml(path: Path) -> dict[str, object]:
    """Another tool's TOML file, read for what gatekeeper should know of it (a pinned version,
    a list of files): ``{}`` when it is missing or unreadable, which that tool reports itself."""
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def load(
    root: Path,
    table: Table = Table(),
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Read ``root/pyproject.toml``, validate it against ``table`` and apply ``overrides``.

    ``overrides`` maps dotted keys to raw command-line strings (or already typed values). Raises
    :class:`ConfigError` naming the file and key for anything unknown or of the wrong type.
    """
    raw, source = read_pyproject(root)
    where = str(source) if source else PYPROJECT
    flat = _flatten(raw, table, where)
    known = table.by_key()
    values: dict[str, object] = {}
    for key, option in known.items():
        values[key] = _validate(option, flat[key], where) if key in flat else option.default
    if "checks" not in flat:
        values["checks"] = list(table.checks)
    explicit = set(flat)
    for key, value in (overrides or {}).items():
        option = known[key]
        values[key] = _validate(option, _from_cli(option, value), f"command line {option.flag}")
        explicit.add(key)
    given = frozenset(overrides or {})
    settings = Settings(values, root, source, frozenset(explicit), given)
    checks_from = f"command line {table.by_key()['checks'].flag}" if "checks" in given else where
    _check_names(settings.strings("checks"), table.checks, checks_from)
    return settings


def _flatten(raw: Mapping[str, object], table: Table, where: str) -> dict[str, object]:
    known = table.by_key()
    sections = table.sections()
    flat: dict[str, object] = {}
    for name, value in raw.items():
        if name in sections and isinstance(value, dict):
            flat.update(_flatten_section(name, value, table, where))
        elif name in sections:
            raise ConfigError(
                f"{where}: [tool.gatekeeper.{name}] must be a table of keys (for example "
                f"[tool.gatekeeper.{name}] on a line of its own), got {value!r}."
            )
        elif name in known and not known[name].section:
            flat[name] = value
        else:
            choices = [o.key for o in table.options if not o.section] + sorted(sections)
            shown = (
                f"[tool.gatekeeper.{name}]"
                if isinstance(value, dict)
                else f"[tool.gatekeeper] {name}"
            )
            _unknown(f"key {shown}", name, choices, where)
    return flat


def _flatten_section(
    name: str, values: Mapping[str, object], table: Table, where: str
) -> dict[str, object]:
    known = table.by_key()
    for sub in values:
        if f"{name}.{sub}" not in known:
            choices = [o.name for o in table.options if o.section == name]
            _unknown(f"key [tool.gatekeeper.{name}] {sub}", sub, choices, where)
    return {f"{name}.{sub}": value for sub, value in values.items()}


def _unknown(shown: str, name: str, choices: Sequence[str], where: str) -> None:
    import difflib

    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else f" Known: {', '.join(choices)}."
    raise ConfigError(f"{where}: unknown {shown}.{hint}")


def _from_cli(option: Option, value: object) -> object:
    if not isinstance(value, str):
        return value
    if option.kind == "list":
        return [item.strip() for item in value.split(",") if item.strip()]
    if option.kind in ("int", "float"):
        try:
            return int(value) if option.kind == "int" else float(value)
        except ValueError:
            return value
    return value


_TYPE_NAMES: Final = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "list": "a list of strings",
}


def _is_kind(kind: Kind, value: object) -> bool:
    if isinstance(value, bool):
        return kind == "bool"
    return {
        "bool": False,
        "int": isinstance(value, int),
        "float": isinstance(value, int | float),
        "str": isinstance(value, str),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]


def _validate(option: Option, value: object, where: str) -> object:
    if value is None and option.nullable:
        return None
    if not _is_kind(option.kind, value):
        raise ConfigError(
            f"{where}: {option.display} must be {_TYPE_NAMES[option.kind]}, got {value!r}."
        )
    _check_choices(option, value, where)
    if option.kind == "float" and isinstance(value, int | float) and value < 0:
        raise ConfigError(f"{where}: {option.display} must not be negative, got {value!r}.")
    _check_maximum(option, value, where)
    refused = option.rule(value) if option.rule is not None else None
    if refused is not None:
        raise ConfigError(redact(f"{where}: {option.display} {refused}; got {value!r}."))
    return value


def _check_maximum(option: Option, value: object, where: str) -> None:
    """Refused before anything runs: a threshold no run can reach would fail every run, and
    only after the whole suite."""
    if option.maximum is None or not isinstance(value, int | float):
        return
    if value > option.maximum:
        raise ConfigError(
            f"{where}: {option.display} is {value:g}, above {option.maximum:g}, which no run can "
            f"reach; use a value from 0 to {option.maximum:g}."
        )


def _check_choices(option: Option, value: object, where: str) -> None:
    """An option with ``choices`` accepts only those (each item, for a list)."""
    items = value if isinstance(value, list) else [value]
    for item in items if option.choices else ():
        if item not in option.choices:
            raise ConfigError(
                f"{where}: {option.display} does not accept {item!r}. "
                f"Choose from: {', '.join(option.choices)}."
            )


def _check_names(names: Sequence[str], known: Sequence[str], where: str) -> None:
    """``checks`` may only name registered checks, each once."""
    for name in names:
        if name not in known:
            _unknown(f"check {name!r} in [tool.gatekeeper] checks", name, known, where)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(
            f"{where}: [tool.gatekeeper] checks names {', '.join(repeated)} more than once; "
            "name each check once."
        )
