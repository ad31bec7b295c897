"""`gatekeeper ci require` against a local stand-in of GitHub's REST API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatekeeper.ci.require import GitHub, GitHubError, require
from gatekeeper.errors import UsageError
from tests.ci.github_standin import GitHubStandIn, Repository, serve

TOKEN = "ghp_standin_secret_token_value"
REPO = "octo/project"


@pytest.fixture
def standin() -> Iterator[GitHubStandIn]:
    with serve(GitHubStandIn(TOKEN, {REPO: Repository()})) as state:
        yield state


@pytest.fixture
def client(standin: GitHubStandIn) -> Iterator[GitHub]:
    github = GitHub(TOKEN, standin.url)
    yield github
    github.close()


def cli(standin: GitHubStandIn, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["GITHUB_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", "ci", "require", "--api-url", standin.url, *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=Path(__file__).parent,
    )


def test_creates_a_ruleset_then_is_idempotent(standin: GitHubStandIn, client: GitHub) -> None:
    first = require(client, REPO, None)

    assert (first.mechanism, first.action, first.branch) == ("ruleset", "created", "main")
    assert first.in_force == ("gatekeeper",)
    (ruleset,) = standin.repos[REPO].rulesets.values()
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/heads/main"]
    (rule,) = ruleset["rules"]
    assert rule["parameters"]["required_status_checks"] == [
        {"context": "gatekeeper", "integration_id": 15368}
    ]

    writes = len(standin.writes)
    again = require(client, REPO, "main")
    assert again.action == "unchanged"
    assert len(standin.writes) == writes


def test_an_existing_ruleset_keeps_its_other_rules(standin: GitHubStandIn, client: GitHub) -> None:
    standin.repos[REPO].branches.add("release")
    standin.repos[REPO].rulesets[1] = {
        "id": 1,
        "name": "gatekeeper",
        "target": "branch",
        "enforcement": "evaluate",
        "source_type": "Repository",
        "source": REPO,
        "conditions": {"ref_name": {"include": ["refs/heads/main"], "exclude": []}},
        "rules": [
            {"type": "deletion"},
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": True,
                    "required_status_checks": [{"context": "docs"}],
                },
            },
        ],
    }

    done = require(client, REPO, "release")

    assert done.action == "updated"
    assert done.in_force == ("docs", "gatekeeper")
    ruleset = standin.repos[REPO].rulesets[1]
    assert ruleset["enforcement"] == "active"
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/heads/main", "refs/heads/release"]
    assert ruleset["rules"][0] == {"type": "deletion"}
    assert ruleset["rules"][1]["parameters"]["strict_required_status_checks_policy"] is True


def test_falls_back_to_classic_protection(standin: GitHubStandIn, client: GitHub) -> None:
    standin.repos[REPO].rulesets_enabled = False

    first = require(client, REPO, None)
    assert (first.mechanism, first.action) == ("branch protection", "created")
    assert first.in_force == ("gatekeeper",)
    assert standin.repos[REPO].protection["main"]["required_status_checks"]["checks"] == [
        {"context": "gatekeeper", "app_id": 15368}
    ]

    writes = len(standin.writes)
    assert require(client, REPO, None).action == "unchanged"
    assert len(standin.writes) == writes


def test_classic_protection_with_other_checks_is_extended(
    standin: GitHubStandIn, client: GitHub
) -> None:
    repo = standin.repos[REPO]
    repo.rulesets_enabled = False
    repo.protection["main"] = {
        "required_status_checks": {
            "strict": True,
            "contexts": ["build"],
            "checks": [{"context": "build", "app_id": None}],
        },
        "enforce_admins": {"enabled": True},
    }

    done = require(client, REPO, "main")

    assert (done.action, done.in_force) == ("updated", ("build", "gatekeeper"))
    assert repo.protection["main"]["required_status_checks"]["strict"] is True
    assert repo.protection["main"]["enforce_admins"] == {"enabled": True}


def test_classic_protection_without_status_checks_is_not_rewritten(
    standin: GitHubStandIn, client: GitHub
) -> None:
    repo = standin.repos[REPO]
    repo.rulesets_enabled = False
    repo.protection["main"] = {"required_status_checks": None, "enforce_admins": {"enabled": True}}

    with pytest.raises(UsageError, match="Require status checks to pass"):
        require(client, REPO, "main")
    assert standin.writes == []


def test_errors_name_the_request_and_never_the_token(standin: GitHubStandIn) -> None:
    missing = cli(standin, "--repo", "octo/missing")
    assert missing.returncode == 1
    assert "GET /repos/octo/missing answered 404 (Not Found)" in missing.stderr

    bad_token = cli(standin, "--repo", REPO, token="wrong-token")
    assert bad_token.returncode == 1
    assert "401 (Bad credentials)" in bad_token.stderr

    standin.repos[REPO].rulesets_enabled = False
    no_branch = cli(standin, "--repo", REPO, "--branch", "nope")
    assert "404 (Branch not found)" in no_branch.stderr

    for done in (missing, bad_token, no_branch):
        assert TOKEN not in done.stdout + done.stderr
        assert "wrong-token" not in done.stdout + done.stderr


def test_cli_shows_what_is_in_force(standin: GitHubStandIn) -> None:
    done = cli(standin, "--repo", REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "ruleset on main: created",
        "required checks in force on main: gatekeeper",
    ]


def test_validation_errors_from_github_are_shown(standin: GitHubStandIn, client: GitHub) -> None:
    require(client, REPO, None)
    duplicate = {"name": "gatekeeper", "enforcement": "active"}
    with pytest.raises(GitHubError, match=r"422 \(Validation Failed; Name must be unique\)"):
        client.call("POST", f"/repos/{REPO}/rulesets", duplicate)


def test_missing_token_and_bad_repo_are_usage_errors(standin: GitHubStandIn) -> None:
    no_token = cli(standin, "--repo", REPO, token="")
    assert no_token.returncode == 4 and "GITHUB_TOKEN is not set" in no_token.stderr
    bad_repo = cli(standin, "--repo", "just-a-name")
    assert bad_repo.returncode == 4 and "must be OWNER/NAME" in bad_repo.stderr


def test_unreachable_github_is_a_clear_error() -> None:
    github = GitHub(TOKEN, "http://127.0.0.1:9")
    with pytest.raises(GitHubError, match="could not reach GitHub"):
        require(github, REPO, "main")
    github.close()
