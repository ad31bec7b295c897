"""The environment a pass rests on, and what a gate in a temporary worktree is given."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from gatekeeper.cache import environment
from tests.conftest import git, make_project

SHELL = {
    "PATH": "/usr/lib/git-core:/home/dev/bin:/usr/bin",
    "GIT_EXEC_PATH": "/usr/lib/git-core",
    "HOME": "/home/dev",
    "LANG": "en_US.UTF-8",
    "LC_ALL": "en_US.UTF-8",
    "TERM": "xterm-256color",
    "SSH_AUTH_SOCK": "/tmp/ssh-x/agent.1",
    "PYTEST_ADDOPTS": '-m "not slow"',
    "FAST": "1",
    "DATABASE_URL": "postgresql://db/app",
    "GATEKEEPER_RUN_ID": "abc",
    "PYTEST_XDIST_WORKER": "gw0",
}


def test_a_gate_in_a_temporary_worktree_gets_only_the_fixed_list_and_pass_env() -> None:
    assert environment.scrubbed(SHELL, ["DATABASE_URL"]) == {
        "PATH": "/home/dev/bin:/usr/bin",  # without the directory git puts first for hooks
        "HOME": "/home/dev",
        "LANG": "en_US.UTF-8",
        "LC_ALL": "en_US.UTF-8",
        "DATABASE_URL": "postgresql://db/app",
    }


def test_terminal_and_run_variables_do_not_unscrub_a_run_and_the_rest_does() -> None:
    assert environment.strays(SHELL, ["DATABASE_URL"]) == (
        "FAST",
        "GIT_EXEC_PATH",
        "PYTEST_ADDOPTS",
    )
    assert environment.strays(SHELL) == ("DATABASE_URL", "FAST", "GIT_EXEC_PATH", "PYTEST_ADDOPTS")
    quiet = {k: SHELL[k] for k in ("PATH", "HOME", "TERM", "SSH_AUTH_SOCK", "GATEKEEPER_RUN_ID")}
    assert environment.strays(quiet) == ()


def test_facts_key_values_not_terminals_and_say_whether_the_run_was_scrubbed(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p")
    base = {"PATH": "/usr/bin", "HOME": "/home/dev", "LANG": "C.UTF-8"}
    plain = environment.facts(base, [], root)
    assert plain.scrubbed

    assert environment.facts({**base, "TERM": "dumb"}, [], root) == plain
    assert environment.facts({**base, "HOME": "/home/other"}, [], root) == plain  # a location
    assert environment.facts({**base, "LANG": "de_DE.UTF-8"}, [], root) != plain
    fast = environment.facts({**base, "FAST": "1"}, [], root)
    assert not fast.scrubbed and fast.strays == ("FAST",) and fast.digest != plain.digest
    # The same value, on the project's list or not, is another run: scrubbed or not.
    listed = environment.facts({**base, "FAST": "1"}, ["FAST"], root)
    assert listed.scrubbed and listed.digest != fast.digest


def test_worktree_paths_in_values_are_shared_by_every_worktree(tmp_path: Path) -> None:
    first = make_project(tmp_path / "one")
    second = tmp_path / "two"
    git(first, "worktree", "add", "-q", "--detach", str(second))

    def run_in(root: Path) -> environment.Facts:
        return environment.facts({"PATH": f"{root}/.venv/bin:/usr/bin"}, [], root)

    assert run_in(first) == run_in(second)
    assert run_in(first) != environment.facts({"PATH": "/elsewhere/bin:/usr/bin"}, [], first)


def test_distributions_inside_a_worktree_are_the_trees_not_the_environments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "p")
    outside = tmp_path / "site"
    for folder in (root, outside):
        metadata = folder / f"planted_{folder.name}-1.0.dist-info" / "METADATA"
        metadata.parent.mkdir(parents=True)
        metadata.write_text(f"Metadata-Version: 2.1\nName: planted-{folder.name}\nVersion: 1.0\n")
        monkeypatch.syspath_prepend(str(folder))

    found = environment.distributions(environment.worktree_roots(root))

    assert "planted-site==1.0" in found  # installed where no worktree is
    assert "planted-p==1.0" not in found  # in the tree (a working directory on sys.path)


def test_the_scrubbed_process_environment_is_restored_after_the_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k nothing")
    monkeypatch.setenv("KEPT_FOR_THE_GATE", "yes")
    before = dict(os.environ)
    with environment.scrubbed_process(["KEPT_FOR_THE_GATE"]):
        inside = dict(os.environ)
    assert "PYTEST_ADDOPTS" not in inside and inside["KEPT_FOR_THE_GATE"] == "yes"
    assert dict(os.environ) == before


def test_a_real_login_shell_is_still_scrubbed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    base = {"PATH": "/usr/bin", "HOME": "/home/dev", "LANG": "C.UTF-8"}
    login = {
        **base,
        "SHELL": "/bin/bash",
        "HOSTNAME": "laptop",
        "DISPLAY": ":0",
        "XDG_RUNTIME_DIR": "/run/user/1000",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
        "GIT_ASKPASS": "/opt/editor/askpass.sh",
    }
    assert environment.facts(login, [], root) == environment.facts(base, [], root)


def test_import_roots_outside_the_worktree_key_the_pass_and_unscrub_it(tmp_path: Path) -> None:
    """Only roots a temporary worktree's gate put into its own tree are left out of the key: a
    shell that names others (or leaves them behind) runs with code from elsewhere."""
    root = make_project(tmp_path / "p")
    base = {"PATH": "/usr/bin", "HOME": "/home/dev"}
    inside = str(root / "src")
    gated = {**base, "PYTHONPATH": inside, "GATEKEEPER_IMPORT_ROOTS": inside}
    assert environment.facts(gated, [], root) == environment.facts(base, [], root)

    elsewhere = str(tmp_path / "elsewhere")
    rigged = {**base, "PYTHONPATH": elsewhere, "GATEKEEPER_IMPORT_ROOTS": elsewhere}
    facts = environment.facts(rigged, [], root)
    assert facts.strays == ("PYTHONPATH",)
    assert facts.digest != environment.facts(base, [], root).digest


@pytest.mark.parametrize(
    "name",
    ["GATEKEEPER_FAST", "PYTEST_XDIST_FAST", "TERM_FAST", "SSH_FAST", "XDG_SESSION_FAST"],
)
def test_a_variable_that_only_looks_like_a_runs_or_a_terminals_is_keyed(
    tmp_path: Path, name: str
) -> None:
    """Only the names gatekeeper, pytest and the terminal really set are left out: a suite may
    read any other, so a pass recorded with it must not answer a push."""
    root = make_project(tmp_path / "p")
    base = {"PATH": "/usr/bin", "HOME": "/home/dev"}
    facts = environment.facts({**base, name: "1"}, [], root)
    assert facts.strays == (name,)
    assert facts.digest != environment.facts(base, [], root).digest


HELPER_TEST = "from helper import VALUE\n\n\ndef test_helper() -> None:\n    assert VALUE == 1\n"


def test_a_module_dropped_into_the_worktrees_venv_is_keyed_by_its_content(
    tmp_path: Path,
) -> None:
    # A virtual environment inside the worktree is keyed by what is installed there; a module
    # no distribution installed (dropped into site-packages by hand) is keyed by its content.
    root = make_project(
        tmp_path / "p",
        {".gitignore": ".venv/\n.gatekeeper/\n__pycache__/\n", "tests/test_helper.py": HELPER_TEST},
        gatekeeper='\n[tool.gatekeeper]\nchecks = ["tests"]\n',
    )
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "_suite.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    helper = site / "helper.py"
    helper.write_text("VALUE = 1\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "GATEKEEPER_", "GIT_", "PYTHON", "COVERAGE_"))
    }

    def gate() -> subprocess.CompletedProcess[str]:
        argv = [str(python), "-m", "pytest", "--gatekeeper", "-p", "no:cacheprovider"]
        return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)

    assert gate().returncode == 0
    assert "passed before" in gate().stdout  # nothing changed: reused
    helper.write_text("VALUE = 22\n")

    again = gate()

    assert again.returncode == 1, again.stdout  # run again, on the module as it is now
    assert "passed before" not in again.stdout


def test_only_what_no_distribution_records_in_an_environment_inside_the_worktree_is_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "p")
    site = root / ".venv" / "lib" / "site-packages"
    record = site / "lib-1.0.dist-info" / "RECORD"
    record.parent.mkdir(parents=True)
    record.write_text("lib/__init__.py,sha256=x,1\nlib-1.0.dist-info/RECORD,,\n")
    (site / "lib").mkdir()
    (site / "lib" / "__init__.py").write_text("")
    (site / "lib" / "dropped.py").write_text("X = 1\n")
    (site / "into_the_tree.pth").write_text(f"{root}\n")
    (site / "notes.txt").write_text("not importable\n")
    monkeypatch.setattr(sys, "prefix", str(root / ".venv"))
    monkeypatch.syspath_prepend(str(site))

    found = environment.unrecorded(environment.worktree_roots(root))

    assert [entry.split()[0] for entry in found] == [
        str((site / "into_the_tree.pth").resolve()),
        str((site / "lib" / "dropped.py").resolve()),
    ]
    before = environment.facts({}, [], root)
    (site / "lib" / "dropped.py").write_text("X = 2\n")
    assert environment.facts({}, [], root).digest != before.digest
