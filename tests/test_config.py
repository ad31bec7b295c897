"""The configuration table: reading, validation, typo hints and command-line overrides."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatekeeper import config, plugins
from gatekeeper.errors import ConfigError
from tests.sources import callee, calls, library_modules


def write(root: Path, table: str) -> Path:
    (root / "pyproject.toml").write_text(table)
    return root


def test_zero_configuration_gives_defaults(tmp_path: Path) -> None:
    settings = config.load(tmp_path)
    assert settings.source is None
    assert settings.strings("checks") == list(config.BUILTIN_CHECKS)
    assert settings.integer("complexity.max") == 10
    assert settings.number("coverage.fail-under") is None
    assert settings.flag("lint.format") is True


def test_values_are_read_from_the_table(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[tool.gatekeeper]\npaths = ["src"]\nchecks = ["lint"]\n'
        "[tool.gatekeeper.coverage]\nfail-under = 85\n"
        "[tool.gatekeeper.complexity]\nmax = 7\n",
    )
    settings = config.load(tmp_path)
    assert settings.strings("paths") == ["src"]
    assert settings.strings("checks") == ["lint"]
    assert settings.number("coverage.fail-under") == 85.0
    assert settings.integer("complexity.max") == 7
    assert {"paths", "checks", "coverage.fail-under", "complexity.max"} <= settings.explicit
    assert settings.as_dict()["complexity"] == {"max": 7, "paths": [], "timeout": 300.0}


def test_a_misspelt_section_names_the_file_the_key_and_the_meant_key(tmp_path: Path) -> None:
    write(tmp_path, "[tool.gatekeeper.covrage]\nfail-under = 90\n")
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path)
    message = str(caught.value)
    assert "pyproject.toml" in message
    assert "[tool.gatekeeper.covrage]" in message
    assert "Did you mean 'coverage'?" in message
    assert caught.value.exit_code == 4


def test_a_misspelt_key_inside_a_section_is_named(tmp_path: Path) -> None:
    write(tmp_path, "[tool.gatekeeper.complexity]\nmaximum = 5\n")
    with pytest.raises(ConfigError, match=r"\[tool.gatekeeper.complexity\] maximum.*'max'"):
        config.load(tmp_path)


def test_an_unknown_key_without_a_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "[tool.gatekeeper]\nzzz = 1\n")
    with pytest.raises(ConfigError, match="Known: paths, checks"):
        config.load(tmp_path)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[tool.gatekeeper.complexity]\nmax = 'ten'\n", "must be a whole number, got 'ten'"),
        ("[tool.gatekeeper.complexity]\nmax = true\n", "must be a whole number, got True"),
        ("[tool.gatekeeper]\npaths = 'src'\n", "must be a list of strings"),
        ("[tool.gatekeeper.lint]\nformat = 'no'\n", "must be true or false"),
        ("[tool.gatekeeper.lint]\ntimeout = -1\n", "must not be negative"),
        ("[tool.gatekeeper]\nreport = 3\n", "must be a string"),
    ],
)
def test_wrong_types_are_usage_errors(tmp_path: Path, table: str, expected: str) -> None:
    write(tmp_path, table)
    with pytest.raises(ConfigError, match=expected):
        config.load(tmp_path)


def test_unknown_check_names_are_rejected_with_a_hint(tmp_path: Path) -> None:
    write(tmp_path, '[tool.gatekeeper]\nchecks = ["lnt"]\n')
    with pytest.raises(
        ConfigError,
        match=r"unknown check 'lnt' in \[tool.gatekeeper\] checks\. Did you mean 'lint'",
    ):
        config.load(tmp_path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "[tool.gatekeeper\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: cannot read it as TOML"):
        config.load(tmp_path)


def test_a_non_table_gatekeeper_entry_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "[tool]\ngatekeeper = 1\n")
    with pytest.raises(ConfigError, match=r"\[tool.gatekeeper\] must be a table"):
        config.load(tmp_path)


def test_command_line_overrides_are_converted_and_validated(tmp_path: Path) -> None:
    settings = config.load(
        tmp_path,
        overrides={"complexity.max": "12", "paths": "a, b", "coverage.fail-under": "70.5"},
    )
    assert settings.integer("complexity.max") == 12
    assert settings.strings("paths") == ["a", "b"]
    assert settings.number("coverage.fail-under") == 70.5
    with pytest.raises(ConfigError, match="command line --gatekeeper-complexity-max"):
        config.load(tmp_path, overrides={"complexity.max": "high"})


def test_flags_mirror_the_keys() -> None:
    by_key = config.Table().by_key()
    assert by_key["coverage.fail-under"].flag == "--gatekeeper-coverage-fail-under"
    assert by_key["lint.format"].flag == "--gatekeeper-no-lint-format"
    assert by_key["complexity.max"].dest == "gatekeeper_complexity_max"
    assert by_key["paths"].display == "[tool.gatekeeper] paths"


def test_project_root_is_the_nearest_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert config.find_project_root(nested) == tmp_path.resolve()


def test_a_plugin_check_extends_the_table(tmp_path: Path) -> None:
    table = config.Table().extended(
        "docs",
        (
            *config.check_options("docs", timeout=5.0),
            config.Option("docs.strict", "bool", False, "Strict."),
        ),
    )
    write(tmp_path, "[tool.gatekeeper.docs]\nstrict = true\n")
    settings = config.load(tmp_path, table)
    assert settings.flag("docs.strict") is True
    assert "docs" in settings.strings("checks")
    assert settings.section("docs") == {"timeout": 5.0, "args": [], "strict": True}


def test_source_paths_are_detected(tmp_path: Path) -> None:
    from gatekeeper.project.paths import detect_source_paths

    assert detect_source_paths(tmp_path) == ["."]
    for package in ("tests", "docs", "app", "lib"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "tool.py").write_text("")
    (tmp_path / "setup.py").write_text("")
    (tmp_path / "test_x.py").write_text("")
    assert detect_source_paths(tmp_path) == ["app", "lib", "tool.py"]
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    assert detect_source_paths(tmp_path) == ["src/pkg"]


def test_configured_paths_must_exist(tmp_path: Path) -> None:
    from gatekeeper.project.paths import resolve_paths

    with pytest.raises(ConfigError, match=r"names 'nope', which does not exist"):
        resolve_paths(tmp_path, ["nope"], "[tool.gatekeeper] paths")


# -- every key the code reads by name is in the table ---------------------------------------------


def test_every_key_the_code_reads_is_in_the_option_table() -> None:
    # Settings are read by string (`settings.strings("lint.paths")`): a misspelt key would be a
    # KeyError in a user's run. The table is the one the gate builds: the core options and those
    # of every check registered through the plugin hook (the built-ins; third parties read their
    # own keys, which their checks declare). A key that is not a literal is resolved (a name
    # bound once to a literal or a loop over literals, a check's name in an f-string); one that
    # cannot be is refused. The raw table's `get` (gate.py's `plugins`) counts as a read.
    manager = plugins.plugin_manager(entry_points=False)
    table = plugins.table_for(plugins.collect_checks(manager))
    reads = [read for path, tree in library_modules() for read in _settings_reads(path, tree)]
    unknown = [where for where, method, key in reads if not _in_table(method, key, table)]
    assert len(reads) >= 60, reads  # the walk does find the reads
    found = {key for _, _, key in reads}
    assert found >= {"report-format", "lint.paths", "{check}.timeout", "plugins"}
    assert unknown == [], f"keys read by the code but not in the option table: {unknown}"


def test_a_key_the_walk_cannot_resolve_or_a_misspelt_one_is_refused() -> None:
    source = (
        'KEY = "report-format"\n'
        'CHECK = "lint"\n'
        'TWICE = "lint.paths"\n'
        'TWICE = "lint.pathz"\n'
        "def reads(settings, name, raw, check, overrides):\n"
        "    settings.strings(KEY)\n"
        '    for key in ("lint.paths", "lint.pathz"):\n'
        "        settings.strings(key)\n"
        '    settings.number(f"{check.name}.timeout")\n'
        '    settings.number(f"{check.name}.timeouts")\n'
        '    settings.number(f"{CHECK}.timeout")\n'
        '    settings.number(f"{name}.timeout")\n'
        "    settings.text(name)\n"
        '    written(raw, "report")\n'
        '    grown = "lint.paths"\n'
        '    grown += "z"\n'
        "    settings.strings(grown)\n"
        '    again = "lint.paths"\n'
        '    again = "lint.pathz"\n'
        "    settings.strings(again)\n"
        '    for each in ("lint.paths",):\n'
        '        each = each + "z"\n'
        "        settings.strings(each)\n"
        "    settings.strings(TWICE)\n"
        '    overrides.get("plugins", raw.get("plugin", []))\n'
    )
    reads = _settings_reads(Path("m.py"), ast.parse(source))
    table = plugins.table_for(plugins.collect_checks(plugins.plugin_manager(entry_points=False)))
    refused = [(where, key) for where, method, key in reads if not _in_table(method, key, table)]
    assert sorted(refused, key=lambda read: int(read[0].split(":")[1].split()[0])) == [
        ("m.py:8 strings('lint.pathz')", "lint.pathz"),
        ("m.py:10 number('{check}.timeouts')", "{check}.timeouts"),
        ("m.py:12 number(None)", None),  # a prefix it cannot resolve
        ("m.py:13 text(None)", None),
        ("m.py:17 strings(None)", None),  # +=
        ("m.py:20 strings(None)", None),  # assigned twice
        ("m.py:23 strings(None)", None),  # a loop variable assigned in its loop
        ("m.py:24 strings(None)", None),  # a module constant assigned twice
        ("m.py:25 get('plugin')", "plugin"),  # a misspelt key of the raw table
    ]
    assert len(reads) == 15


# The keys config.check_options gives every check, read with the check's name in front.
EVERY_CHECK = frozenset(option.name for option in config.check_options("any", timeout=None))


def _in_table(method: str, key: str | None, table: config.Table) -> bool:
    if key is None:
        return False  # not a literal, and the walk cannot tell its value: write it as one
    if method == "section":
        return key in table.sections()
    if key.startswith(f"{A_CHECK}."):
        return key.removeprefix(f"{A_CHECK}.") in EVERY_CHECK
    return key in table.by_key()


def _key_readers() -> frozenset[str]:
    """The methods of :class:`config.Settings` that read one value by its key."""
    return frozenset(
        name
        for name, member in vars(config.Settings).items()
        if inspect.isfunction(member) and list(inspect.signature(member).parameters)[1:] == ["key"]
    )


def _settings_reads(path: Path, tree: ast.Module) -> list[tuple[str, str, str | None]]:
    """``(where, method, key)`` of each call ``<...settings>.<reader>(key)`` in ``tree``,
    ``section(name)``, ``config.written(raw, key)`` and ``raw.get(key)`` or
    ``overrides.get(key)`` (the raw table, the command line's keys) included, one per value the
    key can have (None when the walk cannot tell). ``gatekeeper/config.py`` reads the raw table
    by the option table's own keys: its ``get`` calls are the implementation, not reads."""
    readers = _key_readers() | {"section"}
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for call in calls(tree):
        method = callee(call)
        raw_read = method == "get" and _on_raw(call) and path.name != "config.py"
        if method == "written" and len(call.args) > 1:
            argument = call.args[1]
        elif (raw_read or (method in readers and _on_settings(call))) and call.args:
            argument = call.args[0]
        else:
            continue
        for key in _values(argument, _scope(call, parents), tree, parents):
            found.append((f"{path}:{call.lineno} {method}({key!r})", str(method), key))
    return found


def _on_settings(call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute):
        return False
    receiver = call.func.value
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return str(name).endswith("settings")


def _on_raw(call: ast.Call) -> bool:
    """Whether ``call`` is a method of the raw ``[tool.gatekeeper]`` table or of the command
    line's overrides, as the library names them."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    return isinstance(receiver, ast.Name) and receiver.id in {"raw", "overrides"}


def _scope(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    """The function ``node`` is in, else the module."""
    while node in parents and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        node = parents[node]
    return node


Parents = dict[ast.AST, ast.AST]
# What an f-string field ``{check.name}`` stands for: the name of any check in the table.
A_CHECK = "{check}"


def _values(
    argument: ast.expr, scope: ast.AST, tree: ast.Module, parents: Parents
) -> list[str | None]:
    """The strings ``argument`` can be: a literal; an f-string whose fields it can resolve
    (names it resolves, and ``check.name``: any check's name, as :data:`A_CHECK`); a name bound
    once to literals (an assignment, a loop over them) in its function or at module level."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return [argument.value]
    if isinstance(argument, ast.JoinedStr):
        return _joined(argument, scope, tree, parents)
    if not isinstance(argument, ast.Name):
        return [None]
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
        if _is_parameter(argument.id, scope):
            return [None]  # the caller's value
        bindings = _bindings(argument.id, scope, parents)
        if bindings:
            return _resolved(argument.id, bindings)
    return _resolved(argument.id, _bindings(argument.id, tree, parents))


def _joined(
    string: ast.JoinedStr, scope: ast.AST, tree: ast.Module, parents: Parents
) -> list[str | None]:
    """Every string the f-string can be, or ``[None]`` when one of its fields is unknown."""
    texts = [""]
    for part in string.values:
        if isinstance(part, ast.Constant):
            options: list[str | None] = [str(part.value)]
        elif isinstance(part, ast.FormattedValue) and not part.format_spec and part.conversion < 0:
            options = _field(part.value, scope, tree, parents)
        else:
            options = [None]
        if None in options:
            return [None]
        texts = [text + str(option) for text in texts for option in options]
    return list(texts)


def _field(value: ast.expr, scope: ast.AST, tree: ast.Module, parents: Parents) -> list[str | None]:
    is_check_name = (
        isinstance(value, ast.Attribute)
        and value.attr == "name"
        and isinstance(value.value, ast.Name)
        and value.value.id == "check"
    )
    if is_check_name:
        return [A_CHECK]
    return _values(value, scope, tree, parents) if isinstance(value, ast.Name) else [None]


def _is_parameter(name: str, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    given = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
    extra = [a for a in (function.args.vararg, function.args.kwarg) if a is not None]
    return name in {a.arg for a in [*given, *extra]}


def _bindings(name: str, scope: ast.AST, parents: Parents) -> list[ast.AST]:
    """Every node that binds ``name`` in ``scope`` (a function, with what it nests, or the
    module's own statements): stores of any kind (``=``, ``+=``, loop and ``with`` targets,
    ``:=``), ``except ... as``, imports, definitions, ``global``/``nonlocal``."""
    found: list[ast.AST] = []
    for node in _own_nodes(scope):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            found.append(parents[node])
        elif _binds_by_name(node, name):
            found.append(node)
    return found


def _binds_by_name(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.Global | ast.Nonlocal):
        return name in node.names
    if isinstance(node, ast.ExceptHandler | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == name
    if isinstance(node, ast.alias):
        return (node.asname or node.name.split(".")[0]) == name
    return False


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (all of them), or of a module outside the bodies of its
    functions and classes (their names, and a ``global`` in them, count)."""
    if not isinstance(scope, ast.Module):
        yield from ast.walk(scope)
        return
    pending: list[ast.AST] = [scope]
    while pending:
        node = pending.pop()
        yield node
        nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if nested:
            yield from (n for n in ast.walk(node) if isinstance(n, ast.Global) and n is not node)
        else:
            pending.extend(ast.iter_child_nodes(node))


def _resolved(name: str, bindings: list[ast.AST]) -> list[str | None]:
    """The values of ``name`` when it is bound exactly once, by ``name = "literal"`` or
    ``for name in ("literal", ...)``; else ``[None]``: a second binding, ``+=``, a loop
    variable assigned in its loop, anything else may change it."""
    if len(bindings) != 1:
        return [None]
    (binding,) = bindings
    if isinstance(binding, ast.Assign) and _single(binding.targets, name):
        return [_literal(binding.value)]
    if isinstance(binding, ast.AnnAssign) and binding.value is not None:
        return [_literal(binding.value)]
    if isinstance(binding, ast.For) and _single([binding.target], name):
        items = binding.iter.elts if isinstance(binding.iter, ast.Tuple | ast.List) else [None]
        return [_literal(item) for item in items]
    return [None]


def _single(targets: list[ast.expr], name: str) -> bool:
    return len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == name


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def test_a_cheap_read_takes_the_command_line_then_the_file_then_the_tables_default() -> None:
    raw: dict[str, object] = {"report": "out/r.json", "database": {"backend": 5}}
    assert config.written(raw, "report") == "out/r.json"
    assert config.written({}, "report") == config.Table().by_key()["report"].default
    # a value of the wrong kind is the loaded setup's to report: the cheap read takes the default
    assert config.written(raw, "database.backend") == "sqlite"
    assert config.written(raw, "database.backend", {"database.backend": "postgres"}) == "postgres"
