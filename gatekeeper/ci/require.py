"""``gatekeeper ci require``: make the aggregate job a required status check on a branch.

Through GitHub's REST API: a repository ruleset named ``gatekeeper`` first (rulesets stack with
whatever else protects the branch), falling back to classic branch protection where rulesets are
not available (GitHub answers 403 or 404, for example a private repository on the free plan).
Idempotent: nothing is written when the check is already required. The token comes from
``GITHUB_TOKEN`` and never appears in any message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gatekeeper.errors import GatekeeperError, UsageError
from gatekeeper.extras import missing
from gatekeeper.redaction import insecure_endpoint, redact

try:
    import httpx
except ImportError:  # an optional dependency (gatekeeper/extras.py)
    raise missing("httpx", "github", "`gatekeeper ci require`") from None

API: Final = "https://api.github.com"
RULESET: Final = "gatekeeper"
CHECK: Final = "gatekeeper"
# The app id of GitHub Actions: the check must come from a workflow, not any status poster.
ACTIONS_APP_ID: Final = 15368
_FALLBACK: Final = (403, 404)


class GitHubError(GatekeeperError):
    """GitHub refused or failed a request; the message says which and what to do."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """What ``require`` did and what GitHub now enforces on the branch."""

    mechanism: str
    action: str
    branch: str
    in_force: tuple[str, ...]


class GitHub:
    """A small client over the documented endpoints; every error message is redacted."""

    def __init__(self, token: str, api: str = API, transport: httpx.BaseTransport | None = None):
        if insecure_endpoint(api):
            raise UsageError(
                f"the GitHub API URL {redact(api)} (--api-url or $GITHUB_API_URL) is not https: "
                "the token would travel in clear. Use https (plain http only to a loopback host)."
            )
        self.token = token
        self.client = httpx.Client(
            base_url=api.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "pytest-gatekeeper",
            },
            timeout=30.0,
            transport=transport,
        )

    def request(self, method: str, path: str, body: object = None) -> httpx.Response:
        """One request; a transport failure becomes :class:`GitHubError`."""
        try:
            return self.client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise GitHubError(
                self.redact(f"could not reach GitHub at {self.client.base_url} ({error}).")
            ) from None

    def call(self, method: str, path: str, body: object = None) -> Any:
        """The JSON answer of a request that must succeed."""
        response = self.request(method, path, body)
        if response.is_success:
            return response.json() if response.content else None
        raise self.error(method, path, response)

    def error(self, method: str, path: str, response: httpx.Response) -> GitHubError:
        """A user-facing error for a failed request: what failed, GitHub's words, what next."""
        hint = {
            401: "GITHUB_TOKEN is not accepted (expired or mistyped); create a new token.",
            403: "the token may not change this repository's settings: it needs the "
            "Administration (write) permission, or the repo scope of a classic token.",
            404: "the repository or branch does not exist, or the token cannot see it.",
            422: "GitHub rejected the request as invalid.",
        }.get(response.status_code, "try again later; GitHub may be having trouble.")
        said = _message(response)
        return GitHubError(
            self.redact(f"{method} {path} answered {response.status_code} ({said}): {hint}")
        )

    def redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def close(self) -> None:
        self.client.close()


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or "no message"
    if not isinstance(data, dict):
        return "no message"
    details = [str(e.get("message", e)) for e in data.get("errors", []) if isinstance(e, dict)]
    return "; ".join([str(data.get("message", "no message")), *details])


def token_from(env: Mapping[str, str]) -> str:
    """The token in ``GITHUB_TOKEN``; its absence is a usage error naming the variable."""
    token = env.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise UsageError(
            "GITHUB_TOKEN is not set. Export a token with the Administration (write) permission "
            "on the repository (for example `export GITHUB_TOKEN=$(gh auth token)`)."
        )
    return token


def require(github: GitHub, repo: str, branch: str | None, check: str = CHECK) -> Requirement:
    """Make ``check`` required on ``branch`` (default: the repository's default branch)."""
    _validate_repo(repo)
    target = branch or str(github.call("GET", f"/repos/{repo}")["default_branch"])
    listed = github.request("GET", f"/repos/{repo}/rulesets")
    if listed.status_code in _FALLBACK:
        return _classic(github, repo, target, check)
    if not listed.is_success:
        raise github.error("GET", f"/repos/{repo}/rulesets", listed)
    action = _ensure_ruleset(github, repo, target, check, listed.json())
    rules = github.call("GET", f"/repos/{repo}/rules/branches/{target}")
    return Requirement("ruleset", action, target, _ruleset_contexts(rules))


def _validate_repo(repo: str) -> None:
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise UsageError(f"--repo {repo!r} must be OWNER/NAME, for example octo/project.")


def _ensure_ruleset(github: GitHub, repo: str, branch: str, check: str, listed: Any) -> str:
    ours = next((r for r in listed if isinstance(r, dict) and r.get("name") == RULESET), None)
    if ours is None:
        github.call("POST", f"/repos/{repo}/rulesets", ruleset_body(branch, check, None))
        return "created"
    path = f"/repos/{repo}/rulesets/{ours['id']}"
    current = github.call("GET", path)
    wanted = ruleset_body(branch, check, current)
    if _same_ruleset(current, wanted):
        return "unchanged"
    github.call("PUT", path, wanted)
    return "updated"


def ruleset_body(branch: str, check: str, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ruleset to write: ``current`` with ``branch`` included and ``check`` required."""
    current = current or {}
    include = list(current.get("conditions", {}).get("ref_name", {}).get("include", []))
    exclude = list(current.get("conditions", {}).get("ref_name", {}).get("exclude", []))
    ref = f"refs/heads/{branch}"
    if ref not in include:
        include.append(ref)
    rules = [r for r in current.get("rules", []) if r.get("type") != "required_status_checks"]
    status: Mapping[str, Any] = next(
        (r for r in current.get("rules", []) if r.get("type") == "required_status_checks"), {}
    )
    parameters = dict(status.get("parameters", {}))
    checks = list(parameters.get("required_status_checks", []))
    if not any(c.get("context") == check for c in checks):
        checks.append({"context": check, "integration_id": ACTIONS_APP_ID})
    parameters["required_status_checks"] = checks
    parameters.setdefault("strict_required_status_checks_policy", False)
    rules.append({"type": "required_status_checks", "parameters": parameters})
    return {
        "name": RULESET,
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": include, "exclude": exclude}},
        "rules": rules,
    }


def _same_ruleset(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(current.get(key) == wanted[key] for key in ("enforcement", "conditions", "rules"))


def _ruleset_contexts(rules: Any) -> tuple[str, ...]:
    found = []
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and rule.get("type") == "required_status_checks":
            checks = rule.get("parameters", {}).get("required_status_checks", [])
            found += [str(c.get("context")) for c in checks]
    return tuple(dict.fromkeys(found))


def _classic(github: GitHub, repo: str, branch: str, check: str) -> Requirement:
    path = f"/repos/{repo}/branches/{branch}/protection"
    answer = github.request("GET", path)
    if answer.status_code == 404:
        github.call("PUT", path, protection_body(check))
        action = "created"
    elif answer.is_success:
        action = _add_classic_check(github, path, answer.json(), check)
    else:
        raise github.error("GET", path, answer)
    checks = github.call("GET", f"{path}/required_status_checks")
    contexts = tuple(str(c) for c in checks.get("contexts", []))
    return Requirement("branch protection", action, branch, contexts)


def protection_body(check: str) -> dict[str, Any]:
    """Classic protection for an unprotected branch: only the required check, nothing else."""
    return {
        "required_status_checks": {
            "strict": False,
            "checks": [{"context": check, "app_id": ACTIONS_APP_ID}],
        },
        "enforce_admins": None,
        "required_pull_request_reviews": None,
        "restrictions": None,
    }


def _add_classic_check(github: GitHub, path: str, protection: Any, check: str) -> str:
    status = protection.get("required_status_checks")
    if not isinstance(status, dict):
        raise UsageError(
            f"the branch is protected without required status checks ({path}); gatekeeper "
            "will not rewrite the other protection settings. Turn on 'Require status checks to "
            "pass' in the branch protection settings, or enable rulesets, then run again."
        )
    checks = [c for c in status.get("checks", []) if isinstance(c, dict)]
    if any(c.get("context") == check for c in checks):
        return "unchanged"
    checks.append({"context": check, "app_id": ACTIONS_APP_ID})
    github.call("PATCH", f"{path}/required_status_checks", {"checks": checks})
    return "updated"
