"""``gatekeeper run --shard I/N`` starts by removing what an earlier run left in its own folder,
and only there: a run that never writes its partial result (killed, crashed) must leave no
earlier one behind to be combined as its own, and other shards' folders are never touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gatekeeper.shard import partial
from tests.conftest import make_project
from tests.shard.test_sharded_gate import SCRUBBED, TESTS_ONLY

# The session ends once the tests are chosen, before the gate can write anything: as a killed
# runner would.
ENDS = "import os\n\n\ndef pytest_collection_finish(session: object) -> None:\n    os._exit(3)\n"


def leftover(folder: Path) -> None:
    """A folder as an earlier, complete run of that shard left it."""
    folder.mkdir(parents=True)
    (folder / partial.MANIFEST).write_text('{"complete": true}\n')
    (folder / partial.COVERAGE).write_text("earlier data\n")


def test_a_shard_run_removes_only_its_own_folders_earlier_content(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"conftest.py": ENDS}, gatekeeper=TESTS_ONLY)
    shards = root / ".gatekeeper" / "shards"
    own, others = shards / "shard-1-of-2", [shards / "shard-2-of-2", shards / "shard-1-of-3"]
    for folder in (own, *others):
        leftover(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    env["GATEKEEPER_STATE_DIR"] = str(tmp_path / "state")

    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "run", "--shard", "1/2"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode != 0, done.stdout + done.stderr
    # Its own earlier result is gone, though this run wrote none of its own.
    assert not (own / partial.MANIFEST).exists() and not (own / partial.COVERAGE).exists()
    for folder in others:  # never another shard's
        assert (folder / partial.MANIFEST).read_text() == '{"complete": true}\n'
        assert (folder / partial.COVERAGE).read_text() == "earlier data\n"
