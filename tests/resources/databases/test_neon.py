"""The Neon backend against the local stand-in of Neon's API (this machine cannot reach Neon):
create, poll, connection URI, delete; 423 and 429 retried; the key redacted everywhere; the
sweep; and the fixtures handing each xdist worker its own database."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gatekeeper.config import CORE_OPTIONS, Settings
from gatekeeper.errors import ConfigError
from gatekeeper.resources import owners
from gatekeeper.resources.databases.base import Database, Template
from gatekeeper.resources.databases.neon import NeonBackend, annotation, open_backend, rfc3339
from gatekeeper.resources.databases.neon_api import NeonApi
from gatekeeper.resources.identity import Identity
from gatekeeper.resources.locks import ResourceError
from gatekeeper.resources.sweep import sweep
from tests.resources.databases.neon_standin import NeonStandIn, Project, serve

KEY = "napi_standin_SECRET_key_0123456789"
PROJECT = "quiet-lake-123456"


@pytest.fixture
def standin() -> Iterator[NeonStandIn]:
    state = NeonStandIn(KEY)
    state.project(PROJECT)
    with serve(state) as running:
        yield running


def backend_for(
    standin: NeonStandIn, mode: str = "branch", key: str = KEY, **kw: float
) -> NeonBackend:
    api = NeonApi(key, standin.url, backoff=0.02, poll=0.05, patience=kw.pop("patience", 20.0))
    return NeonBackend(api, PROJECT, mode=mode, ttl=kw.pop("ttl", 3600.0))


def empty(tmp_path: Path) -> Template:
    return Template("k", "", tmp_path)


def ours(project: Project) -> list[str]:
    return [b for b, value in project.annotations.items() if value.get("gatekeeper") == "1"]


def polled(standin: NeonStandIn) -> bool:
    return any(m == "GET" and "/operations/" in path for m, path, _ in standin.answered)


def check_marker(marker: dict[str, str], identity: Identity) -> None:
    assert marker["owner"] == identity.key and marker["worktree"] == identity.worktree
    assert marker["kind"] == "worker" and marker["branch"] == identity.branch
    assert abs(time.time() + 3600 - float(marker["expires"])) < 60


def test_branch_mode_create_poll_connect_delete(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    setup = (
        f"{sys.executable} -c \"import os; open('url.txt','w').write(os.environ['DATABASE_URL'])\""
    )
    backend = backend_for(standin)
    identity = Identity("/wt/a", "run1", "gw0", "feature")
    database = backend.create(Template("k", setup, tmp_path), identity, "main")
    project = standin.projects[PROJECT]
    (branch_id,) = ours(project)
    branch = project.branches[branch_id]
    assert database.backend == "neon"
    assert database.url == (tmp_path / "url.txt").read_text()  # setup ran against it
    assert database.url.startswith(f"postgresql://neondb_owner:npg_standin_password@{branch.host}/")
    check_marker(project.annotations[branch_id], identity)
    assert branch.expires_at is not None and branch.parent_id == "br-main-0"
    assert polled(standin)  # the operations were polled until finished
    assert project.ready(branch_id)
    backend.drop(database)
    assert branch_id not in project.branches
    assert all(op.status == "finished" for op in project.operations.values())
    backend.close()


def test_database_mode_shares_one_branch_per_run(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    backend = backend_for(standin, mode="database")
    first, second = Identity("/wt/a", "run1", "gw0"), Identity("/wt/a", "run1", "gw1")
    held = owners.claim(second)  # gw1 is alive while gw0 finishes
    a = backend.create(empty(tmp_path), first, "main")
    b = backend.create(empty(tmp_path), second, "main")
    project = standin.projects[PROJECT]
    (run_branch,) = ours(project)
    assert project.annotations[run_branch]["kind"] == "run"
    assert {a.name, b.name} <= set(project.branches[run_branch].databases)
    assert a.url.endswith(f"/{a.name}?sslmode=require") and a.name != b.name
    backend.drop(a)
    assert run_branch in project.branches  # gw1 still uses it
    assert a.name not in project.branches[run_branch].databases
    backend.drop(b)
    held.release()
    assert run_branch not in project.branches  # the last worker out deletes the branch
    with pytest.raises(ResourceError, match="not made by this session"):
        backend.drop(Database("u", "someone_elses", "neon"))
    backend.close()


def test_locked_project_is_retried(standin: NeonStandIn, state: Path, tmp_path: Path) -> None:
    project = standin.projects[PROJECT]
    project.operation_seconds = 0.4
    project.operate("br-main-0", "start_compute")  # another operation is running
    backend = backend_for(standin)
    database = backend.create(empty(tmp_path), Identity("/wt/a", "r"), "main")
    statuses = standin.statuses()
    assert statuses[0] == 423 and 201 in statuses
    assert backend.api.retries >= 1
    backend.drop(database)
    backend.close()


def test_rate_limit_is_retried(standin: NeonStandIn, state: Path, tmp_path: Path) -> None:
    standin.rate_limit, standin.rate_window = 3, 0.3
    backend = backend_for(standin)
    database = backend.create(empty(tmp_path), Identity("/wt/a", "r"), "main")
    backend.drop(database)
    assert 429 in standin.statuses()
    assert backend.api.retries >= 1
    assert not ours(standin.projects[PROJECT])
    backend.close()


def test_a_locked_project_past_patience_fails_with_a_message(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    project = standin.projects[PROJECT]
    project.operation_seconds = 5.0
    project.operate("br-main-0", "start_compute")
    backend = backend_for(standin, patience=0.3)
    with pytest.raises(ResourceError, match="kept answering 423"):
        backend.create(empty(tmp_path), Identity("/wt/a", "r"), "main")
    backend.close()


def test_a_server_error_without_a_body_is_an_error(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    standin.bare_errors = 1
    backend = backend_for(standin)
    with pytest.raises(ResourceError, match=r"refused .* with 500: Internal Server Error"):
        backend.create(empty(tmp_path), Identity("/wt/a", "r"), "main")
    assert standin.statuses() == [500]
    assert not ours(standin.projects[PROJECT])
    backend.close()


def secret_free(error: BaseException, logs: str, *things: object) -> None:
    for text in (str(error), repr(error), logs, *map(repr, things)):
        assert KEY not in text
        assert "npg_standin_password" not in text


def test_the_key_never_appears_in_errors_logs_or_reprs(
    standin: NeonStandIn, state: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    identity = Identity("/wt/a", "r")
    shout = f"print(os.environ['DATABASE_URL'], '{KEY}'); raise SystemExit(3)"
    leaky = f'{sys.executable} -c "import os; {shout}"'
    cases: list[tuple[NeonBackend, Template, str]] = []
    wrong = backend_for(standin, key=KEY + "x")  # a key the service refuses: 401
    cases.append((wrong, empty(tmp_path), "NEON_API_KEY is not accepted"))
    missing = backend_for(standin)
    missing.project = "no-such-project"
    cases.append((missing, empty(tmp_path), "404"))
    too_late = backend_for(standin, ttl=40 * 86400.0)
    cases.append((too_late, empty(tmp_path), "at most 30 days"))
    cases.append((backend_for(standin), Template("k", leaky, tmp_path), "exit status 3"))
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    gone = NeonBackend(NeonApi(KEY, f"http://127.0.0.1:{port}/api/v2"), PROJECT)
    cases.append((gone, empty(tmp_path), "cannot reach Neon's API"))
    for backend, template, expected in cases:
        with pytest.raises(ResourceError, match=expected) as caught:
            backend.create(template, identity, "main")
        secret_free(caught.value, caplog.text, backend, backend.api)
        backend.close()
    assert not ours(standin.projects[PROJECT])  # the failed setup's branch was deleted


def test_free_plan_branch_cap_names_the_way_out(
    standin: NeonStandIn, state: Path, tmp_path: Path
) -> None:
    project = standin.projects[PROJECT]
    for number in range(project.branch_limit - 1):
        project.add_branch(f"someone-{number}")
    backend = backend_for(standin)
    with pytest.raises(ResourceError, match="neon-mode = 'database'"):
        backend.create(empty(tmp_path), Identity("/wt/a", "r"), "main")
    assert len(project.branches) == project.branch_limit
    backend.close()


def test_sweep_removes_expired_and_dead_branches_and_leaves_foreign_ones(
    standin: NeonStandIn, state: Path
) -> None:
    project = standin.projects[PROJECT]
    later, past = time.time() + 3600, time.time() - 60
    dead, alive = Identity("/wt/a", "r", "gw0"), Identity("/wt/b", "r", "gw0")
    held = owners.claim(alive)
    dead_one = project.add_branch("gk-dead", annotation(dead, "worker", later))
    expired = project.add_branch(
        "gk-expired", annotation(alive, "worker", later), expires_at=rfc3339(past)
    )
    live = project.add_branch("gk-live", annotation(alive, "worker", later))
    foreign_expired = project.add_branch("theirs", None, expires_at=rfc3339(past))
    foreign_marked = project.add_branch(
        "theirs-2", {"owner": dead.key, "host": socket.gethostname()}
    )
    parent = project.add_branch("gk-dead-parent", annotation(dead, "worker", later))
    project.add_branch("child-of-ours", None, parent_id=parent.id)
    backend = backend_for(standin)
    listed = sweep([backend], state, dry_run=True)
    neon = sorted(left.name for left in listed if left.backend == "neon")
    assert neon == sorted([dead_one.id, expired.id])
    assert dead_one.id in project.branches  # a dry run removes nothing
    sweep([backend], state)
    remaining = set(project.branches)
    assert dead_one.id not in remaining and expired.id not in remaining
    assert {live.id, foreign_expired.id, foreign_marked.id, parent.id} <= remaining
    held.release()
    backend.close()


def settings(tmp_path: Path, **values: object) -> Settings:
    defaults = {option.key: option.default for option in CORE_OPTIONS}
    return Settings({**defaults, "database.backend": "neon", **values}, tmp_path)


def test_configuration_errors_name_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEON_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="neon-project"):
        open_backend(settings(tmp_path))
    with pytest.raises(ConfigError, match=r"\$NEON_API_KEY"):
        open_backend(settings(tmp_path, **{"database.neon-project": PROJECT}))
    monkeypatch.setenv("NEON_API_KEY", KEY)
    with pytest.raises(ConfigError, match="30 days") as caught:
        open_backend(settings(tmp_path, **{"database.neon-project": PROJECT, "database.ttl": 4e6}))
    assert KEY not in str(caught.value)
    backend = open_backend(settings(tmp_path, **{"database.neon-project": PROJECT}))
    assert backend.api.base == "https://console.neon.tech/api/v2"
    assert KEY not in repr(backend)
    backend.close()


WORKER_TEST = """\
import json
import os
from pathlib import Path


def test_worker(gatekeeper_database, gatekeeper_identity):
    record = {"name": gatekeeper_database.name, "url": gatekeeper_database.url,
              "backend": gatekeeper_database.backend, "worker": gatekeeper_identity.worker}
    out = Path(os.environ["NEON_OUT"]) / f"{gatekeeper_identity.worker}.json"
    out.write_text(json.dumps(record))
"""

SETUP = """\
import os, pathlib
log = pathlib.Path(os.environ["NEON_OUT"], "setup.log")
log.open("a").write(os.environ["DATABASE_URL"] + "\\n")
"""


@pytest.mark.parametrize("mode", ["database", "branch"])
def test_fixtures_give_each_worker_its_own_neon_database(
    mode: str,
    standin: NeonStandIn,
    worktrees: Callable[..., list[Path]],
    child_env: dict[str, str],
    tmp_path: Path,
) -> None:
    config = (
        "\n[tool.gatekeeper.database]\n"
        'backend = "neon"\n'
        f'neon-project = "{PROJECT}"\n'
        f'neon-api = "{standin.url}"\n'
        f'neon-mode = "{mode}"\n'
        f'setup = "{sys.executable} setup_db.py"\n'
    )
    (tree,) = worktrees(1, {"tests/test_neon_worker.py": WORKER_TEST, "setup_db.py": SETUP}, config)
    out = tmp_path / "out"
    out.mkdir()
    env = {**child_env, "NEON_API_KEY": KEY, "NEON_OUT": str(out)}
    command = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "each", "-q"]
    done = subprocess.run(
        [*command, "-p", "no:cacheprovider", "tests/test_neon_worker.py"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert KEY not in done.stdout + done.stderr
    records = [json.loads(p.read_text()) for p in sorted(out.glob("gw*.json"))]
    assert [r["worker"] for r in records] == ["gw0", "gw1"]
    assert all(r["backend"] == "neon" for r in records)
    assert len({r["name"] for r in records}) == 2 and len({r["url"] for r in records}) == 2
    assert sorted((out / "setup.log").read_text().split()) == sorted(r["url"] for r in records)
    project = standin.projects[PROJECT]
    assert not ours(project)  # every branch of the run was deleted at the end
    assert set(project.branches) == {"br-main-0"}
