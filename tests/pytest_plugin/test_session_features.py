"""The parts of the gate's session are plugin objects of their own (eval recording, coverage,
integration gating): switching one off with ``-p no:NAME`` is refused, as switching off the
session itself is, since the verdict would lack what that part gives it."""

from __future__ import annotations

import pytest

from tests.conftest import ProjectFactory


@pytest.mark.parametrize(
    "name", ["gatekeeper-eval-recording", "gatekeeper-coverage", "gatekeeper-integration"]
)
def test_switching_off_a_part_of_the_gates_session_is_a_usage_error(
    pytester: pytest.Pytester, project: ProjectFactory, name: str
) -> None:
    project()
    result = pytester.runpytest_inprocess(
        "--gatekeeper", "-p", "no:cacheprovider", "-p", f"no:{name}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"--gatekeeper with -p no:{name} (on the command line" in result.stderr.str()
    assert "switches off a part of the gate's session" in result.stderr.str()
    assert not (pytester.path / ".gatekeeper" / "report.json").exists()
