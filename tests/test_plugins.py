"""Extension: a plugin adds a check through the hook the built-ins use, and it gates."""

from __future__ import annotations

import pytest

from gatekeeper.config import check_options
from gatekeeper.errors import UsageError
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


def test_plugin_checks_get_timeout_and_args_keys() -> None:
    manager = plugin_manager(entry_points=False)
    table = table_for(collect_checks(manager))
    assert "lint.timeout" in table.by_key()
    assert check_options("x", timeout=1.0)[0].key == "x.timeout"
