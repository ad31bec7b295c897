"""What a push may be accepted on: real `git push` to a local bare remote, real gate runs.

A pass serves a push only when it was recorded the way the hook judges: a clean tree (no ignored
file the tests could read) and a scrubbed environment (nothing set that the hook's own gate does
not get). And the hook's own gate runs scrubbed, so no variable exported in a shell narrows it.
See docs/trust.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git
from tests.githooks.test_prepush import Setup, remote_has, sample

CACHED = "accepted from the cache (no worktree, no tests run)"
GATED = "in a temporary worktree"
TESTS_AND_LINT = '\n[tool.gatekeeper]\nchecks = ["tests", "lint"]\n'
# Continues the sample's [tool.pytest.ini_options]: the marker is registered.
SLOW_MARKER = 'markers = ["slow: the slow tests"]\n' + TESTS_AND_LINT
IGNORES = ".gatekeeper/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n.pytest_cache/\n"


def minimal_env() -> dict[str, str]:
    """A shell that holds only what the hook's gate is given: ``env -i PATH=... HOME=...``."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def developer_env(**extra: str) -> dict[str, str]:
    """A developer's shell: everything the runner has except its own pytest, gatekeeper and
    git variables, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GATEKEEPER_", "GIT_"))
    }
    return {**env, **extra}


def with_hook(tmp_path: Path, files: dict[str, str], gatekeeper: str) -> Setup:
    """The pushed sample with ``files``, the hook installed."""
    setup = sample(tmp_path, files, gatekeeper)
    installed = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "hook", "install"],
        cwd=setup.worktree,
        env=developer_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return setup


def gate(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``pytest --gatekeeper`` as the developer runs it in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--gatekeeper"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def push(setup: Setup, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "origin", "feature"],
        cwd=setup.worktree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def commit_everything(setup: Setup, message: str) -> None:
    git(setup.worktree, "add", "-A")
    git(setup.worktree, "commit", "-q", "--allow-empty", "-m", message)


def assert_gated_and_rejected(
    pushed: subprocess.CompletedProcess[str], setup: Setup, failing: str
) -> None:
    """The hook gated the push (never from the cache), rejected it, and named ``failing``."""
    assert GATED in pushed.stderr, pushed.stderr
    assert_rejected(pushed, setup)
    assert failing in pushed.stderr


def assert_rejected(pushed: subprocess.CompletedProcess[str], setup: Setup) -> None:
    assert pushed.returncode != 0, pushed.stderr
    assert CACHED not in pushed.stderr
    assert "push rejected" in pushed.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is None


GENERATED_TEST = """\
from pkg._generated import VALUE


def test_generated() -> None:
    assert VALUE == 1
"""


def test_a_pass_that_needed_an_ignored_module_does_not_serve_the_push(tmp_path: Path) -> None:
    # A generated module the build writes and git ignores: a clean clone does not have it.
    files = {
        ".gitignore": IGNORES + "pkg/_generated.py\n",
        "tests/test_generated.py": GENERATED_TEST,
    }
    setup = with_hook(tmp_path, files, TESTS_AND_LINT)
    (setup.worktree / "pkg" / "_generated.py").write_text("VALUE = 1\n")
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0  # here, the suite passes, and the developer is told
    assert "will not answer a push from the cache" in judged.stdout
    assert "ignored files it could read (pkg/_generated.py)" in judged.stdout
    commit_everything(setup, "nothing new: the ignored module stays out")

    pushed = push(setup, env)

    # The hook judges a clean checkout: without the module, the tests fail, and no entry the
    # worktree recorded (whole gate or per check) may say otherwise.
    assert_rejected(pushed, setup)
    assert "(cached)" not in pushed.stderr
    assert "ModuleNotFoundError" in pushed.stderr or "pkg._generated" in pushed.stderr


COVERAGE_GATE = """
[tool.gatekeeper]
checks = ["tests", "coverage"]

[tool.gatekeeper.coverage]
fail-under = 100
"""


def test_a_pass_recorded_under_an_ignored_coveragerc_does_not_serve_the_push(
    tmp_path: Path,
) -> None:
    # coverage.py reads .coveragerc first: an ignored one is configuration, not a tool's cache.
    files = {
        ".gitignore": IGNORES + ".coveragerc\n",
        "pkg/untested.py": "def never_called() -> int:\n    return 1\n",
    }
    setup = with_hook(tmp_path, files, COVERAGE_GATE)
    (setup.worktree / ".coveragerc").write_text("[run]\nomit = pkg/untested.py\n")
    env = minimal_env()
    assert gate(setup.worktree, env).returncode == 0

    pushed = push(setup, env)

    assert_rejected(pushed, setup)
    assert "coverage failed" in pushed.stderr


SKIPPED_UNDER_FAST = """\
import os

import pytest


@pytest.mark.skipif(os.environ.get("FAST") == "1", reason="FAST=1 skips the slow tests")
def test_slow() -> None:
    assert 1 + 1 == 3, "the slow test finds the bug"
"""


@pytest.mark.parametrize("fast_when_pushing", [False, True], ids=["push-clean", "push-fast"])
def test_a_pass_of_a_suite_narrowed_by_a_variable_does_not_serve_the_push(
    tmp_path: Path, fast_when_pushing: bool
) -> None:
    setup = with_hook(tmp_path, {"tests/test_slow.py": SKIPPED_UNDER_FAST}, TESTS_AND_LINT)
    fast = {**minimal_env(), "FAST": "1"}
    narrowed = gate(setup.worktree, fast)
    assert narrowed.returncode == 0, narrowed.stdout  # the slow test was skipped
    assert "variables the hook's gate does not get (FAST)" in narrowed.stdout
    commit_everything(setup, "judged with FAST=1")

    pushed = push(setup, fast if fast_when_pushing else minimal_env())

    # Neither the stored pass nor a FAST exported in the pushing shell skips the slow test.
    assert_rejected(pushed, setup)
    assert "the slow test finds the bug" in pushed.stderr


NARROWABLE = """\
import pytest


@pytest.mark.slow
def test_slow() -> None:
    assert 1 + 1 == 3, "the slow test finds the bug"
"""


@pytest.mark.parametrize("addopts", ['-m "not slow"', '-k "not slow"'])
def test_pytest_addopts_exported_in_the_shell_does_not_narrow_the_hooks_gate(
    tmp_path: Path, addopts: str
) -> None:
    setup = with_hook(tmp_path, {"tests/test_slow.py": NARROWABLE}, SLOW_MARKER)
    git(setup.worktree, "commit", "-q", "--allow-empty", "-m", "nothing judged yet")

    pushed = push(setup, developer_env(PYTEST_ADDOPTS=addopts))

    assert GATED in pushed.stderr
    assert_rejected(pushed, setup)
    assert "the slow test finds the bug" in pushed.stderr
    assert "every pushed ref passed" not in pushed.stderr


def test_a_clean_scrubbed_pass_serves_the_push_despite_a_venv_caches_and_editor_files(
    tmp_path: Path,
) -> None:
    # A developer's ordinary worktree: a virtual environment, tools' caches, an editor's
    # folder. None of it is an input of the gate, so a pass recorded there serves the push.
    ignores = IGNORES + ".venv/\n.idea/\n"
    setup = with_hook(tmp_path, {".gitignore": ignores}, TESTS_AND_LINT)
    venv = setup.worktree / ".venv"
    (venv / "lib" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib" / "site-packages" / "anything.py").write_text("X = 1\n")
    (setup.worktree / ".idea").mkdir()
    (setup.worktree / ".idea" / "workspace.xml").write_text("<project/>\n")
    (setup.worktree / ".mypy_cache").mkdir()
    (setup.worktree / ".mypy_cache" / "3.11.json").write_text("{}\n")
    (setup.worktree / "pkg" / "extra.py").write_text("VALUE = 1\n")
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0
    assert "will not answer a push" not in judged.stdout
    commit_everything(setup, "a new module")

    pushed = push(setup, env)

    assert pushed.returncode == 0, pushed.stderr
    assert CACHED in pushed.stderr and GATED not in pushed.stderr
    assert remote_has(setup.remote, "refs/heads/feature") is not None


def test_a_pass_recorded_in_a_shell_the_hook_does_not_reproduce_is_gated_again(
    tmp_path: Path,
) -> None:
    setup = with_hook(tmp_path, {}, TESTS_AND_LINT)
    (setup.worktree / "pkg" / "extra.py").write_text("VALUE = 1\n")
    assert gate(setup.worktree, {**minimal_env(), "SOME_SETTING": "on"}).returncode == 0
    commit_everything(setup, "a new module")

    pushed = push(setup, minimal_env())

    assert pushed.returncode == 0, pushed.stderr  # the tree is good: gated, and it passes
    assert GATED in pushed.stderr and CACHED not in pushed.stderr


def same_size_edit_in_the_same_second(path: Path, old: str, new: str) -> None:
    """Replace ``old`` with ``new`` (as long) in ``path`` and give the file back its mtime, as
    an edit within the same second does: bytecode keyed by mtime and size takes it for the old
    file."""
    assert len(old) == len(new)
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def plain_import(cwd: Path, module: str, env: dict[str, str]) -> None:
    """Import ``module`` as any plain Python run in the worktree does: it leaves bytecode in
    ``__pycache__`` beside the sources."""
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=cwd, env=env, check=False)
    assert done.returncode == 0


@pytest.mark.parametrize("addopts", ["", '"-n", "2"'], ids=["one-process", "xdist"])
def test_a_pass_judged_on_stale_bytecode_does_not_serve_the_push(
    tmp_path: Path, addopts: str
) -> None:
    setup = with_hook(tmp_path, {}, f"addopts = [{addopts}]\n" + TESTS_AND_LINT)
    env = minimal_env()
    assert gate(setup.worktree, env).returncode == 0  # a + b: the suite passes
    plain_import(setup.worktree, "pkg", env)
    source = setup.worktree / "pkg" / "__init__.py"
    same_size_edit_in_the_same_second(source, "a + b", "a - b")

    judged = gate(setup.worktree, env)

    # The gate runs the code as it is now, never bytecode written for other content (xdist
    # workers too: they start with the session's bytecode folder).
    assert judged.returncode == 1, judged.stdout
    assert "assert -1 == 3" in judged.stdout
    commit_everything(setup, "subtract")
    pushed = push(setup, env)
    assert GATED in pushed.stderr
    assert_rejected(pushed, setup)


def test_a_module_imported_from_stale_bytecode_before_the_session_stops_it(
    tmp_path: Path,
) -> None:
    # `-p pkg.plugin` imports the package while pytest starts, before the gate can say where
    # bytecode goes: that import trusts whatever __pycache__ holds.
    files = {"pkg/plugin.py": '"""A plugin of the project."""\n'}
    gatekeeper = 'addopts = ["-p", "pkg.plugin"]\n' + TESTS_AND_LINT
    setup = with_hook(tmp_path, files, gatekeeper)
    env = minimal_env()
    assert gate(setup.worktree, env).returncode == 0
    source = setup.worktree / "pkg" / "__init__.py"
    same_size_edit_in_the_same_second(source, "a + b", "a - b")

    stopped = gate(setup.worktree, env)

    assert stopped.returncode == 4, stopped.stdout + stopped.stderr
    assert "pkg/__init__.py had been imported before the gate started" in stopped.stderr
    assert "run the gate again" in stopped.stderr
    stale = source.parent / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc"
    assert not stale.exists()  # removed: the next run imports the source
    again = gate(setup.worktree, env)
    assert again.returncode == 1, again.stdout  # the code as it is now
    assert "assert -1 == 3" in again.stdout


@pytest.mark.parametrize(
    ("addopts", "left_out"),
    [
        ('"-m", "not slow"', "1 deselected"),
        ('"--deselect", "tests/test_slow.py::test_slow"', "1 deselected"),
        ('"--ignore", "tests/test_slow.py"', ""),
        ('"--ignore-glob", "*_slow.py"', ""),
    ],
    ids=["m", "deselect", "ignore", "ignore-glob"],
)
def test_a_projects_own_addopts_selection_defines_the_suite_and_its_pass_serves_the_push(
    tmp_path: Path, addopts: str, left_out: str
) -> None:
    # A selection in the project's own addopts: in the tree, so every run selects the same
    # (the hook's and CI's too). It defines the suite; it does not narrow a run.
    gatekeeper = f"addopts = [{addopts}]\n" + SLOW_MARKER
    setup = with_hook(tmp_path, {"tests/test_slow.py": NARROWABLE}, gatekeeper)
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout
    assert left_out in judged.stdout and "test_slow" not in judged.stdout
    assert "will not answer a push" not in judged.stdout
    assert "the whole suite passed before" in gate(setup.worktree, env).stdout
    commit_everything(setup, "judged with the project's own selection")

    pushed = push(setup, env)

    assert pushed.returncode == 0, pushed.stderr
    assert CACHED in pushed.stderr and GATED not in pushed.stderr


CALC = "def add(a: int, b: int) -> int:\n    return a + b\n"
CHILD_TEST = """\
import subprocess
import sys
from pathlib import Path


def test_add_in_a_child() -> None:
    # An environment of its own: no PYTHONPYCACHEPREFIX, so the classic __pycache__ is read.
    root = Path(__file__).resolve().parents[1]
    code = "from pkg.calc import add; assert add(2, 1) == 3, add(2, 1)"
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env={}, check=False)
    assert done.returncode == 0
"""


def test_stale_classic_bytecode_a_subprocess_reads_makes_the_pass_not_answer_the_push(
    tmp_path: Path,
) -> None:
    files = {"pkg/calc.py": CALC, "tests/test_child.py": CHILD_TEST}
    setup = with_hook(tmp_path, files, TESTS_AND_LINT)
    env = minimal_env()
    source = setup.worktree / "pkg" / "calc.py"
    compiled = subprocess.run(  # where Python writes bytecode by default: no prefix
        [sys.executable, "-m", "compileall", "-q", "pkg"], cwd=setup.worktree, env=env, check=False
    )
    assert compiled.returncode == 0
    # A same-size edit with the old mtime put back: Python still trusts the old bytecode.
    before = source.stat()
    source.write_text(CALC.replace("a + b", "a - b"))
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    commit_everything(setup, "add subtracts")

    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout  # the child ran the old bytecode
    assert "will not answer a push from the cache" in judged.stdout
    assert "pkg/__pycache__/calc." in judged.stdout and "rm pkg/__pycache__/calc." in judged.stdout

    pushed = push(setup, env)

    assert GATED in pushed.stderr, pushed.stderr
    assert "test_add_in_a_child" in pushed.stderr
    assert_rejected(pushed, setup)
    assert (setup.worktree / "pkg" / "__pycache__").is_dir()  # nothing was removed


FAILING_TEST = "def test_broken() -> None:\n    assert False\n"


@pytest.mark.parametrize("how", ["skip-worktree", "assume-unchanged", "sparse-checkout"])
def test_a_failing_test_hidden_from_the_worktree_is_never_served_from_the_cache(
    tmp_path: Path, how: str
) -> None:
    # The file is committed, so the tree id holds it; git is told not to look at it on disk, and
    # the developer's gate ran without it. No pass may rest on that: not locally, not for a push.
    setup = with_hook(tmp_path, {"tests/test_broken.py": FAILING_TEST}, TESTS_AND_LINT)
    hidden = setup.worktree / "tests" / "test_broken.py"
    if how == "sparse-checkout":
        git(setup.worktree, "sparse-checkout", "set", "--no-cone", "/*", "!/tests/test_broken.py")
    else:
        git(setup.worktree, "update-index", f"--{how}", "tests/test_broken.py")
        hidden.unlink()
    assert not hidden.exists()
    assert git(setup.worktree, "status", "--porcelain") == ""
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout  # without the file, the suite passes here
    assert "tests ran again: the result cache is off for this run" in judged.stdout
    assert "skip-worktree or assume-unchanged (tests/test_broken.py" in judged.stdout
    again = gate(setup.worktree, env)
    assert "passed before" not in again.stdout

    pushed = push(setup, env)

    assert_rejected(pushed, setup)
    assert "test_broken" in pushed.stderr


def test_a_replacement_object_does_not_stand_in_for_the_pushed_code(tmp_path: Path) -> None:
    # `git replace` makes this repository read the old, passing file wherever the broken one is
    # named; a push sends the broken one, and a clone never sees the replacement.
    setup = with_hook(tmp_path, {}, TESTS_AND_LINT)
    source = setup.worktree / "pkg" / "__init__.py"
    good = git(setup.worktree, "rev-parse", "HEAD:pkg/__init__.py")
    source.write_text(source.read_text().replace("a + b", "a - b"))
    commit_everything(setup, "add subtracts")
    bad = git(setup.worktree, "rev-parse", "HEAD:pkg/__init__.py")
    git(setup.worktree, "replace", bad, good)

    pushed = push(setup, minimal_env())

    assert_rejected(pushed, setup)
    assert "test_add" in pushed.stderr


LINKED_TEST = (
    "from pkg import add\n\n\ndef test_add_negative() -> None:\n    assert add(-1, -1) == -3\n"
)


def test_a_tracked_symlink_is_a_symlink_in_the_gate_whatever_core_symlinks_says(
    tmp_path: Path,
) -> None:
    # With core.symlinks = false git writes a tracked link as a plain file holding its target:
    # the tests behind the link would never run in the hook's temporary worktree.
    setup = with_hook(tmp_path, {"shared/test_negative.py": LINKED_TEST}, TESTS_AND_LINT)
    (setup.worktree / "tests" / "linked").symlink_to("../shared")
    pyproject = setup.worktree / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.pytest.ini_options]\n", '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
        )
    )
    commit_everything(setup, "link the shared tests")
    git(setup.worktree, "config", "core.symlinks", "false")

    pushed = push(setup, minimal_env())

    assert_rejected(pushed, setup)
    assert "test_add_negative" in pushed.stderr


IMPL_TEST = "from pkg.impl import VALUE\n\n\ndef test_value() -> None:\n    assert VALUE == 1\n"


def test_a_pass_read_through_a_tracked_link_out_of_the_tree_does_not_serve_the_push(
    tmp_path: Path,
) -> None:
    # The tree holds the link's text, not what the tests read through it; a clean clone has
    # no target at all.
    setup = with_hook(tmp_path, {"tests/test_impl.py": IMPL_TEST}, TESTS_AND_LINT)
    outside = tmp_path / "somewhere" / "impl.py"
    outside.parent.mkdir()
    outside.write_text("VALUE = 1\n")
    (setup.worktree / "pkg" / "impl.py").symlink_to("../../somewhere/impl.py")
    commit_everything(setup, "the implementation lives elsewhere")
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout
    assert "the result cache is off for this run" in judged.stdout
    assert "pkg/impl.py leads outside the worktree" in judged.stdout
    outside.write_text("VALUE = 22\n")
    again = gate(setup.worktree, env)
    assert again.returncode == 1, again.stdout  # never the earlier pass: the target changed

    pushed = push(setup, env)

    assert GATED in pushed.stderr, pushed.stderr
    assert_rejected(pushed, setup)
    assert "No module named 'pkg.impl'" in pushed.stderr  # a clean checkout has no target


SITE_TEST = 'import os\n\n\ndef test_site() -> None:\n    assert os.environ.get("SITE") == "1"\n'


def test_a_tracked_sitecustomize_at_the_root_is_not_imported_by_the_hooks_gate(
    tmp_path: Path,
) -> None:
    # Python imports sitecustomize from PYTHONPATH at start-up; CI, running from the root,
    # never imports it. The sample is installed nowhere, so the temporary worktree's gate puts
    # no import root on PYTHONPATH, and judges as CI: the test fails. (Where the environment
    # provides the package and its root goes first, the gate is refused before it starts:
    # tests/project/test_importroots.py.)
    files = {
        "sitecustomize.py": 'import os\n\nos.environ["SITE"] = "1"\n',
        "tests/test_site.py": SITE_TEST,
    }
    setup = with_hook(tmp_path, files, '\n[tool.gatekeeper]\nchecks = ["tests"]\n')
    git(setup.worktree, "commit", "-q", "--allow-empty", "-m", "nothing judged yet")

    pushed = push(setup, minimal_env())

    assert_rejected(pushed, setup)
    assert "test_site" in pushed.stderr and "at start-up" not in pushed.stderr


SCRIPT_TEST = """\
import subprocess
from pathlib import Path


def test_script_runs() -> None:
    script = Path(__file__).resolve().parents[1] / "tools" / "hello.sh"
    assert subprocess.run([str(script)], check=False).returncode == 0
"""


def test_an_executable_bit_git_is_told_to_ignore_does_not_serve_the_push(tmp_path: Path) -> None:
    # core.fileMode = false: git no longer sees the bit, so the tree id is the commit's, where
    # the script is not executable; a clean clone cannot run it.
    files = {"tools/hello.sh": "#!/bin/sh\nexit 0\n", "tests/test_script.py": SCRIPT_TEST}
    setup = with_hook(tmp_path, files, TESTS_AND_LINT)
    git(setup.worktree, "config", "core.fileMode", "false")
    (setup.worktree / "tools" / "hello.sh").chmod(0o755)
    assert git(setup.worktree, "status", "--porcelain") == ""
    git(setup.worktree, "commit", "-q", "--allow-empty", "-m", "nothing git sees")
    env = minimal_env()
    assert gate(setup.worktree, env).returncode == 0  # here, the script runs

    pushed = push(setup, env)

    assert_gated_and_rejected(pushed, setup, "test_script_runs")


OUTBOX_TEST = """\
from pathlib import Path


def test_outbox_exists() -> None:
    assert (Path(__file__).resolve().parents[1] / "outbox").is_dir()
"""


def test_a_pass_that_needed_an_empty_folder_does_not_serve_the_push(tmp_path: Path) -> None:
    # git tracks no folder, so a clean clone has no empty one: the tree id cannot hold it.
    setup = with_hook(tmp_path, {"tests/test_outbox.py": OUTBOX_TEST}, TESTS_AND_LINT)
    (setup.worktree / "outbox" / "sent").mkdir(parents=True)
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout
    assert "will not answer a push from the cache" in judged.stdout
    assert "empty folders a clean checkout does not have (outbox/)" in judged.stdout
    commit_everything(setup, "nothing git sees")

    pushed = push(setup, env)

    assert_gated_and_rejected(pushed, setup, "test_outbox_exists")


ENV_FILE_CONFTEST = """\
import os
from pathlib import Path

ENV = Path(__file__).resolve().parents[1] / ".gatekeeper" / "env"
if ENV.exists():  # the worktree's env file, loaded as python-dotenv would
    for line in ENV.read_text().splitlines():
        key, _, value = line.partition("=")
        os.environ.setdefault(key, value)
"""
FEATURE_TEST = """\
import os


def test_feature_flag() -> None:
    assert os.environ.get("FEATURE_X") == "on"
"""


def test_a_pass_that_read_the_worktrees_env_file_is_keyed_by_it_and_never_serves_the_push(
    tmp_path: Path,
) -> None:
    # .gatekeeper/ holds gatekeeper's own state, but also the env file `gatekeeper worktree
    # new` writes, which a conftest may load: a clean clone in CI has no such file.
    files = {
        ".gitignore": IGNORES,
        "tests/conftest.py": ENV_FILE_CONFTEST,
        "tests/test_feature.py": FEATURE_TEST,
    }
    setup = with_hook(tmp_path, files, TESTS_AND_LINT)
    env_file = setup.worktree / ".gatekeeper" / "env"
    env_file.parent.mkdir()
    env_file.write_text("FEATURE_X=on\n")
    env = minimal_env()
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout
    assert "will not answer a push from the cache" in judged.stdout
    assert "(.gatekeeper/env)" in judged.stdout

    env_file.write_text("FEATURE_X=no\n")  # same size, other content: the pass rested on it
    again = gate(setup.worktree, env)
    assert again.returncode == 1, again.stdout
    assert "test_feature_flag" in again.stdout
    env_file.write_text("FEATURE_X=on\n")
    commit_everything(setup, "tests read the env file")

    pushed = push(setup, env)

    assert_gated_and_rejected(pushed, setup, "test_feature_flag")


FIXTURE_TEST = """\
from pathlib import Path


def test_fixture() -> None:
    fixture = Path(__file__).resolve().parents[1] / ".gatekeeper" / "fixture.txt"
    assert fixture.read_text() == "3\\n"
"""


def test_a_pass_that_read_a_file_beside_gatekeepers_own_does_not_serve_the_push(
    tmp_path: Path,
) -> None:
    files = {"tests/test_fixture.py": FIXTURE_TEST}  # no ignore rule: gatekeeper writes its own
    setup = with_hook(tmp_path, files, TESTS_AND_LINT)
    env = minimal_env()
    assert gate(setup.worktree, env).returncode == 1  # no fixture yet: its .gitignore is made
    (setup.worktree / ".gatekeeper" / "fixture.txt").write_text("3\n")
    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout
    assert "ignored files it could read (.gatekeeper/fixture.txt)" in judged.stdout
    commit_everything(setup, "a test reading a file nobody commits")

    pushed = push(setup, env)

    assert_gated_and_rejected(pushed, setup, "test_fixture")


UNCHECKED_PYC = """\
import importlib.util, pathlib, py_compile
good = pathlib.Path("good_calc.py.old")
good.write_text("def add(a: int, b: int) -> int:\\n    return a + b\\n")
py_compile.compile(
    str(good),
    cfile=importlib.util.cache_from_source("pkg/calc.py"),
    dfile="pkg/calc.py",
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
good.unlink()
"""


def test_unchecked_bytecode_of_other_code_a_subprocess_reads_does_not_serve_the_push(
    tmp_path: Path,
) -> None:
    # Bytecode Python never checks against its source, written after the source was broken
    # (so no file time gives it away), holding the old good code.
    files = {"pkg/calc.py": CALC, "tests/test_child.py": CHILD_TEST}
    setup = with_hook(tmp_path, files, TESTS_AND_LINT)
    (setup.worktree / "pkg" / "calc.py").write_text(CALC.replace("a + b", "a - b"))
    commit_everything(setup, "add subtracts")
    env = minimal_env()
    written = subprocess.run(
        [sys.executable, "-c", UNCHECKED_PYC], cwd=setup.worktree, env=env, check=False
    )
    assert written.returncode == 0

    judged = gate(setup.worktree, env)
    assert judged.returncode == 0, judged.stdout  # the child ran the old bytecode
    assert "will not answer a push from the cache" in judged.stdout
    assert "rm pkg/__pycache__/calc." in judged.stdout

    pushed = push(setup, env)

    assert GATED in pushed.stderr, pushed.stderr
    assert "test_add_in_a_child" in pushed.stderr
    assert_rejected(pushed, setup)
