"""What a shard ran under besides the content (gatekeeper/shard/conditions.py): shards given
other pytest arguments, holding other ignored files, or giving one test id other parameters, are
refused by ``gatekeeper combine``; ``gatekeeper run --shard`` fixes the hash seed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gatekeeper.commands.run import hash_seed
from gatekeeper.shard import conditions
from tests.conftest import git, make_project
from tests.shard.test_sharded_gate import MANY, TESTS_ONLY, gatekeeper, plain_env

ROOT = Path("/runner/work/project")
IGNORES = ".gatekeeper/\n__pycache__/\n.pytest_cache/\nlocal.ini\n"
SET = (
    "import pytest\n\n"
    "CASES = {('alpha',), ('beta',), ('gamma',), ('delta',), ('bad',), ('eta',)}\n\n\n"
    "@pytest.mark.parametrize('case', CASES)\n"
    "def test_case(case: tuple[str]) -> None:\n    assert case != ('bad',)\n"
)
SEED = "import os\n\n\ndef test_seed() -> None:\n    assert os.environ['PYTHONHASHSEED'] == '{}'\n"


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (["--gatekeeper-shard", "1/2", "-q", "-x"], ("-x",)),
        (["--gatekeeper-shard=2/2", "-vv", "-n", "2", "--dist=load", "-k", "a"], ("-k", "a")),
        (["-nauto", "--gatekeeper-no-cache", "--numprocesses", "4", "-W", "e"], ("-W", "e")),
        ([f"{ROOT}/tests", "--quiet", "--verbose"], ("<root>/tests",)),
    ],
)
def test_only_options_that_cannot_change_an_outcome_are_left_out(
    args: list[str], kept: tuple[str, ...]
) -> None:
    assert conditions.arguments(args, "", ROOT) == kept


def test_pytest_addopts_come_first_as_pytest_reads_them() -> None:
    given = conditions.arguments(["-x"], "-W 'ignore::DeprecationWarning' -q", ROOT)
    assert given == ("-W", "ignore::DeprecationWarning", "-x")


def test_parameters_are_keyed_without_memory_addresses_or_the_root() -> None:
    one = conditions.parameters(f"{{'x': <object at 0x7f00aa>, 'p': '{ROOT}/a'}}", ROOT)
    two = conditions.parameters("{'x': <object at 0x7fbbcc>, 'p': '/elsewhere/a'}", Path("/else"))
    assert one == conditions.parameters("{'x': <object at 0x1>, 'p': '/x/a'}", Path("/x"))
    assert one != two  # /elsewhere/a is not inside /else


def test_only_a_shard_without_a_seed_of_its_own_gets_seed_0() -> None:
    assert hash_seed(["--gatekeeper-shard", "1/2"], {}) == {"PYTHONHASHSEED": "0"}
    assert hash_seed(["--gatekeeper-shard=1/2"], {"PYTHONHASHSEED": "7"}) == {}
    assert hash_seed(["-q"], {}) == {}


def combined(root: Path, env: dict[str, str], folders: list[Path]) -> str:
    done = gatekeeper(root, env, "combine", *map(str, folders))
    assert done.returncode != 0, done.stdout
    assert "refuses these partial results" in done.stderr, done.stderr
    return done.stderr


@pytest.mark.slow
def test_a_shard_given_a_warning_filter_the_others_lack_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"tests/test_many.py": MANY}, TESTS_ONLY)
    env = plain_env(tmp_path)
    filtered = {**env, "PYTEST_ADDOPTS": "-W ignore::DeprecationWarning"}
    gatekeeper(root, filtered, "run", "--shard", "1/2", "-q")
    gatekeeper(root, env, "run", "--shard", "2/2", "-v")  # verbosity may differ

    message = combined(root, env, [root / ".gatekeeper" / "shards"])

    assert "shard 2/2 ran pytest with other arguments than" in message
    assert "(`--gatekeeper` against `-W ignore::DeprecationWarning --gatekeeper`;" in message


@pytest.mark.slow
def test_a_shard_whose_checkout_holds_another_ignored_file_is_refused(tmp_path: Path) -> None:
    files = {".gitignore": IGNORES, "tests/test_many.py": MANY}
    root = make_project(tmp_path / "project", files, gatekeeper=TESTS_ONLY)
    other = tmp_path / "other-runner"
    git(root, "worktree", "add", "-q", "--detach", str(other), "HEAD")
    (root / "local.ini").write_text("[pytest]\naddopts = -p no:warnings\n", encoding="utf-8")
    env = plain_env(tmp_path)
    gatekeeper(root, env, "run", "--shard", "1/2", "-q")
    gatekeeper(other, env, "run", "--shard", "2/2", "-q")
    shards = [root / ".gatekeeper" / "shards", other / ".gatekeeper" / "shards"]

    message = combined(root, env, shards)

    assert "checkout holds other git-ignored files than" in message
    assert "installed distributions" not in message  # one environment: the same distributions


def pytest_shard(root: Path, env: dict[str, str], index: int, seed: str) -> None:
    args = ["--gatekeeper", "--gatekeeper-shard", f"{index}/2", "-q", "-p", "no:cacheprovider"]
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=root,
        env={**env, "PYTHONHASHSEED": seed},
        capture_output=True,
        check=False,
    )


@pytest.mark.slow
def test_shards_whose_set_parameters_differ_under_other_hash_seeds_are_refused(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "project", {"tests/test_set.py": SET}, gatekeeper=TESTS_ONLY)
    env = plain_env(tmp_path)
    for index, seed in ((1, "1"), (2, "2")):
        pytest_shard(root, env, index, seed)
    manifests = [
        json.loads((root / ".gatekeeper/shards" / f"shard-{i}-of-2/manifest.json").read_text())
        for i in (1, 2)
    ]
    assert manifests[0]["collected"] == manifests[1]["collected"]  # the same ids

    message = combined(root, env, [root / ".gatekeeper" / "shards"])

    assert "collected the same test ids, but the parameters behind them differ" in message
    assert "tests/test_set.py::test_case[" in message


@pytest.mark.slow
@pytest.mark.parametrize("given", [None, "7"])
def test_gatekeeper_run_gives_a_shard_seed_0_unless_one_is_set(
    tmp_path: Path, given: str | None
) -> None:
    test = SEED.format(given or "0")
    root = make_project(tmp_path / "project", {"tests/test_seed.py": test}, gatekeeper=TESTS_ONLY)
    env = {k: v for k, v in plain_env(tmp_path).items() if k != "PYTHONHASHSEED"}
    env.update({"PYTHONHASHSEED": given} if given else {})

    done = gatekeeper(root, env, "run", "--shard", "1/1", "-q")

    assert done.returncode == 0, done.stdout + done.stderr
