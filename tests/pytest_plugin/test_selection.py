"""Only a run of the whole suite may reuse or store the test session's verdict."""

from __future__ import annotations

import pytest
from pytest_gatekeeper.selection import remember_given, selected, whole_suite


def configured(pytester: pytest.Pytester, *args: str) -> pytest.Config:
    """The configuration of a run with ``args``, with what the command line and
    ``PYTEST_ADDOPTS`` alone ask for kept as a gated run keeps it."""
    config = pytester.parseconfigure(*args)
    remember_given(config, config._parser)
    return config


@pytest.mark.parametrize(
    ("args", "whole"),
    [
        ([], True),
        (["tests"], True),
        (["-q", "-x"], True),
        (["tests/test_add.py"], False),
        (["tests/test_add.py::test_add"], False),
        (["-k", "add"], False),
        (["-m", "slow"], False),
        (["--lf"], False),
        (["--sw"], False),
        (["--sw-skip"], False),
        (["--deselect", "tests/test_add.py::test_add"], False),
        (["--ignore", "tests/other"], False),
    ],
)
def test_selections_are_told_from_whole_suite_runs(
    pytester: pytest.Pytester, args: list[str], whole: bool
) -> None:
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    pytester.mkdir("tests")
    config = pytester.parseconfigure(*args)
    identity = whole_suite(config)
    assert (identity is not None) is whole
    if identity is not None:
        assert all(arg in identity for arg in args)  # the command line is part of the key


def test_a_run_from_below_the_rootdir_is_a_selection(pytester: pytest.Pytester) -> None:
    # pytest collects the invocation directory, not testpaths, when run from elsewhere.
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    below = pytester.mkdir("tests")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(below)
        config = pytester.parseconfigure()
    assert config.rootpath == pytester.path
    assert whole_suite(config) is None
    assert (selected(config) or "").startswith(f"a run from {below}")


@pytest.mark.parametrize(
    "option",
    [
        ["--ignore", "tests/other"],
        ["--ignore-glob", "*_other.py"],
        ["--deselect", "tests/test_add.py::test_add"],
        ["-m", "not slow"],
        ["-k", "not slow"],
    ],
)
def test_a_selection_in_the_projects_addopts_defines_the_suite_but_given_narrows(
    pytester: pytest.Pytester, option: list[str]
) -> None:
    flag, value = option
    pytester.makeini(f"[pytest]\ntestpaths = tests\naddopts = {flag} '{value}'\n")
    pytester.mkdir("tests")
    assert whole_suite(configured(pytester)) is not None
    assert selected(configured(pytester)) is None

    given = configured(pytester, flag, value)
    assert whole_suite(given) is None
    assert selected(given) == f"{flag} on the command line or in PYTEST_ADDOPTS"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_ADDOPTS", f"{flag} '{value}'")
        assert selected(configured(pytester)) == (
            f"{flag} on the command line or in PYTEST_ADDOPTS"
        )


def test_lf_counts_wherever_it_comes_from_and_the_reason_says_where(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\ntestpaths = tests\naddopts = --lf\n")
    pytester.mkdir("tests")
    assert selected(configured(pytester)) == "--lf in the project's addopts"
    assert selected(configured(pytester, "tests/x.py")) is not None
