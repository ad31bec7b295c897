"""The code a temporary worktree's gate tests is that tree's own, even when the interpreter has
the project installed in editable mode from the main checkout.

Each test makes a virtual environment of its own whose site-packages reach this suite's packages
(gatekeeper, pytest, the tools) and hold an editable install of a ``src/`` layout project made
the two ways build backends make them: a ``.pth`` file naming ``src/`` (setuptools, hatchling),
or an import hook of the ``editables`` library (hatchling's ``dev-mode-exact``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from gatekeeper.project import importroots
from tests.conftest import git, make_project

SRC_LAYOUT = """\
[project]
name = "sample"
version = "0"

[tool.gatekeeper]
checks = ["tests"]
"""
PACKAGE = '"""A tiny package."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n'
BROKEN = PACKAGE.replace("a + b", "a - b")
# An editable install's import hook: a finder for ``pkg`` that build backends append to
# sys.meta_path (``append(Redirect)``), so it answers only for what nothing on sys.path
# provides; one that inserts itself first (``insert(0, Redirect)``) wins against any import root.
HOOK_MODULE = """\
import importlib.util
import sys


class Redirect:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "pkg":
            return None
        return importlib.util.spec_from_file_location(
            name, {init!r}, submodule_search_locations=[{folder!r}]
        )


sys.meta_path.{place}
"""


def make_venv(root: Path, main: Path, kind: str) -> Path:
    """A virtual environment with ``main``'s ``src/`` layout installed editable; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site = Path(purelib)
    ours = sysconfig.get_paths()["purelib"]
    (site / "__suite.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    if kind == "pth":
        (site / "__editable__.sample-0.pth").write_text(f"{main / 'src'}\n")
    else:
        init = main / "src" / "pkg" / "__init__.py"
        place = "insert(0, Redirect)" if kind == "first" else "append(Redirect)"
        (site / "_editable_impl_sample.py").write_text(
            HOOK_MODULE.format(init=str(init), folder=str(init.parent), place=place)
        )
        (site / "_editable_impl_sample.pth").write_text("import _editable_impl_sample\n")
    return python


def src_project(root: Path, package: str = "pkg") -> Path:
    """The main checkout of a ``src/`` layout project (no ``pythonpath`` for pytest: the
    editable install is how its tests import it), with a branch ``broken`` that fails.
    ``package`` may sit in namespace packages (``nsx.pkg``: ``src/nsx`` has no ``__init__``)."""
    init = f"src/{package.replace('.', '/')}/__init__.py"
    files = {
        "pyproject.toml": SRC_LAYOUT,
        init: PACKAGE,
        "pkg/__init__.py": "",
        "tests/test_add.py": f"from {package} import add\n\n\ndef test_add() -> None:\n"
        "    assert add(2, 1) == 3\n",
    }
    main = make_project(root / "main", files)
    git(main, "rm", "-q", "-r", "pkg")
    git(main, "commit", "-q", "-m", "src layout only")
    git(main, "config", "user.name", "Test")
    git(main, "config", "user.email", "test@example.invalid")
    git(main, "switch", "-q", "-c", "broken")
    (main / init).write_text(BROKEN)
    git(main, "commit", "-q", "-am", "add subtracts")
    git(main, "switch", "-q", "main")
    return main


def with_hook(tmp_path: Path, main: Path, python: Path) -> Path:
    """A bare ``origin`` holding ``main``, and the pre-push hook installed by ``python``."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(main, "remote", "add", "origin", str(remote))
    git(main, "push", "-q", "origin", "main")
    assert run(main, python, "-m", "gatekeeper", "hook", "install").returncode == 0
    return remote


def shell_env() -> dict[str, str]:
    prefixes = ("PYTEST_", "GATEKEEPER_", "GIT_", "PYTHONPATH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def run(cwd: Path, *argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=shell_env(),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("kind", ["pth", "import-hook"])
def test_integrate_tests_the_merge_result_not_the_editable_checkout(
    tmp_path: Path, kind: str
) -> None:
    main = src_project(tmp_path)
    python = make_venv(tmp_path / "venv", main, kind)
    # The interpreter does import the main checkout's code: the trap is set.
    where = run(tmp_path, python, "-c", "import pkg; print(pkg.__file__)")
    assert where.stdout.strip() == str(main / "src" / "pkg" / "__init__.py"), where.stderr

    done = run(main, python, "-m", "gatekeeper", "integrate", "broken", "--onto", "main")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "verdict: failed" in done.stdout
    assert "test_add" in done.stdout


@pytest.mark.parametrize("package", ["pkg", "nsx.pkg"], ids=["package", "namespace-package"])
def test_a_push_tests_the_pushed_code_not_the_editable_checkout(
    tmp_path: Path, package: str
) -> None:
    # The main checkout has `a + b` in its working tree; the pushed branch `a - b`.
    main = src_project(tmp_path, package)
    python = make_venv(tmp_path / "venv", main, "pth")
    remote = with_hook(tmp_path, main, python)

    pushed = run(main, "git", "push", "origin", "broken")

    assert pushed.returncode != 0, pushed.stderr
    assert "refs/heads/broken" in pushed.stderr and "failed the gate" in pushed.stderr
    assert "test_add" in pushed.stderr
    assert git(remote, "branch", "--list", "broken") == ""
    # The tree's own code, first on the path, is what the gate verified and tested.
    good = run(main, "git", "push", "origin", "main:good")
    assert good.returncode == 0, good.stderr


def test_an_import_hook_ahead_of_the_tree_fails_the_gate_and_says_why(tmp_path: Path) -> None:
    main = src_project(tmp_path)
    python = make_venv(tmp_path / "venv", main, "first")

    done = run(main, python, "-m", "gatekeeper", "integrate", "broken", "--onto", "main")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "outside the tree being gated" in done.stdout
    assert f"pkg from {main / 'src' / 'pkg'}" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("files", "paths", "expected"),
    [
        (
            {"src/pkg/__init__.py": "", "src/other/__init__.py": ""},
            None,
            {"pkg": "src", "other": "src"},
        ),
        ({"pkg/__init__.py": "", "tool.py": ""}, None, {"pkg": ".", "tool": "."}),
        (
            {"lib/pkg/__init__.py": "", "plugin/ext/__init__.py": ""},
            ["lib/pkg", "plugin"],
            {"pkg": "lib", "ext": "plugin"},
        ),
        (
            {"src/nsx/pkg/__init__.py": "", "src/nsx/deep/mod.py": "", "src/nsx/data/x.txt": ""},
            None,
            {"nsx.pkg": "src", "nsx.deep.mod": "src"},
        ),
        (
            {"src/nsx/pkg/__init__.py": "", "src/nsx/other/__init__.py": ""},
            ["src/nsx/pkg"],
            {"nsx.pkg": "src", "nsx.other": "src"},
        ),
        (
            {"plugin/ns/ext.py": "", "plugin/script.py": "", "tests/test_x.py": ""},
            ["plugin"],
            {"ns.ext": "plugin"},
        ),
    ],
)
def test_the_import_roots_of_each_layout(
    tmp_path: Path, files: dict[str, str], paths: list[str] | None, expected: dict[str, str]
) -> None:
    tree, installed = tmp_path / "tree", tmp_path / "installed"  # a copy the environment has
    for root in (tree, installed):
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        if paths is not None:
            (root / "pyproject.toml").write_text(f"[tool.gatekeeper]\npaths = {paths!r}\n")

    found = importroots.packages(tree)

    assert {name: str(root.relative_to(tree)) for name, root in found.items()} == expected
    # Nothing provides the packages: no root is added, as a clean clone in CI cannot import them.
    assert importroots.environment({"PYTHONPATH": "/mine"}, tree) == {"PYTHONPATH": "/mine"}
    copies = sorted({str(installed / root) for root in expected.values()})
    given = os.pathsep.join([*copies, "/mine"])
    env = importroots.environment({"PYTHONPATH": given}, tree)
    first = sorted({str(tree / root) for root in expected.values()})
    assert sorted(env["PYTHONPATH"].split(os.pathsep)[: len(first)]) == first
    assert importroots.users_pythonpath(env) == given


def test_only_the_roots_of_packages_the_environment_provides_go_first(tmp_path: Path) -> None:
    tree, installed = tmp_path / "tree", tmp_path / "installed"
    for name in ("tree/lib/alpha/__init__.py", "tree/app/beta/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_text("")
    (tree / "pyproject.toml").write_text('[tool.gatekeeper]\npaths = ["lib/alpha", "app/beta"]\n')
    (installed / "alpha").mkdir(parents=True)
    (installed / "alpha" / "__init__.py").write_text("")  # alpha is installed, beta is not

    env = importroots.environment({"PYTHONPATH": str(installed)}, tree)

    assert env["PYTHONPATH"] == os.pathsep.join([str(tree / "lib"), str(installed)])
    assert env[importroots.ENV] == str(tree / "lib")


def test_a_package_found_outside_the_tree_is_named_and_an_unknown_answer_fails_closed(
    tmp_path: Path,
) -> None:
    tree, other = tmp_path / "tree", tmp_path / "other"
    for root in (tree / "src", other):
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "__init__.py").write_text("")
    env = importroots.environment({**shell_env(), "PYTHONPATH": str(other)}, tree)
    assert importroots.misplaced(tree, env) is None  # the tree's root goes first

    ahead = {**env, "PYTHONPATH": f"{other}{os.pathsep}{env['PYTHONPATH']}"}
    said = importroots.misplaced(tree, ahead)
    assert said is not None and f"pkg from {other / 'pkg'}" in said

    broken = {**env, "PYTHONHOME": str(tmp_path / "no-python-here")}
    said = importroots.misplaced(tree, broken)
    assert said is not None and "could not find out where" in said


def test_a_pass_that_imported_another_checkouts_code_does_not_answer_a_push(
    tmp_path: Path,
) -> None:
    """In a linked worktree, the editable install made from the main checkout wins: the
    developer's own gate tests the main checkout's code. Its pass must not serve a push."""
    main = src_project(tmp_path)
    python = make_venv(tmp_path / "venv", main, "pth")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(main, "remote", "add", "origin", str(remote))
    git(main, "push", "-q", "origin", "main")
    worktree = tmp_path / "feature"
    git(main, "worktree", "add", "-q", str(worktree), "broken")
    # A shell the hook's gate reproduces exactly: a pass made here would count as scrubbed.
    shell = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    shell["GATEKEEPER_STATE_DIR"] = str(tmp_path / "state")

    def in_shell(*argv: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in argv],
            cwd=worktree,
            env=shell,
            capture_output=True,
            text=True,
            check=False,
        )

    assert in_shell(python, "-m", "gatekeeper", "hook", "install").returncode == 0
    own = in_shell(python, "-m", "gatekeeper", "run")
    assert own.returncode == 0, own.stdout + own.stderr  # the main checkout's code passes
    assert "imported from outside the worktree (pkg)" in own.stdout

    pushed = in_shell("git", "push", "origin", "broken")

    assert pushed.returncode != 0, pushed.stderr
    assert "failed the gate" in pushed.stderr and "test_add" in pushed.stderr
    assert git(remote, "branch", "--list", "broken") == ""


def test_a_package_the_pushed_tree_deleted_is_not_imported_from_the_editable_checkout(
    tmp_path: Path,
) -> None:
    # The branch deletes src/helpers, but a test still imports it: the editable install of the
    # main checkout (whose src/ still holds it) would answer, so the hook's gate passed while a
    # clean checkout fails with ModuleNotFoundError.
    main = src_project(tmp_path)
    (main / "src" / "helpers").mkdir()
    (main / "src" / "helpers" / "__init__.py").write_text("ONE = 1\n")
    (main / "tests" / "test_helpers.py").write_text(
        "from helpers import ONE\n\n\ndef test_one() -> None:\n    assert ONE == 1\n"
    )
    git(main, "add", "-A")
    git(main, "commit", "-q", "-m", "helpers")
    python = make_venv(tmp_path / "venv", main, "pth")
    remote = with_hook(tmp_path, main, python)
    git(main, "switch", "-q", "-c", "dropped")
    git(main, "rm", "-q", "-r", "src/helpers")
    git(main, "commit", "-q", "-m", "drop helpers")
    git(main, "switch", "-q", "main")  # the working tree holds src/helpers again

    pushed = run(main, "git", "push", "origin", "dropped")

    assert pushed.returncode != 0, pushed.stderr
    assert "imported helpers from another checkout of this repository" in pushed.stderr
    assert git(remote, "branch", "--list", "dropped") == ""


@pytest.mark.parametrize(
    "module", ["sitecustomize.py", "usercustomize.py", "sitecustomize/__init__.py"]
)
def test_a_site_module_on_an_import_root_is_refused_and_one_elsewhere_is_not(
    tmp_path: Path, module: str
) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "__init__.py").write_text("")
    (tree / "tests").mkdir()
    (tree / "tests" / module).parent.mkdir(parents=True, exist_ok=True)
    (tree / "tests" / module).write_text("")  # not on an import root: harmless
    installed = tmp_path / "installed" / "pkg"  # provided: the tree's root goes first
    installed.mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    env = importroots.environment({**shell_env(), "PYTHONPATH": str(installed.parent)}, tree)
    assert importroots.site_customization(tree, env) is None

    (tree / module).parent.mkdir(parents=True, exist_ok=True)
    (tree / module).write_text("")
    said = importroots.misplaced(tree, env)

    assert said is not None and module in said and "at start-up" in said


def test_a_project_nothing_installs_is_not_made_importable_by_the_hooks_gate(
    tmp_path: Path,
) -> None:
    # A flat layout with no `pythonpath` setting and no install: `gatekeeper run` in a clean
    # clone (python -P) cannot import pkg, so the hook's gate must not be able to either.
    pyproject = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n[tool.gatekeeper]\n'
    files = {"requirements.txt": "pytest\n", "pyproject.toml": pyproject + 'checks = ["tests"]\n'}
    main = make_project(tmp_path / "main", files)
    assert "ModuleNotFoundError" in run(main, sys.executable, "-m", "gatekeeper", "run").stdout
    remote = with_hook(tmp_path, main, Path(sys.executable))

    pushed = run(main, "git", "push", "origin", "main:feature")

    assert pushed.returncode != 0, pushed.stderr
    assert "No module named 'pkg'" in pushed.stderr
    assert git(remote, "branch", "--list", "feature") == ""


@pytest.mark.parametrize("imported", [True, False])
def test_an_installed_copy_in_an_environment_inside_the_tree_is_not_the_trees_code(
    tmp_path: Path, imported: bool
) -> None:
    """A plain (not editable) install of an old version in a ``.venv`` inside the worktree is
    keyed by its version only: a pass that imported it does not test the tree's code."""
    tree = make_project(
        tmp_path / "tree", {"pyproject.toml": SRC_LAYOUT, "src/pkg/__init__.py": 'V = "new"\n'}
    )
    git(tree, "rm", "-q", "-r", "pkg")
    git(tree, "commit", "-q", "-m", "src layout only")
    venv = tree / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = run(tree, python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    site = Path(purelib.stdout.strip())
    ours = sysconfig.get_paths()["purelib"]
    (site / "__suite.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    (site / "pkg").mkdir()
    (site / "pkg" / "__init__.py").write_text('V = "old"\n')
    code = (
        f"import sys; from pathlib import Path; {'import pkg; ' if imported else ''}"
        "from gatekeeper.project import importroots; "
        "found = importroots.resolved_outside(Path(sys.argv[1])); "
        "print(pkg.V if 'pkg' in sys.modules else '-', found)"
    )
    asked = run(tmp_path, python, "-c", code, tree)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.split(None, 1) == ["old" if imported else "-", "('pkg',)\n"]
