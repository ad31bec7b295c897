"""Which shard a run is: ``I/N``, the I-th of N (1 <= I <= N), and where its partial goes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.errors import UsageError

_SPEC: Final = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
# A shard's folder under the shards folder: what the workflow uploads, and combine finds.
FOLDER: Final = re.compile(r"shard-(\d+)-of-(\d+)")
# The shards folder, relative to the worktree root: always inside gatekeeper's working folder,
# which the content's tree id leaves out (a partial result is not content the shards judged),
# and where the workflow uploads from.
SHARDS: Final = Path(".gatekeeper", "shards")


@dataclass(frozen=True, slots=True)
class Spec:
    """The ``index``-th shard (from 1) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def folder_name(self) -> str:
        return f"shard-{self.index}-of-{self.count}"

    def folder(self, shards: Path) -> Path:
        """This shard's partial-result folder under ``shards``."""
        return shards / self.folder_name


def parse(text: str, flag: str = "--gatekeeper-shard") -> Spec:
    """``I/N`` as a :class:`Spec`; a :class:`UsageError` naming ``flag`` when it is not one."""
    found = _SPEC.fullmatch(text)
    if found is not None:
        index, count = int(found[1]), int(found[2])
        if 1 <= index <= count:
            return Spec(index, count)
    raise UsageError(
        f"{flag} {text}: a shard is written I/N, the I-th of N shards, with 1 <= I <= N "
        f"(for example {flag} 2/4 runs the second quarter of the tests); give every shard "
        "of one gate the same N."
    )
