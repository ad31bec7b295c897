"""A STAND-IN for GitHub's REST API, for tests only: this machine cannot reach GitHub.

It implements the documented subset `gatekeeper ci require` uses, with GitHub's status codes and
error bodies: repository rulesets (list, get, create, update), the rules in force on a branch,
and classic branch protection (get, replace, required status checks get and update). Requests
must carry the bearer token; rulesets can be switched off to answer 403 as GitHub does for a
private repository on the free plan.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from tests import http_standin
from tests.http_standin import Answer

DOCS = "https://docs.github.com/rest"
RULE_TYPES = {"required_status_checks", "pull_request", "non_fast_forward", "deletion"}


@dataclass
class Repository:
    default_branch: str = "main"
    branches: set[str] = field(default_factory=lambda: {"main"})
    rulesets_enabled: bool = True
    rulesets: dict[int, dict[str, Any]] = field(default_factory=dict)
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class GitHubStandIn:
    token: str
    repos: dict[str, Repository] = field(default_factory=dict)
    writes: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def handle(self, method: str, target: str, auth: str, body: Any) -> Answer:
        if auth != f"Bearer {self.token}":
            return 401, _error("Bad credentials")
        if method != "GET":
            self.writes.append((method, target))
        return self._route(method, target.split("?", maxsplit=1)[0], body)

    def _route(self, method: str, path: str, body: Any) -> Answer:
        for pattern, name in ROUTES:
            match = re.fullmatch(pattern, path)
            if match is None:
                continue
            repo = self.repos.get(match.group("repo"))
            if repo is None:
                return 404, _error("Not Found")
            handler = getattr(self, f"{name}_{method.lower()}", None)
            if handler is None:
                return 404, _error("Not Found")
            params = {k: v for k, v in match.groupdict().items() if k != "repo"}
            answer: tuple[int, Any] = handler(repo, body, **params)
            return answer
        return 404, _error("Not Found")

    # -- repository --------------------------------------------------------------------------

    def repo_get(self, repo: Repository, body: Any) -> tuple[int, Any]:
        return 200, {"default_branch": repo.default_branch}

    # -- rulesets ----------------------------------------------------------------------------

    def rulesets_get(self, repo: Repository, body: Any) -> tuple[int, Any]:
        if not repo.rulesets_enabled:
            return 403, _upgrade()
        return 200, [
            {k: r[k] for k in ("id", "name", "target", "enforcement", "source_type", "source")}
            for r in repo.rulesets.values()
        ]

    def rulesets_post(self, repo: Repository, body: Any) -> tuple[int, Any]:
        if not repo.rulesets_enabled:
            return 403, _upgrade()
        problem = _invalid_ruleset(body)
        if any(r["name"] == body.get("name") for r in repo.rulesets.values()):
            problem = "Name must be unique"
        if problem:
            return 422, _error("Validation Failed", problem)
        number = len(repo.rulesets) + 1
        repo.rulesets[number] = {
            "id": number,
            "source_type": "Repository",
            "source": "stand/in",
            "bypass_actors": [],
            **body,
        }
        return 201, repo.rulesets[number]

    def ruleset_get(self, repo: Repository, body: Any, number: str) -> tuple[int, Any]:
        found = repo.rulesets.get(int(number))
        return (200, found) if found else (404, _error("Not Found"))

    def ruleset_put(self, repo: Repository, body: Any, number: str) -> tuple[int, Any]:
        found = repo.rulesets.get(int(number))
        if found is None:
            return 404, _error("Not Found")
        problem = _invalid_ruleset({**found, **body})
        if problem:
            return 422, _error("Validation Failed", problem)
        found.update(body)
        return 200, found

    def rules_get(self, repo: Repository, body: Any, branch: str) -> tuple[int, Any]:
        rules = []
        for ruleset in repo.rulesets.values():
            include = ruleset.get("conditions", {}).get("ref_name", {}).get("include", [])
            applies = (
                f"refs/heads/{branch}" in include
                or "~ALL" in include
                or ("~DEFAULT_BRANCH" in include and branch == repo.default_branch)
            )
            if applies and ruleset.get("enforcement") == "active":
                rules += [
                    {**rule, "ruleset_source_type": "Repository", "ruleset_id": ruleset["id"]}
                    for rule in ruleset.get("rules", [])
                ]
        return 200, rules

    # -- classic branch protection -----------------------------------------------------------

    def protection_get(self, repo: Repository, body: Any, branch: str) -> tuple[int, Any]:
        if branch not in repo.branches:
            return 404, _error("Branch not found")
        found = repo.protection.get(branch)
        return (200, found) if found else (404, _error("Branch not protected"))

    def protection_put(self, repo: Repository, body: Any, branch: str) -> tuple[int, Any]:
        if branch not in repo.branches:
            return 404, _error("Branch not found")
        for key in (
            "required_status_checks",
            "enforce_admins",
            "required_pull_request_reviews",
            "restrictions",
        ):
            if not isinstance(body, dict) or key not in body:
                return 422, _error(f'Invalid request.\n\n"{key}" wasn\'t supplied.')
        checks = body["required_status_checks"]
        repo.protection[branch] = {
            "required_status_checks": None if checks is None else _status(checks),
            "enforce_admins": {"enabled": bool(body["enforce_admins"])},
        }
        return 200, repo.protection[branch]

    def checks_get(self, repo: Repository, body: Any, branch: str) -> tuple[int, Any]:
        status = repo.protection.get(branch, {}).get("required_status_checks")
        return (200, status) if status else (404, _error("Required status checks not enabled"))

    def checks_patch(self, repo: Repository, body: Any, branch: str) -> tuple[int, Any]:
        status = repo.protection.get(branch, {}).get("required_status_checks")
        if not status:
            return 404, _error("Required status checks not enabled")
        merged = _status({"strict": status["strict"], "checks": status["checks"], **body})
        repo.protection[branch]["required_status_checks"] = merged
        return 200, merged


ROUTES = (
    (r"/repos/(?P<repo>[^/]+/[^/]+)", "repo"),
    (r"/repos/(?P<repo>[^/]+/[^/]+)/rulesets", "rulesets"),
    (r"/repos/(?P<repo>[^/]+/[^/]+)/rulesets/(?P<number>\d+)", "ruleset"),
    (r"/repos/(?P<repo>[^/]+/[^/]+)/rules/branches/(?P<branch>.+)", "rules"),
    (r"/repos/(?P<repo>[^/]+/[^/]+)/branches/(?P<branch>[^/]+)/protection", "protection"),
    (
        r"/repos/(?P<repo>[^/]+/[^/]+)/branches/(?P<branch>[^/]+)/protection/required_status_checks",
        "checks",
    ),
)


def _status(checks: dict[str, Any]) -> dict[str, Any]:
    listed = checks.get("checks") or [{"context": c, "app_id": None} for c in checks["contexts"]]
    return {
        "strict": bool(checks.get("strict")),
        "contexts": [c["context"] for c in listed],
        "checks": listed,
    }


def _invalid_ruleset(body: Any) -> str | None:
    if not isinstance(body, dict) or not body.get("name"):
        return "name is required"
    if body.get("enforcement") not in ("disabled", "active", "evaluate"):
        return "enforcement must be one of disabled, active, evaluate"
    if body.get("target", "branch") not in ("branch", "tag", "push"):
        return "target is invalid"
    for rule in body.get("rules", []):
        if rule.get("type") not in RULE_TYPES:
            return f"Invalid rule '{rule.get('type')}'"
        if rule["type"] == "required_status_checks":
            parameters = rule.get("parameters", {})
            if "strict_required_status_checks_policy" not in parameters:
                return "strict_required_status_checks_policy is required"
    return None


def _error(message: str, *problems: str) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": "0"}
    if problems:
        body["errors"] = [{"resource": "Repository", "message": p} for p in problems]
    return body


def _upgrade() -> dict[str, Any]:
    return _error("Upgrade to GitHub Pro or make this repository public to enable this feature.")


def serve(state: GitHubStandIn) -> AbstractContextManager[GitHubStandIn]:
    """Run the stand-in on a free loopback port for the duration of the block."""
    return http_standin.serve(state, content_type="application/json; charset=utf-8")
