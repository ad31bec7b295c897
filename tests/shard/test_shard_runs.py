"""Shard runs against what one unsharded run of the same tree gives: a shard that dies leaves
no earlier result to combine as its own, and collection errors are judged once, as in one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_project
from tests.shard.test_sharded_gate import MANY, TESTS_ONLY, findings, gatekeeper, plain_env

# Dies without a word when CRASH is set: as a runner killed mid-session would.
CRASHES = (
    "import os\n\n\n"
    "def test_crashes() -> None:\n"
    "    if os.environ.get('CRASH'):\n"
    "        os._exit(1)\n"
)


def holder(root: Path, nodeid: str) -> int:
    """The shard (of 2) whose share holds ``nodeid``."""
    for index in (1, 2):
        manifest = root / ".gatekeeper" / "shards" / f"shard-{index}-of-2" / "manifest.json"
        if nodeid in json.loads(manifest.read_text())["selected"]:
            return index
    raise AssertionError(f"{nodeid} is in no shard's share")


def test_a_shard_that_dies_leaves_no_earlier_result_to_combine(tmp_path: Path) -> None:
    files = {"tests/test_many.py": MANY, "tests/test_crashes.py": CRASHES}
    root = make_project(tmp_path / "project", files, gatekeeper=TESTS_ONLY)
    env = plain_env(tmp_path)
    for index in (1, 2):  # a complete earlier run of both shards, on this very commit
        assert gatekeeper(root, env, "run", "--shard", f"{index}/2", "-q").returncode == 0
    dying = holder(root, "tests/test_crashes.py::test_crashes")

    died = gatekeeper(root, {**env, "CRASH": "1"}, "run", "--shard", f"{dying}/2", "-q")
    done = gatekeeper(root, env, "combine", ".gatekeeper/shards")

    assert died.returncode != 0, died.stdout + died.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    # Its earlier result was removed when it started: its share is unknown, never passed.
    assert f"shard {dying} of 2 is missing" in done.stderr
    assert not (root / ".gatekeeper" / "report.json").exists()


# A module that cannot be imported: every shard collects the whole tree, so every shard meets it.
UNIMPORTABLE = (
    "import a_module_nobody_installed  # noqa: F401\n\n\ndef test_never() -> None:\n    pass\n"
)


@pytest.mark.parametrize("options", [[], ["--continue-on-collection-errors"]])
def test_collection_errors_are_judged_once_as_in_one_run(
    tmp_path: Path, options: list[str]
) -> None:
    files = {"tests/test_many.py": MANY, "tests/test_unimportable.py": UNIMPORTABLE}
    root = make_project(tmp_path / "project", files, gatekeeper=TESTS_ONLY)
    env = plain_env(tmp_path)
    gatekeeper(root, env, "run", "-q", "-p", "no:cacheprovider", *options)
    unsharded = json.loads((root / ".gatekeeper" / "report.json").read_text())
    for index in (1, 2):
        gatekeeper(
            root, env, "run", "--shard", f"{index}/2", "-q", "-p", "no:cacheprovider", *options
        )

    done = gatekeeper(root, env, "combine", ".gatekeeper/shards")

    assert done.returncode == 1, done.stdout + done.stderr
    combined = json.loads((root / ".gatekeeper" / "report.json").read_text())
    assert (combined["verdict"], combined["rule"]) == (unsharded["verdict"], unsharded["rule"])
    assert findings(combined) == findings(unsharded)
    assert [f[1] for f in findings(combined)] == ["tests/test_unimportable.py"]
    tests, alone = (
        next(c for c in r["checks"] if c["name"] == "tests") for r in (combined, unsharded)
    )
    assert (tests["status"], tests["summary"], tests["metrics"]) == (
        alone["status"],
        alone["summary"],
        alone["metrics"],
    )
