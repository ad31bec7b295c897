"""Shared fixtures: real git repositories holding small real projects."""

from __future__ import annotations

import fcntl
import inspect
import os
import subprocess
import tempfile
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# -- the quick local loop: `pytest -m "not slow"` ---------------------------------------------
# A test is slow when it runs a pytest session, the gate, or a child Python, or needs the
# PostgreSQL server: it uses a fixture below, lives in a folder below (a push through the
# pre-push hook, a gate in a temporary worktree, a real project), waits its turn on the server
# (on_the_server), or its code reaches a name below, directly or through the helpers and
# fixtures of the suite it calls. The marker only selects: the gate of this repository runs
# every test.
SLOW_FIXTURES = frozenset({"pytester", "child_env", "postgres_admin"})
SLOW_FOLDERS = frozenset({"githooks", "integration", "realprojects"})
SLOW_NAMES = frozenset(
    {
        "executable",  # sys.executable: gatekeeper, pytest or a venv in a child process
        "Gate",  # the gate in this process, with real ruff and mypy
    }
)
TESTS = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselection reads the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


def is_slow(item: pytest.Item) -> bool:
    """Whether ``item`` runs a session, the gate or a child Python, or needs the server."""
    return (
        item.path.relative_to(TESTS).parts[0] in SLOW_FOLDERS
        or bool(set(getattr(item, "fixturenames", ())) & SLOW_FIXTURES)
        or on_the_server(item)
        or reaches_slow_code(item)
    )


def reaches_slow_code(item: pytest.Item) -> bool:
    """Whether the test function or one of its fixtures reaches a name of :data:`SLOW_NAMES`."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    functions = [getattr(item, "function", None), *(d[-1].func for d in defs if d)]
    seen: set[object] = set()
    return any(reaches_slow_name(f, seen) for f in functions if inspect.isfunction(f))


def reaches_slow_name(function: Callable[..., object], seen: set[object]) -> bool:
    """Whether ``function``'s code, or a function of this suite it names, uses a slow name."""
    if function in seen or not Path(function.__code__.co_filename).is_relative_to(TESTS):
        return False
    seen.add(function)
    names = code_names(function.__code__)
    if names & SLOW_NAMES:
        return True
    called = (function.__globals__.get(name) for name in names)
    return any(reaches_slow_name(f, seen) for f in called if inspect.isfunction(f))


def code_names(code: types.CodeType) -> set[str]:
    """The global and attribute names ``code`` uses, its nested functions' included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= code_names(constant)
    return names


CLEAN_PACKAGE = '''\
"""A tiny package the gate must pass."""


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b
'''

CLEAN_TEST = """\
from pkg import add


def test_add() -> None:
    assert add(1, 2) == 3
"""

PYPROJECT = """\
[project]
name = "sample"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]
"""


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` (identity set, no variables of a surrounding git) and return its
    stripped output; a failure raises with git's own message. The tests and the benchmarks
    share it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    argv = ["git", *args]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def make_project(root: Path, files: dict[str, str] | None = None, gatekeeper: str = "") -> Path:
    """A committed git repository holding the clean sample project plus ``files`` (the tests'
    and the benchmarks' one sample project)."""
    contents = {
        "pyproject.toml": PYPROJECT + gatekeeper,
        "pkg/__init__.py": CLEAN_PACKAGE,
        "tests/test_add.py": CLEAN_TEST,
        ".gitignore": ".gatekeeper/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n.pytest_cache/\n",
        **(files or {}),
    }
    for name, text in contents.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


ProjectFactory = Callable[..., Path]


@pytest.fixture
def project(pytester: pytest.Pytester) -> ProjectFactory:
    """Factory: ``project(files={...}, gatekeeper="[tool.gatekeeper]...")`` in pytester's dir."""

    def create(files: dict[str, str] | None = None, gatekeeper: str = "") -> Path:
        return make_project(pytester.path, files, gatekeeper)

    return create


# -- scope, baseline, cache: the helpers above as fixtures, so tests need not import conftest --


@pytest.fixture
def make_repo() -> Callable[..., Path]:
    """:func:`make_project` anywhere: ``make_repo(root, files=None, gatekeeper="")``."""
    return make_project


@pytest.fixture
def run_git() -> Callable[..., str]:
    """:func:`git`: ``run_git(cwd, *args)`` returns the stripped output."""
    return git


# -- isolation (ports, databases, temp dirs): shared fixtures ----------------------------------

POSTGRES_ADMIN = os.environ.get(
    "GATEKEEPER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private gatekeeper state dir, so a test never sees the host's real reservations."""
    folder = tmp_path / "state"
    monkeypatch.setenv("GATEKEEPER_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def postgres_admin() -> str:
    """This machine's PostgreSQL admin URL; skips without a server, fails instead when CI=true."""
    try:
        import psycopg

        psycopg.connect(POSTGRES_ADMIN, connect_timeout=3).close()
    except Exception as error:
        reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return POSTGRES_ADMIN


@pytest.fixture
def child_env(state: Path) -> dict[str, str]:
    """Environment for a child pytest or gatekeeper sharing ``state``: this venv first on PATH,
    no inherited xdist, gatekeeper or git variables."""
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GATEKEEPER_"))}
    env = {k: v for k, v in env.items() if not k.startswith("GIT_")}
    env["GATEKEEPER_STATE_DIR"] = str(state)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture
def worktrees(tmp_path: Path) -> Callable[..., list[Path]]:
    """Factory: ``worktrees(n, files=..., gatekeeper=...)``: one repository, ``n`` worktrees."""

    def create(count: int, files: dict[str, str] | None = None, gatekeeper: str = "") -> list[Path]:
        first = make_project(tmp_path / "wt0", files, gatekeeper)
        found = [first]
        for index in range(1, count):
            path = tmp_path / f"wt{index}"
            git(first, "worktree", "add", "-q", str(path), "-b", f"branch{index}")
            found.append(path)
        return found

    return create


# -- end isolation ------------------------------------------------------------------------------


# -- evals: a sample project with a golden dataset --------------------------------------------

EVAL_TARGET = '''\
BROKEN: set[int] = {BROKEN_SET}


def double(x: int) -> int:
    """Double ``x``, except for the inputs listed as broken."""
    return 2 * x + 1 if x in BROKEN else 2 * x
'''


def eval_dataset(count: int = 20, threshold: float = 0.9, extra: str = "") -> str:
    """A dataset of ``count`` cases ``c1..cN`` (input i, expected 2i) for ``pkg.target:double``."""
    lines = [
        "target: pkg.target:double",
        "scorer: exact",
        f"threshold: {threshold}",
        extra,
        "cases:",
    ]
    for i in range(1, count + 1):
        lines.append(f"  - id: c{i}\n    input: {i}\n    expected: {2 * i}")
    return "\n".join(line for line in lines if line) + "\n"


def eval_target(broken: set[int]) -> str:
    """The target module's source: ``double`` is wrong for each input in ``broken``."""
    return EVAL_TARGET.replace("{BROKEN_SET}", repr(broken) if broken else "set()")


# The first line continues PYPROJECT's [tool.pytest.ini_options]: tests only under tests/, so
# the gate must add evals/ itself.
EVAL_GATE = """testpaths = ["tests"]

[tool.gatekeeper]
checks = ["tests", "evals"]
"""


@pytest.fixture
def eval_project(project: ProjectFactory) -> Callable[..., Path]:
    """Factory: a git project whose tests live in tests/ (testpaths) and whose dataset
    evals/double.yaml has 20 cases, failing for the inputs in ``broken``."""

    def create(
        broken: frozenset[int] = frozenset({7}),
        threshold: float = 0.9,
        files: dict[str, str] | None = None,
        gatekeeper: str = EVAL_GATE,
    ) -> Path:
        contents = {
            "pkg/target.py": eval_target(set(broken)),
            "evals/double.yaml": eval_dataset(threshold=threshold),
            **(files or {}),
        }
        return project(files=contents, gatekeeper=gatekeeper)

    return create


# -- end isolation ------------------------------------------------------------------------------
@pytest.fixture
def make_eval_dataset() -> Callable[..., str]:
    """The dataset text builder, for tests that write their own variant."""
    return eval_dataset


@pytest.fixture
def make_eval_target() -> Callable[[set[int]], str]:
    """The target source builder, for tests that change the code under evaluation."""
    return eval_target


# -- end evals --


# -- one at a time on the PostgreSQL server -------------------------------------------------------
# Tests marked xdist_group("postgres-server") use, and sweep, the one PostgreSQL server: a sweep
# may rightly remove what another test's killed session left, so they must never overlap. This
# xdist's loadgroup does not keep a group on one worker with this pytest (node ids cannot be
# re-suffixed any more), so a host-wide lock serialises them, across workers and across
# concurrent runs of the suite alike.
SERVER_LOCK = Path(tempfile.gettempdir()) / "gatekeeper-tests-postgres-server.lock"


def on_the_server(item: pytest.Item) -> bool:
    """Whether ``item`` uses, and sweeps, the one PostgreSQL server (its xdist group)."""
    marker = item.get_closest_marker("xdist_group")
    return marker is not None and "postgres-server" in marker.args


@pytest.fixture(autouse=True)
def one_at_a_time_on_the_server(request: pytest.FixtureRequest) -> Iterator[None]:
    if not on_the_server(request.node):
        yield
        return
    with SERVER_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
