"""Acceptance of the core gate: real projects in real git repositories, real tools."""

from __future__ import annotations

import pytest

from tests.conftest import ProjectFactory
from tests.gate_runs import NO_COVERAGE, run_gate

COMPLEX = (
    """\
\"\"\"A module with one tangled function.\"\"\"


def tangled(x: int) -> int:
    \"\"\"Cyclomatic complexity 12.\"\"\"
"""
    + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(11))
    + "    return -1\n"
)


FAILING_TEST = "from pkg import add\n\n\ndef test_bad() -> None:\n    assert add(1, 1) == 3\n"


def test_a_clean_project_passes_with_every_check_and_coverage(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper="\n[tool.gatekeeper.coverage]\nfail-under = 100\n")
    run = run_gate(pytester, subprocess=True)
    assert run.result.ret == 0, run.result.stdout.str()
    assert run.verdict == "passed"
    assert [c["name"] for c in run.report["checks"]] == [
        "tests",
        "coverage",
        "lint",
        "types",
        "complexity",
        "evals",
    ]
    assert all(c["status"] == "passed" for c in run.report["checks"][:5])
    assert run.status("evals") == "skipped"  # no datasets in this project
    assert run.check("coverage")["metrics"]["percent"] == 100.0
    assert run.report["git"]["branch"] == "main"
    assert len(run.report["git"]["head"]) == 40
    run.result.stdout.fnmatch_lines(["*= gatekeeper =*", "PASSED*lint*", "gatekeeper passed*"])


@pytest.mark.parametrize(
    ("files", "check", "code", "path"),
    [
        ({"pkg/extra.py": "import os\n"}, "lint", "F401", "pkg/extra.py"),
        (
            {"pkg/extra.py": 'def f() -> int:\n    return "no"\n'},
            "types",
            "return-value",
            "pkg/extra.py",
        ),
        ({"pkg/extra.py": COMPLEX}, "complexity", "CC", "pkg/extra.py"),
        (
            {"tests/test_bad.py": FAILING_TEST},
            "tests",
            "FAILED",
            "tests/test_bad.py",
        ),
    ],
    ids=["unused-import", "wrong-return-type", "complexity-12", "failing-test"],
)
def test_each_defect_fails_the_gate_and_is_named(
    pytester: pytest.Pytester,
    project: ProjectFactory,
    files: dict[str, str],
    check: str,
    code: str,
    path: str,
) -> None:
    project(files, gatekeeper=NO_COVERAGE)
    run = run_gate(pytester)
    assert run.result.ret == 1
    assert run.verdict == "failed"
    assert run.status(check) == "failed"
    finding = run.check(check)["findings"][0]
    assert (finding["code"], finding["path"], finding["check"]) == (code, path, check)
    assert finding["fingerprint"]
    others = [c for c in run.report["checks"] if c["name"] != check]
    assert all(c["status"] == "passed" for c in others), others
    assert f"{check} failed" in run.report["rule"]


def test_complexity_names_the_function_file_and_line(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project({"pkg/extra.py": COMPLEX}, gatekeeper=NO_COVERAGE)
    run = run_gate(pytester)
    finding = run.check("complexity")["findings"][0]
    assert finding["line"] == 4
    assert finding["message"] == "tangled has complexity 12 (max 10)"
    run.result.stdout.fnmatch_lines(["*pkg/extra.py:4:1: CC tangled has complexity 12 (max 10)"])


def test_coverage_under_fail_under_fails_even_when_every_test_passes(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    untested = "\n\ndef untested(x: int) -> int:\n    y = x * 2\n    return y + 1\n"
    project(
        {"pkg/more.py": untested},
        gatekeeper="\n[tool.gatekeeper.coverage]\nfail-under = 90\n",
    )
    pytester.makeconftest("import pkg.more  # noqa: F401\n")
    run = run_gate(pytester, subprocess=True)
    assert run.result.ret == 1
    assert run.status("tests") == "passed"
    assert run.status("coverage") == "failed"
    assert run.check("coverage")["metrics"]["percent"] < 90
    assert "fail-under = 90%" in run.check("coverage")["rule"]


def test_a_test_directory_without_tests_fails(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project({"tests/test_add.py": "# no tests here\n"}, gatekeeper=NO_COVERAGE)
    run = run_gate(pytester)
    assert run.result.ret == 1
    assert run.status("tests") == "failed"
    assert "no tests were collected" in run.check("tests")["summary"]


def test_only_skipped_tests_is_not_a_pass(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    skipped = "import pytest\n\n\n@pytest.mark.skip\ndef test_x() -> None:\n    pass\n"
    project({"tests/test_add.py": skipped}, gatekeeper=NO_COVERAGE)
    run = run_gate(pytester)
    assert run.result.ret == 1
    assert "no test ran (1 skipped)" in run.check("tests")["summary"]


def test_a_collection_error_fails_the_tests_check(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project({"tests/test_broken.py": "import not_a_module_anywhere\n"}, gatekeeper=NO_COVERAGE)
    run = run_gate(pytester)
    assert run.result.ret != 0
    assert run.status("tests") == "failed"
    finding = run.check("tests")["findings"][0]
    assert finding["code"] == "ERROR"
    assert "not_a_module_anywhere" in finding["message"]


def test_a_missing_mypy_plugin_is_an_error_never_a_pass(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper=NO_COVERAGE + '\n[tool.mypy]\nplugins = ["no_such_mypy_plugin"]\n')
    run = run_gate(pytester)
    assert run.result.ret == 1
    assert run.status("types") == "error"
    assert "no_such_mypy_plugin" in run.check("types")["summary"]
    assert "exit status 2" in run.check("types")["summary"]


def test_an_invalid_ruff_setting_is_an_error_never_a_pass(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper=NO_COVERAGE + '\n[tool.ruff]\nline-length = "long"\n')
    run = run_gate(pytester)
    assert run.result.ret == 1
    assert run.status("lint") == "error"
    assert "could not run" in run.check("lint")["summary"]


def test_a_misspelt_section_exits_4_naming_the_key(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project(gatekeeper="\n[tool.gatekeeper.covrage]\nfail-under = 90\n")
    result = pytester.runpytest_inprocess("--gatekeeper")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*pyproject.toml: unknown key [[]tool.gatekeeper.covrage[]]. Did you mean 'coverage'?*"]
    )
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_xdist_runs_pass_with_coverage_measured_in_the_workers(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    more_tests = "".join(
        f"from pkg import add\n\n\ndef test_{i}() -> None:\n    assert add({i}, 1) == {i + 1}\n"
        for i in range(1)
    )
    project(
        {"tests/test_more.py": more_tests},
        gatekeeper="\n[tool.gatekeeper.coverage]\nfail-under = 100\n",
    )
    run = run_gate(pytester, "-n", "2", subprocess=True)
    assert run.result.ret == 0, run.result.stdout.str()
    assert run.check("tests")["metrics"]["passed"] == 2
    assert run.check("coverage")["metrics"]["percent"] == 100.0
    assert not list((pytester.path / ".gatekeeper" / "coverage").glob("*/.coverage.*"))


def test_the_gate_is_off_without_the_flag(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    project({"pkg/extra.py": "import os\n"})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 0
    assert not (pytester.path / ".gatekeeper").exists()


def test_the_report_path_can_be_moved(pytester: pytest.Pytester, project: ProjectFactory) -> None:
    project(gatekeeper=NO_COVERAGE)
    result = pytester.runpytest_inprocess("--gatekeeper", "--gatekeeper-report", "out/gate.json")
    assert result.ret == 0
    assert (pytester.path / "out" / "gate.json").is_file()


def test_xdist_workers_never_run_a_gate_of_their_own(
    pytester: pytest.Pytester, project: ProjectFactory
) -> None:
    plugin = """\
def pytest_unconfigure(config):
    if config.pluginmanager.has_plugin("gatekeeper-session"):
        worker = getattr(config, "workerinput", None)
        name = worker["workerid"] if worker else "controller"
        open(f"gate-{name}.txt", "w").close()
"""
    project({"conftest.py": plugin}, gatekeeper=NO_COVERAGE)
    run = run_gate(pytester, "-n", "2", subprocess=True)
    assert run.result.ret == 0, run.result.stdout.str()
    assert sorted(p.name for p in pytester.path.glob("gate-*.txt")) == ["gate-controller.txt"]
