"""Only a run of the whole suite may reuse or store the test session's verdict."""

from __future__ import annotations

import pytest
from pytest_gatekeeper.selection import whole_suite


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
