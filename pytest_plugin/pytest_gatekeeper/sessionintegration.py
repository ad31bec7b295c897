"""Integration gating in a gated session (``--gatekeeper-integrate``, docs/integration.md).

One object, registered with the plugin manager by the gate's session only when the
configuration asks for it: once the branch's own gate passed, its merge onto the base is gated
too, and the verdict covers both.
"""

from __future__ import annotations

from typing import Final

from gatekeeper.gate import Setup
from gatekeeper.model import Report

PLUGIN: Final = "gatekeeper-integration"


def wanted(setup: Setup) -> bool:
    """Whether the configuration asks for the merge result to be gated too."""
    return setup.settings.flag("integrate")


class IntegrationGate:
    """Gates the merge of the checked-out branch onto its base after the branch's own gate."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    def extend(self, report: Report) -> Report:
        """``report`` extended by the gate of the merge result (unchanged unless it passed)."""
        from gatekeeper.integration.gating import gate_merge_of_head

        return gate_merge_of_head(self.setup.settings, self.setup.worktree, report)
