"""Extension: a plugin adds a check through the hook the built-ins use, and it gates."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gatekeeper.cli import main
from gatekeeper.config import Option
from gatekeeper.errors import ConfigError, UsageError
from gatekeeper.hookspecs import hookimpl
from gatekeeper.plugins import collect_checks, plugin_manager, table_for
from tests.conftest import ProjectFactory
from tests.gate_runs import run_gate

PLUGIN = '''\
"""A project-local gatekeeper plugin: every module needs a docstring."""

from __future__ import annotations

import ast
from pathlib import Path

import gatekeeper


class DocstringCheck:
    name = "docstrings"
    description = "every module has a docstring"
    needs_session = False

    def options(self) -> list[gatekeeper.Option]:
        return [gatekeeper.Option("docstrings.glob", "str", "pkg/*.py", "Files to look at.")]

    def run(self, context: gatekeeper.CheckContext) -> gatekeeper.CheckResult:
        pattern = context.settings.text("docstrings.glob")
        missing = [
            gatekeeper.Finding("docstrings", p.as_posix(), 1, 1, "D100", "module has no docstring")
            for p in sorted(Path(context.root).glob(pattern))
            if ast.get_docstring(ast.parse(p.read_text())) is None
        ]
        status = gatekeeper.Status.FAILED if missing else gatekeeper.Status.PASSED
        return gatekeeper.CheckResult(
            self.name, status, f"{len(missing)} missing", rule="every module has a docstring",
            findings=tuple(missing),
        )


@gatekeeper.hookimpl
def gatekeeper_checks() -> list[DocstringCheck]:
    return [DocstringCheck()]
'''

CONFIG = """
[tool.gatekeeper]
plugins = ["docplugin"]
checks = ["tests", "docstrings"]

[tool.gatekeeper.docstrings]
glob = "pkg/*.py"
"""


def test_a_plugin_check_gates(pytester: pytest.Pytester, project: ProjectFactory) -> None:
    project({"docplugin.py": PLUGIN, "pkg/bare.py": "X = 1\n"}, gatekeeper=CONFIG)
    pytester.syspathinsert()
    run = run_gate(pytester)
    assert run.result.ret == 1
    assert run.status("docstrings") == "failed"
    assert run.check("docstrings")["findings"][0]["path"] == "pkg/bare.py"
    (pytester.path / "pkg" / "bare.py").write_text('"""Now documented."""\n\nX = 1\n')
    again = run_gate(pytester)
    assert again.result.ret == 0
    assert again.status("docstrings") == "passed"


def test_a_plugin_that_cannot_be_imported_is_a_usage_error(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper='\n[tool.gatekeeper]\nplugins = ["missing_plugin_module"]\n')
    result = pytester.runpytest_inprocess("--gatekeeper")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*plugins names 'missing_plugin_module', which cannot be imported*"]
    )


class _Dup:
    name = "lint"
    description = "a second lint"
    needs_session = False

    def options(self) -> list[object]:
        return []

    def run(self, context: object) -> object:
        raise AssertionError("never run")


class _DupPlugin:
    @staticmethod
    @hookimpl
    def gatekeeper_checks() -> list[object]:
        return [_Dup()]


class _NotACheckPlugin:
    @staticmethod
    @hookimpl
    def gatekeeper_checks() -> list[object]:
        return ["not a check"]


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (_DupPlugin(), "two gatekeeper plugins register a check named 'lint'"),
        (_NotACheckPlugin(), "not a Check"),
    ],
)
def test_bad_plugin_registrations_are_rejected(plugin: object, message: str) -> None:
    manager = plugin_manager(entry_points=False)
    manager.register(plugin)
    with pytest.raises(UsageError, match=message):
        collect_checks(manager)


class _OwnKeysCheck:
    name = "ownkeys"
    description = "declares a key of its own"
    needs_session = False

    def options(self) -> list[Option]:
        return [Option("ownkeys.limit", "int", 3, "How many are allowed.")]

    def run(self, context: object) -> object:
        raise AssertionError("never run")


class _OwnKeysPlugin:
    @staticmethod
    @hookimpl
    def gatekeeper_checks() -> list[object]:
        return [_OwnKeysCheck()]


def test_plugin_checks_get_timeout_and_args_keys() -> None:
    manager = plugin_manager(entry_points=False)
    manager.register(_OwnKeysPlugin())
    table = table_for(collect_checks(manager))
    keys = table.by_key()
    assert "ownkeys" in table.checks
    assert keys["ownkeys.limit"].default == 3
    assert keys["ownkeys.timeout"].default == 600.0
    assert keys["ownkeys.args"].default == []
    assert "lint.timeout" in keys  # the built-ins' keys stay


# -- plugins that cannot be loaded: an installed distribution, a project-local module ----------

BROKEN_ENTRY_POINT = "broken = broken_gatekeeper_plugin:hooks"


@pytest.fixture
def broken_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real installed distribution (a ``*.dist-info`` on a ``sys.path`` entry) whose
    ``gatekeeper`` entry point names a module that fails to import."""
    site = tmp_path / "site"
    info = site / "broken_gatekeeper_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-gatekeeper-plugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[gatekeeper]\n{BROKEN_ENTRY_POINT}\n")
    (site / "broken_gatekeeper_plugin.py").write_text("import no_such_dependency_of_the_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    return site


BROKEN_MESSAGE = (
    "the installed distribution broken-gatekeeper-plugin 1.0 declares the gatekeeper plugin "
    f"entry point `{BROKEN_ENTRY_POINT}`, which cannot be loaded (ModuleNotFoundError: No "
    "module named 'no_such_dependency_of_the_plugin'). Fix that distribution or uninstall it "
    "(pip uninstall broken-gatekeeper-plugin)."
)


def test_a_broken_entry_point_names_itself_and_its_distribution(
    broken_distribution: Path,
) -> None:
    with pytest.raises(UsageError) as caught:
        plugin_manager()
    assert str(caught.value) == BROKEN_MESSAGE


def test_a_broken_entry_point_is_a_usage_error_under_pytest(
    pytester: pytest.Pytester, project: ProjectFactory, broken_distribution: Path
) -> None:
    project()
    result = pytester.runpytest_inprocess("--gatekeeper", "-p", "no:cacheprovider")
    assert result.ret == 4
    err = result.stderr.str()
    assert BROKEN_MESSAGE in err
    assert "Traceback" not in err


def test_a_broken_entry_point_is_a_usage_error_for_the_cli(
    pytester: pytest.Pytester,
    project: ProjectFactory,
    broken_distribution: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project()
    assert main(["check", "lint"]) == 4
    err = capsys.readouterr().err
    assert err == f"gatekeeper check: error: {BROKEN_MESSAGE}\n"


def test_a_project_local_plugin_module_is_imported_from_the_root(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    root = project({"docplugin.py": PLUGIN, "pkg/bare.py": "X = 1\n"}, gatekeeper=CONFIG)
    path_before = list(sys.path)
    with pytest.raises(ConfigError, match="plugins names 'docplugin', which cannot be imported"):
        plugin_manager(["docplugin"], entry_points=False)  # not on sys.path without the root
    checks = collect_checks(plugin_manager(["docplugin"], entry_points=False, root=root))
    assert checks["docstrings"].description == "every module has a docstring"
    assert sys.modules["docplugin"].__file__ == str(root / "docplugin.py")
    assert sys.path == path_before  # the root is searched for the import only


SESSION_PLUGIN = '''\
"""A session check that skips without a session and fails with one."""

from __future__ import annotations

import gatekeeper


class StrictCheck:
    name = "strict"
    description = "fails whenever a session ran"
    needs_session = True

    def options(self) -> list[gatekeeper.Option]:
        return []

    def run(self, context: gatekeeper.CheckContext) -> gatekeeper.CheckResult:
        if context.session is None:
            return gatekeeper.CheckResult(self.name, gatekeeper.Status.SKIPPED, "no session")
        return gatekeeper.CheckResult(self.name, gatekeeper.Status.FAILED, "a session ran")


@gatekeeper.hookimpl
def gatekeeper_checks() -> list[StrictCheck]:
    return [StrictCheck()]
'''


def test_a_plugin_session_check_that_never_passed_keeps_the_session_running(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    """Only the evals check may be found to have nothing to judge before the session: a plugin
    check that skips without a session has no stored pass, so the session runs again."""
    gate = '\n[tool.gatekeeper]\nplugins = ["strictplugin"]\nchecks = ["tests", "strict"]\n'
    project({"strictplugin.py": SESSION_PLUGIN}, gatekeeper=gate)
    pytester.syspathinsert()
    assert run_gate(pytester).status("strict") == "failed"

    again = run_gate(pytester)

    assert again.result.ret == 1
    assert again.status("strict") == "failed"
    assert "tests ran again: no stored pass of strict" in again.result.stdout.str()
    assert not again.check("tests").get("cached")
