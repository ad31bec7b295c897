"""The JSON report of ``gatekeeper integrate`` and ``gatekeeper land``: the ``integration``
section alone, with the verdict beside it."""

from __future__ import annotations

import json
from pathlib import Path

from gatekeeper import atomic
from gatekeeper.integration.outcome import Integration, to_dict
from gatekeeper.reports.json import SCHEMA_VERSION


def write(result: Integration, path: Path) -> None:
    """Write atomically, so a reader never sees half a report."""
    document = {
        "schema": SCHEMA_VERSION,
        "verdict": "passed" if result.passed else "failed",
        "integration": to_dict(result),
    }
    atomic.write_text(path, json.dumps(document, indent=2) + "\n")
