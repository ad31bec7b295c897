"""A STAND-IN for Neon's HTTP API v2, for tests only: this machine cannot reach Neon.

It implements the documented subset the Neon backend uses, with Neon's answers:

- ``POST/GET /projects/{p}/branches`` (create from a parent with ``expires_at``, endpoints and
  ``annotation_value``; list with ``search``, sorting, cursor pagination and the
  ``annotations`` map), ``GET/PATCH/DELETE /projects/{p}/branches/{b}``;
- ``GET/POST /projects/{p}/branches/{b}/databases``, ``DELETE .../databases/{name}``;
- ``GET /projects/{p}/connection_uri``; ``GET /projects/{p}/operations/{id}``.

And the error answers: 401 without the bearer key; ``423 Locked`` for a change while another
operation of the project runs; ``429`` over the rate limit (Neon's is about 700 requests a
minute; tests lower it); ``expires_at`` must be RFC 3339 with a time zone, in the future and at
most 30 days out; a branch with children cannot be deleted, get an expiry, and an expiring
branch cannot get children; the default branch cannot be deleted; a free plan caps a project at
10 branches. Operations go ``scheduling`` -> ``running`` -> ``finished`` over
``operation_seconds``. Neon deletes expired branches in the background; here that happens only
when :meth:`Project.purge_expired` is called, as if the background job lagged.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections import deque
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests import http_standin
from tests.http_standin import Answer

PREFIX = "/api/v2"
MAX_EXPIRY = timedelta(days=30)
RESERVED = {"postgres", "template0", "template1"}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_counter = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(message: str, code: str = "") -> dict[str, str]:
    return {"code": code, "message": message, "request_id": uuid.uuid4().hex}


@dataclass
class Operation:
    id: str
    branch_id: str
    action: str
    started: float
    seconds: float

    @property
    def status(self) -> str:
        elapsed = time.monotonic() - self.started
        if elapsed >= self.seconds:
            return "finished"
        return "scheduling" if elapsed < self.seconds / 3 else "running"

    def json(self, project: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "project_id": project,
            "branch_id": self.branch_id,
            "action": self.action,
            "status": self.status,
            "failures_count": 0,
            "created_at": _now(),
            "updated_at": _now(),
            "total_duration_ms": int(self.seconds * 1000),
        }


@dataclass
class Branch:
    id: str
    name: str
    parent_id: str | None
    expires_at: str | None = None
    default: bool = False
    host: str | None = None
    databases: dict[str, str] = field(default_factory=dict)  # name -> owner role
    roles: dict[str, str] = field(default_factory=dict)  # name -> password
    created_at: str = field(default_factory=_now)

    def json(self, project: str, ready: bool) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": self.id,
            "project_id": project,
            "name": self.name,
            "current_state": "ready" if ready else "init",
            "default": self.default,
            "protected": False,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }
        if self.parent_id:
            found["parent_id"] = self.parent_id
        if self.expires_at:
            found["expires_at"] = self.expires_at
        return found


@dataclass
class Project:
    id: str
    branches: dict[str, Branch] = field(default_factory=dict)
    annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    branch_limit: int = 10  # the free plan's cap
    operation_seconds: float = 0.15

    @classmethod
    def new(cls, ident: str) -> Project:
        project = cls(ident)
        main = Branch("br-main-0", "main", None, default=True, host="ep-main-0.standin.invalid")
        main.databases["neondb"] = "neondb_owner"
        main.roles["neondb_owner"] = "npg_standin_password"
        project.branches[main.id] = main
        return project

    @property
    def default(self) -> Branch:
        return next(b for b in self.branches.values() if b.default)

    def busy(self) -> bool:
        return any(op.status != "finished" for op in self.operations.values())

    def operate(self, branch_id: str, *actions: str) -> list[dict[str, Any]]:
        made = []
        for action in actions:
            op = Operation(str(uuid.uuid4()), branch_id, action, time.monotonic(), 0.0)
            op.seconds = self.operation_seconds
            self.operations[op.id] = op
            made.append(op.json(self.id))
        return made

    def ready(self, branch_id: str) -> bool:
        return all(
            op.status == "finished" for op in self.operations.values() if op.branch_id == branch_id
        )

    def add_branch(
        self,
        name: str,
        annotation: dict[str, str] | None = None,
        *,
        expires_at: str | None = None,
        parent_id: str | None = None,
    ) -> Branch:
        """Put a branch straight into the project's state (what earlier sessions left)."""
        parent = self.branches[parent_id] if parent_id else self.default
        number = next(_counter)
        branch = Branch(f"br-standin-{number}", name, parent.id, expires_at)
        branch.host = f"ep-standin-{number}.standin.invalid"
        branch.databases = dict(parent.databases)
        branch.roles = dict(parent.roles)
        self.branches[branch.id] = branch
        if annotation is not None:
            self.annotations[branch.id] = annotation
        return branch

    def purge_expired(self) -> list[str]:
        """Neon's background job: delete branches whose ``expires_at`` passed."""
        now = datetime.now(UTC)
        gone = [
            b.id
            for b in self.branches.values()
            if b.expires_at and datetime.fromisoformat(b.expires_at) <= now
        ]
        for ident in gone:
            self.branches.pop(ident)
            self.annotations.pop(ident, None)
        return gone

    def children(self, branch_id: str) -> list[str]:
        return [b.id for b in self.branches.values() if b.parent_id == branch_id]


def expiry_problem(value: object) -> str:
    """Neon's checks of ``expires_at``; empty when it is acceptable."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return "expires_at must be an RFC 3339 timestamp with a time zone"
    when = datetime.fromisoformat(value)
    now = datetime.now(UTC)
    if when <= now:
        return "expires_at must be in the future"
    if when - now > MAX_EXPIRY:
        return "expires_at must be at most 30 days from now"
    return ""


def annotation_problem(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, dict) or len(value) > 50:
        return "annotation_value must be an object of at most 50 properties"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return "annotation_value properties must be strings"
    # Neon keeps annotation values short: at most 50 characters each.
    if any(len(v) > 50 for v in value.values()):
        return "annotation_value values must be at most 50 characters"
    return ""


@dataclass
class NeonStandIn:
    """The service: projects, the API key it accepts, its rate limit, and what it answered."""

    key: str
    projects: dict[str, Project] = field(default_factory=dict)
    rate_limit: int = 700
    rate_window: float = 60.0
    answered: list[tuple[str, str, int]] = field(default_factory=list)
    url: str = ""
    # The next this many requests get 500 with an empty body, as a failing gateway answers.
    bare_errors: int = 0
    _recent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def project(self, ident: str) -> Project:
        return self.projects.setdefault(ident, Project.new(ident))

    def statuses(self) -> list[int]:
        return [status for _, _, status in self.answered]

    def handle(self, method: str, target: str, auth: str, body: Any) -> Answer:
        with self._lock:
            answer = self._handle(method, target, auth, body)
            self.answered.append((method, urlsplit(target).path, answer[0]))
            return answer

    def _handle(self, method: str, target: str, auth: str, body: Any) -> Answer:
        if auth != f"Bearer {self.key}":
            return 401, _error("authentication required", "UNAUTHORIZED")
        if self.bare_errors > 0:
            self.bare_errors -= 1
            return 500, None
        if self._over_limit():
            return 429, _error("rate limit exceeded", "TOO_MANY_REQUESTS")
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.removeprefix(PREFIX)
        for pattern, name in ROUTES:
            match = re.fullmatch(pattern, path)
            handler = getattr(self, f"{name}_{method.lower()}", None) if match else None
            if match is not None and handler is not None:
                return self._route(method, match, handler, query, body)
        return 404, _error(f"no route for {method} {path}", "NOT_FOUND")

    def _route(
        self, method: str, match: re.Match[str], handler: Any, query: Any, body: Any
    ) -> Answer:
        project = self.projects.get(match.group("project"))
        if project is None:
            return 404, _error("project not found", "PROJECT_NOT_FOUND")
        if method != "GET" and project.busy():
            return 423, _error(
                "project already has running conflicting operations, scheduling of new "
                "ones is prohibited",
                "LOCKED",
            )
        params = {k: v for k, v in match.groupdict().items() if k != "project"}
        answer: Answer = handler(project, query, body, **params)
        return answer

    def _over_limit(self) -> bool:
        now = time.monotonic()
        while self._recent and now - self._recent[0] > self.rate_window:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            return True
        self._recent.append(now)
        return False

    # -- branches -----------------------------------------------------------------------------

    def branches_post(self, project: Project, query: Any, body: Any) -> Answer:
        body = body or {}
        spec = body.get("branch") or {}
        problem = annotation_problem(body.get("annotation_value"))
        if "expires_at" in spec:
            problem = problem or expiry_problem(spec["expires_at"])
        if problem:
            return 400, _error(problem, "BAD_REQUEST")
        parent = project.branches.get(spec.get("parent_id") or project.default.id)
        refused = self._refuse_child(project, parent, spec.get("name"))
        if refused is not None:
            return refused
        assert parent is not None
        return self._create_branch(project, parent, spec, body)

    def _refuse_child(self, project: Project, parent: Branch | None, name: object) -> Answer | None:
        if parent is None:
            return 404, _error("parent branch not found", "BRANCH_NOT_FOUND")
        if parent.expires_at:
            return 400, _error("cannot create a child of a branch with an expiration")
        if any(b.name == name for b in project.branches.values()):
            return 409, _error("branch with that name already exists", "CONFLICT")
        if len(project.branches) >= project.branch_limit:
            return 422, _error("branches limit exceeded", "BRANCHES_LIMIT_EXCEEDED")
        return None

    def _create_branch(self, project: Project, parent: Branch, spec: Any, body: Any) -> Answer:
        name = spec.get("name") or f"br-auto-{next(_counter)}"
        branch = project.add_branch(
            name,
            body.get("annotation_value"),
            expires_at=spec.get("expires_at"),
            parent_id=parent.id,
        )
        endpoints = body.get("endpoints") or []
        if not endpoints:
            branch.host = None
        actions = ["create_timeline", *(["start_compute"] if endpoints else [])]
        operations = project.operate(branch.id, *actions)
        answer = {
            "branch": branch.json(project.id, ready=False),
            "endpoints": [{"host": branch.host, "type": "read_write"}] if endpoints else [],
            "operations": operations,
            "roles": [{"branch_id": branch.id, "name": r} for r in branch.roles],
            "databases": [{"branch_id": branch.id, "name": d} for d in branch.databases],
        }
        return 201, answer

    def branches_get(self, project: Project, query: Any, body: Any) -> Answer:
        found = self._search(project, query)
        start = int(query.get("cursor") or 0)
        limit = int(query.get("limit") or 10000)
        page = found[start : start + limit]
        answer: dict[str, Any] = {
            "branches": [b.json(project.id, project.ready(b.id)) for b in page],
            "annotations": {
                b.id: {"object": {"type": "console/branch", "id": b.id}, "value": value}
                for b in page
                if (value := project.annotations.get(b.id)) is not None
            },
        }
        if start + limit < len(found):
            answer["pagination"] = {"next": str(start + limit)}
        return 200, answer

    @staticmethod
    def _search(project: Project, query: Any) -> list[Branch]:
        search = query.get("search", "")
        found = [b for b in project.branches.values() if search in b.name or search in b.id]
        key = query.get("sort_by", "updated_at")
        found.sort(key=lambda b: b.name if key == "name" else b.created_at)
        if query.get("sort_order", "desc") == "desc":
            found.reverse()
        return found

    def branch_get(self, project: Project, query: Any, body: Any, branch: str) -> Answer:
        found = project.branches.get(branch)
        if found is None:
            return 404, _error("branch not found", "BRANCH_NOT_FOUND")
        return 200, {"branch": found.json(project.id, project.ready(branch))}

    def branch_patch(self, project: Project, query: Any, body: Any, branch: str) -> Answer:
        found = project.branches.get(branch)
        if found is None:
            return 404, _error("branch not found", "BRANCH_NOT_FOUND")
        spec = (body or {}).get("branch") or {}
        problem = self._expiry_change_problem(project, found, spec.get("expires_at"))
        if problem:
            return 400, _error(problem, "BAD_REQUEST")
        if "expires_at" in spec:
            found.expires_at = spec["expires_at"]
        found.name = spec.get("name") or found.name
        return 200, {"branch": found.json(project.id, True), "operations": []}

    @staticmethod
    def _expiry_change_problem(project: Project, branch: Branch, value: object) -> str:
        if value is None:
            return ""  # null removes the expiry
        if branch.default or project.children(branch.id):
            return "cannot set an expiration on a default branch or one with children"
        return expiry_problem(value)

    def branch_delete(self, project: Project, query: Any, body: Any, branch: str) -> Answer:
        found = project.branches.get(branch)
        if found is None:
            return 204, None
        if found.default:
            return 400, _error("cannot delete the project's default branch", "BAD_REQUEST")
        if project.children(branch):
            return 422, _error("branch has children and cannot be deleted", "BRANCH_HAS_CHILDREN")
        project.branches.pop(branch)
        project.annotations.pop(branch, None)
        operations = project.operate(branch, "suspend_compute", "delete_timeline")
        return 200, {"branch": found.json(project.id, True), "operations": operations}

    # -- databases ----------------------------------------------------------------------------

    def databases_get(self, project: Project, query: Any, body: Any, branch: str) -> Answer:
        found = project.branches.get(branch)
        if found is None:
            return 404, _error("branch not found", "BRANCH_NOT_FOUND")
        listed = [
            {"branch_id": branch, "name": n, "owner_name": o} for n, o in found.databases.items()
        ]
        return 200, {"databases": listed}

    def databases_post(self, project: Project, query: Any, body: Any, branch: str) -> Answer:
        found = project.branches.get(branch)
        spec = (body or {}).get("database") or {}
        name, owner = spec.get("name"), spec.get("owner_name")
        if found is None:
            return 404, _error("branch not found", "BRANCH_NOT_FOUND")
        if not name or not owner or name in RESERVED:
            return 400, _error("database name and owner_name are required; name not reserved")
        if owner not in found.roles:
            return 404, _error(f"role {owner} not found", "ROLE_NOT_FOUND")
        if name in found.databases:
            return 409, _error(f"database {name} already exists", "CONFLICT")
        found.databases[name] = owner
        database = {"branch_id": branch, "name": name, "owner_name": owner}
        return 201, {"database": database, "operations": project.operate(branch, "apply_config")}

    def database_delete(
        self, project: Project, query: Any, body: Any, branch: str, database: str
    ) -> Answer:
        found = project.branches.get(branch)
        if found is None:
            return 404, _error("branch not found", "BRANCH_NOT_FOUND")
        owner = found.databases.pop(database, None)
        if owner is None:
            return 204, None
        entry = {"branch_id": branch, "name": database, "owner_name": owner}
        return 200, {"database": entry, "operations": project.operate(branch, "apply_config")}

    # -- connection URI and operations --------------------------------------------------------

    def uri_get(self, project: Project, query: Any, body: Any) -> Answer:
        database, role = query.get("database_name"), query.get("role_name")
        if not database or not role:
            return 400, _error("database_name and role_name are required", "BAD_REQUEST")
        branch = project.branches.get(query.get("branch_id") or project.default.id)
        if branch is None or branch.host is None:
            return 404, _error("branch or its read-write endpoint not found", "NOT_FOUND")
        if database not in branch.databases or role not in branch.roles:
            return 404, _error("database or role not found", "NOT_FOUND")
        password = branch.roles[role]
        uri = f"postgresql://{role}:{password}@{branch.host}/{database}?sslmode=require"
        return 200, {"uri": uri}

    def operation_get(self, project: Project, query: Any, body: Any, operation: str) -> Answer:
        found = project.operations.get(operation)
        if found is None:
            return 404, _error("operation not found", "NOT_FOUND")
        return 200, {"operation": found.json(project.id)}


_ID = r"[a-z0-9-]{1,60}"
ROUTES: list[tuple[str, str]] = [
    (rf"/projects/(?P<project>{_ID})/branches", "branches"),
    (rf"/projects/(?P<project>{_ID})/branches/(?P<branch>{_ID})", "branch"),
    (rf"/projects/(?P<project>{_ID})/branches/(?P<branch>{_ID})/databases", "databases"),
    (
        rf"/projects/(?P<project>{_ID})/branches/(?P<branch>{_ID})/databases/(?P<database>[^/]+)",
        "database",
    ),
    (rf"/projects/(?P<project>{_ID})/connection_uri", "uri"),
    (rf"/projects/(?P<project>{_ID})/operations/(?P<operation>[0-9a-f-]+)", "operation"),
]


def serve(state: NeonStandIn) -> AbstractContextManager[NeonStandIn]:
    """Run the stand-in on a free loopback port; ``state.url`` is its API base URL."""
    return http_standin.serve(state, base=PREFIX)
