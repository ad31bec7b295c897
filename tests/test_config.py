"""The configuration table: reading, validation, typo hints and command-line overrides."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from gatekeeper import config, plugins
from gatekeeper.errors import ConfigError
from tests.sources import callee, calls, first_literal, library_modules


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
    # own keys, which their checks declare).
    manager = plugins.plugin_manager(entry_points=False)
    table = plugins.table_for(plugins.collect_checks(manager))
    keys, sections = set(table.by_key()), table.sections()
    by_key = _key_readers()
    reads = [read for path, tree in library_modules() for read in _settings_reads(path, tree)]
    unknown = [
        where for where, method, key in reads if key not in (keys if method in by_key else sections)
    ]
    assert len(reads) >= 60, reads  # the walk does find the reads
    assert unknown == [], f"keys read by the code but not in the option table: {unknown}"


def _key_readers() -> frozenset[str]:
    """The methods of :class:`config.Settings` that read one value by its key."""
    return frozenset(
        name
        for name, member in vars(config.Settings).items()
        if inspect.isfunction(member) and list(inspect.signature(member).parameters)[1:] == ["key"]
    )


def _settings_reads(path: Path, tree: ast.Module) -> list[tuple[str, str, str]]:
    """``(where, method, key)`` of each call ``<...settings>.<reader>("literal")`` in ``tree``,
    ``section("name")`` included."""
    readers = _key_readers() | {"section"}
    found = []
    for call in calls(tree):
        key, method = first_literal(call), callee(call)
        if key is None or method not in readers or not isinstance(call.func, ast.Attribute):
            continue
        receiver = call.func.value
        name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
        if name.endswith("settings"):
            found.append((f"{path}:{call.lineno} {method}({key!r})", method, key))
    return found
