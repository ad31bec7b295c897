"""``gatekeeper integrate`` on a real project: a harmless branch merged onto the adopted main
passes; a branch that breaks one of the project's own tests fails, and is named."""

from __future__ import annotations

from typing import Any

from tests.realprojects.catalog import Edit
from tests.realprojects.workspace import Checkout

# Only the gate's static checks must still pass on the breaking branch: its edit breaks tests.
STATIC = ("lint", "types", "complexity")


def branch(project: Checkout, name: str, change: Edit | None = None) -> str:
    """A branch ``name`` off main with one commit: ``change``, else a harmless comment."""
    project.git("switch", "-q", "-c", name, "main")
    if change is None:
        project.prepend(project.project.breaking.path, "# A harmless comment.\n")
    else:
        project.edit(change)
    commit = project.commit(f"{name} change")
    project.git("switch", "-q", "main")
    return commit


def integration(project: Checkout) -> dict[str, Any]:
    section: dict[str, Any] = project.report("integration.json")["integration"]
    return section


def named_as_breaking(project: Checkout, name: str, commit: str) -> None:
    """The last integration failed, blaming branch ``name`` (at ``commit``) alone, for failing
    tests only: the change breaks the project's tests, nothing else."""
    result = integration(project)
    assert (result["culprit"], result["landable"], result["base_fails"]) == (name, [], False)
    gated = project.report(f"gated/{commit}.json")
    statuses = {check["name"]: check["status"] for check in gated["checks"]}
    assert statuses["tests"] == "failed", statuses
    assert all(statuses[check] == "passed" for check in STATIC), statuses


def test_a_harmless_branch_integrates_and_a_breaking_one_is_named(real_project: Checkout) -> None:
    branch(real_project, "harmless")
    broken = branch(real_project, "breaking", real_project.project.breaking)

    passed = real_project.gatekeeper("integrate", "harmless", "--onto", "main")

    assert passed.returncode == 0, passed.stdout[-3000:]
    assert passed.stdout.splitlines()[-1].endswith("verdict: passed")
    assert integration(real_project)["landable"] == ["harmless"]

    failed = real_project.gatekeeper("integrate", "breaking", "--onto", "main")

    assert failed.returncode == 1, failed.stdout[-3000:]
    assert "culprit: breaking breaks the stack" in failed.stdout, failed.stdout[-3000:]
    assert failed.stdout.splitlines()[-1].endswith("verdict: failed")
    named_as_breaking(real_project, "breaking", broken)
