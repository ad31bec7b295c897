"""Proof that the gate of one particular run finished: what lets ``gatekeeper run`` exit 0.

pytest's exit status alone proves nothing: a test that calls ``os._exit(0)``, a session plugin
switched off with ``-p no:gatekeeper-session``, or an inspection option in ``addopts`` ends pytest
with status 0 and no verdict. So ``gatekeeper run`` names a file in a fresh private directory in
:data:`ENV`; the gated session takes the variable when it starts (nothing it starts inherits it)
and, once its JSON report is written, writes there that report's path and verdict. No receipt
(or one that cannot be read) means the gate did not finish. A receipt from an earlier run cannot
count: the directory is new for every run and removed after it.
"""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Final

ENV: Final = "GATEKEEPER_RECEIPT"


def take(environ: MutableMapping[str, str] = os.environ) -> Path | None:
    """The receipt this session must write, removed from ``environ``; None when nobody asked."""
    named = environ.pop(ENV, None)
    return Path(named) if named else None


def write(receipt: Path, report: Path, verdict: str) -> None:
    """Record that the report at ``report`` was written with ``verdict``."""
    document = {"report": str(report), "verdict": verdict}
    receipt.write_text(json.dumps(document) + "\n", encoding="utf-8")


def verdict(receipt: Path) -> str | None:
    """The verdict the run recorded, when it wrote a receipt and the report it names still says
    the same; else None (the gate did not finish, or what it wrote cannot be trusted)."""
    try:
        document = json.loads(receipt.read_text(encoding="utf-8"))
        written = json.loads(Path(document["report"]).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    said = document.get("verdict")
    if not isinstance(said, str) or not isinstance(written, dict):
        return None
    return said if written.get("verdict") == said else None
