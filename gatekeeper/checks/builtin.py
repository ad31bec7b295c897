"""Registers the built-in checks through the same hook plugins use."""

from __future__ import annotations

from gatekeeper.checks.base import Check
from gatekeeper.checks.complexity import ComplexityCheck
from gatekeeper.checks.coverage import CoverageCheck
from gatekeeper.checks.evals import EvalsCheck
from gatekeeper.checks.lint import LintCheck
from gatekeeper.checks.tests import TestsCheck
from gatekeeper.checks.types import TypesCheck
from gatekeeper.evals.scorers import Scorer, builtin_scorers
from gatekeeper.hookspecs import hookimpl


@hookimpl
def gatekeeper_checks() -> list[Check]:
    return [
        TestsCheck(),
        CoverageCheck(),
        LintCheck(),
        TypesCheck(),
        ComplexityCheck(),
        EvalsCheck(),  # evals
    ]


# -- evals: the built-in scorers register like a plugin's --
@hookimpl
def gatekeeper_scorers() -> list[Scorer]:
    return builtin_scorers()
