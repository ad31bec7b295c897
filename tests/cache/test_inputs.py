"""Ignored inputs: every ignored file a run could read is keyed by content (real git repos)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gatekeeper.cache import inputs
from gatekeeper.cache import store as cache
from gatekeeper.config import load
from tests.conftest import git, make_project

IGNORED = """\
__pycache__/
.mypy_cache/
.gatekeeper/
.env
build/
*.egg-info/
.venv/
envs/
conda/
.tox/
.idea/
.coverage
.coverage.*
.coveragerc
htmlcov/
legacy.pyc
"""
SQLITE = b"SQLite format 3\x00" + b"\x00" * 84


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def test_every_ignored_file_is_an_input_but_tools_output_environments_and_metadata(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    write(
        root,
        {
            # inputs: what a suite may read
            ".env": "MODE=dev\n",
            "build/lib/pkg/__init__.py": "X = 1\n",
            "sample.egg-info/PKG-INFO": "Name: sample\n",
            "envs/notes.txt": "which environment is which\n",
            ".coveragerc": "[run]\nomit = pkg/*\n",  # configuration, not data
            "legacy.pyc": b"\x00",  # importable: no source beside it
            # not inputs
            "pkg/__pycache__/x.cpython-311.pyc": b"\x00",
            ".mypy_cache/3.11/x.json": "{}",
            ".gatekeeper/report.json": "{}",
            ".venv/pyvenv.cfg": "home = /usr/bin\n",
            ".venv/lib/site.py": "X = 1\n",
            "envs/py311/pyvenv.cfg": "home = /usr/bin\n",
            "envs/py311/lib/site.py": "X = 1\n",
            "conda/conda-meta/history": "\n",
            "conda/lib/site.py": "X = 1\n",
            ".tox/py311/log.txt": "\n",
            ".idea/workspace.xml": "<project/>\n",
            ".coverage": SQLITE,
            ".coverage.host.pid12.Xabc": SQLITE,
            "htmlcov/index.html": "<html/>\n",
        },
    )

    found = inputs.scan(root)

    assert found.paths == tuple(
        sorted(
            [
                ".coveragerc",
                ".env",
                "build/lib/pkg/__init__.py",
                "envs/notes.txt",
                "legacy.pyc",
                "sample.egg-info/PKG-INFO",
            ]
        )
    )
    assert found.digest and not found.clean


def test_the_digest_follows_content_mode_and_presence(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    clean = inputs.scan(root)
    assert clean.clean and clean.digest == "" and clean.paths == ()
    dotenv = root / ".env"

    dotenv.write_text("MODE=good\n")
    good = inputs.scan(root).digest
    dotenv.write_text("MODE=good\n")
    assert inputs.scan(root).digest == good  # rewritten alike: the same
    dotenv.write_text("MODE=bad!\n")
    assert inputs.scan(root).digest not in (good, "")  # same size, other content
    dotenv.write_text("MODE=good\n")
    dotenv.chmod(0o755)
    assert inputs.scan(root).digest != good
    dotenv.unlink()
    assert inputs.scan(root).clean


def test_links_are_keyed_by_target_and_special_files_are_never_opened(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".gitignore": "data\nrun/\n"})
    (root / "data").symlink_to("/nowhere/one")
    (root / "run").mkdir()
    os.mkfifo(root / "run" / "pipe")  # opening it to read would wait for a writer forever

    first = inputs.scan(root)
    (root / "data").unlink()
    (root / "data").symlink_to("/nowhere/two")

    assert first.paths == ("data", "run/pipe")
    assert inputs.scan(root).digest != first.digest


def test_inputs_past_the_bound_cannot_be_keyed_and_switch_the_cache_off(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    (root / "build").mkdir()
    with (root / "build" / "big.bin").open("wb") as stream:
        stream.truncate(inputs.MAX_BYTES + 1)  # sparse: nothing is read to find it too large

    found = inputs.scan(root)
    opened = cache.Cache.open(load(root), root, "token")

    assert found.digest is None and "MiB of ignored files" in found.problem
    assert not opened.enabled
    assert "the result cache is off for this run" in opened.note
    assert "MiB of ignored files" in opened.note


def test_uncommitted_changes_inside_a_submodule_cannot_be_keyed(tmp_path: Path) -> None:
    library = make_project(tmp_path / "library")
    root = make_project(tmp_path / "p")
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    git(root, "commit", "-q", "-m", "a submodule")
    (root / "lib" / "pkg" / "__init__.py").write_text("BROKEN = True\n")

    found = inputs.scan(root)
    assert found.digest is None
    assert found.problem == "uncommitted changes inside the submodule lib"


def test_a_populated_submodule_is_what_a_fresh_checkout_lacks(tmp_path: Path) -> None:
    """A clone (and the pre-push hook's checkout) holds a submodule's folder empty: a pass that
    could read its files is not a clean tree's, whatever commit the tree id pins."""
    library = make_project(tmp_path / "library")
    root = make_project(tmp_path / "p")
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    git(root, "commit", "-q", "-m", "a submodule")

    populated = inputs.scan(root)
    assert not populated.clean and populated.paths == ("lib/",)

    git(root, "submodule", "deinit", "-q", "-f", "lib")  # as a fresh checkout has it
    assert inputs.scan(root).clean


# Bytecode written where Python writes it by default, even when this suite runs under a gate
# that sends its own bytecode elsewhere (PYTHONPYCACHEPREFIX reaches its test processes).
CLASSIC = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}


def test_bytecode_trusted_for_a_source_changed_since_is_an_input_and_nothing_is_removed(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    write(root, {"pkg/calc.py": "A = 1\n", ".venv/pyvenv.cfg": "", ".venv/lib/m.py": "B = 1\n"})
    for folder in ("pkg", ".venv/lib"):
        compiled = subprocess.run(
            [sys.executable, "-m", "compileall", "-q", folder], cwd=root, env=CLASSIC, check=False
        )
        assert compiled.returncode == 0
    assert inputs.scan(root).clean  # bytecode written after its source: nothing to say

    for name in ("pkg/calc.py", ".venv/lib/m.py"):
        source = root / name
        before = source.stat()
        source.write_text(source.read_text().replace("1", "2"))  # same size
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))

    found = inputs.scan(root)
    pyc = f"pkg/__pycache__/calc.{sys.implementation.cache_tag}.pyc"
    assert found.stale == (pyc,) and found.paths == (pyc,)  # the environment's is its own
    assert not found.clean and found.digest
    assert (root / pyc).is_file()

    # Bytecode Python would not trust (the source's mtime moved on) is harmless.
    moved = (root / "pkg" / "calc.py").stat().st_mtime_ns + 2_000_000_000
    os.utime(root / "pkg" / "calc.py", ns=(moved, moved))
    assert inputs.scan(root).clean


def test_a_link_in_the_tree_leading_out_of_the_worktree_cannot_be_keyed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".gitignore": "data\n"})
    (tmp_path / "elsewhere.py").write_text("VALUE = 1\n")
    (root / "pkg" / "inside.py").symlink_to("__init__.py")
    (root / "pkg" / "gone.py").symlink_to("../../nowhere.py")  # leads to nothing readable
    assert inputs.scan(root).digest is not None

    for name, target in [
        ("pkg/impl.py", "../../elsewhere.py"),  # tracked or not, relative
        ("pkg/hooks", "../.git/hooks"),  # the repository's own .git is no content of the tree
        ("data", str(tmp_path / "elsewhere.py")),  # ignored, absolute
    ]:
        (root / name).symlink_to(target)
        found = inputs.scan(root)
        assert found.digest is None
        assert f"the link {name} leads outside the worktree" in found.problem
        (root / name).unlink()


def test_folders_holding_no_file_are_inputs_a_checkout_lacks(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    assert inputs.scan(root).clean
    for folder in ("outbox/sent/deep", "pkg/old/__pycache__", "build", "pkg/data"):
        (root / folder).mkdir(parents=True)
    (root / "pkg" / "data" / "keep.txt").write_text("")  # holds a file: a checkout makes it
    (root / ".mypy_cache" / "3.11").mkdir(parents=True)  # tools' output: not looked into
    (root / ".venv" / "empty").mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")

    found = inputs.scan(root)

    # named by the outermost; a folder holding nothing but bytecode is one a checkout lacks too
    assert found.empty == ("build/", "outbox/", "pkg/old/")
    assert "outbox/sent/deep/" in found.paths
    assert not found.clean and found.digest
    (root / "outbox" / "sent" / "deep").rmdir()
    assert inputs.scan(root).digest != found.digest


GATEKEEPERS_OWN: dict[str, str | bytes] = {
    ".gatekeeper/.gitignore": "*\n",
    ".gatekeeper/report.json": "{}",
    ".gatekeeper/report.sarif": "{}",
    ".gatekeeper/report.junit.xml": "<testsuites/>",
    ".gatekeeper/.report.json-x1y2": "{",  # an atomic write under way
    ".gatekeeper/integration.json": "{}",
    ".gatekeeper/integration.log": "log\n",
    ".gatekeeper/setup.log": "log\n",
    ".gatekeeper/bytecode-checked.json": "[]",
    ".gatekeeper/pycache/0a1b/pkg/x.cpython-311.pyc": b"\x00",
    ".gatekeeper/gated/abc.json": "{}",
    ".gatekeeper/coverage/run1/.coverage.w0": SQLITE,
    ".gatekeeper/coverage/run1.lock": "",
    ".gatekeeper/coverage/run2/": "",
    ".gatekeeper/shards/shard-1-of-2/manifest.json": "{}",
    ".gatekeeper/durations.json": "{}",  # the shards' split, read only by sharded runs
}


def test_only_gatekeepers_own_state_under_its_folder_is_left_out(tmp_path: Path) -> None:
    # A test may read any file there (a fixture, the worktree's env file a conftest loads): a
    # clean clone has none of them, so each is an input, keyed by content, never left out.
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    for name, content in GATEKEEPERS_OWN.items():
        if name.endswith("/"):
            (root / name).mkdir(parents=True)
        else:
            write(root, {name: content})
    assert inputs.scan(root).clean  # gatekeeper's own state: nothing a checkout lacks

    write(root, {".gatekeeper/env": "FEATURE_X=on\n", ".gatekeeper/data/fixture.txt": "3\n"})
    (root / ".gatekeeper" / "outbox").mkdir()
    found = inputs.scan(root)
    assert found.paths == (".gatekeeper/data/fixture.txt", ".gatekeeper/env", ".gatekeeper/outbox/")
    assert not found.clean and found.empty == (".gatekeeper/outbox/",)
    (root / ".gatekeeper" / "env").write_text("FEATURE_X=of\n")  # same size, other content
    assert inputs.scan(root).digest != found.digest


def test_untracked_files_under_gatekeepers_folder_are_in_the_tree_unless_its_own(
    tmp_path: Path,
) -> None:
    # Without an ignore rule for the folder, its files are untracked, not ignored: the tree id
    # leaves out only gatekeeper's own state, so a pass made with an uncommitted fixture there
    # matches only the commit that adds it.
    root = make_project(tmp_path / "p", {".gitignore": "__pycache__/\n"})
    committed = cache.tree_id(root)
    for name, content in GATEKEEPERS_OWN.items():
        if not name.endswith("/"):
            write(root, {name: content})
    (root / ".gatekeeper" / ".gitignore").write_text("# ignores nothing\n")
    assert cache.tree_id(root) == committed

    write(root, {".gatekeeper/fixture.txt": "3\n"})
    assert cache.tree_id(root) != committed


# What only looks like gatekeeper's own state: the wrong kind in one of its folders, or the
# atomic write's prefix on one of its folders' names.
PLANTED: dict[str, str | bytes] = {
    ".gatekeeper/pycache/0a1b/planted.py": "X = 1\n",
    ".gatekeeper/gated/notes.txt": "x\n",
    ".gatekeeper/gated/abc/data.json": "{}",
    ".gatekeeper/shards/shard-1-of-2/fixture.txt": "x\n",
    ".gatekeeper/shards/other/manifest.json": "{}",
    ".gatekeeper/coverage/run1/data.txt": "x\n",
    ".gatekeeper/coverage/notes.txt": "x\n",
    ".gatekeeper/.pycache-x1y2": "x\n",
    ".gatekeeper/.coverage-x1y2/data.txt": "x\n",
}


def remove(path: Path) -> None:
    """Remove the file at ``path``, and its folder when that is left empty."""
    path.unlink()
    if not any(path.parent.iterdir()):
        path.parent.rmdir()


def test_a_file_of_another_kind_in_gatekeepers_folders_is_an_input(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    for name, content in GATEKEEPERS_OWN.items():
        if not name.endswith("/"):
            write(root, {name: content})
    clean = inputs.scan(root)
    assert clean.clean
    for name, content in PLANTED.items():
        write(root, {name: content})
        found = inputs.scan(root)
        assert found.paths == (name,), name
        (root / name).write_text("Y = 2\n")  # an edit changes the key
        assert inputs.scan(root).digest != found.digest, name
        remove(root / name)
    assert inputs.scan(root).digest == clean.digest


def test_a_link_in_gatekeepers_folder_is_never_its_own(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    outside = tmp_path / "outside"
    write(outside.parent, {"outside/pkg/x.cpython-311.pyc": b"\x00"})
    write(root, {".gatekeeper/report.json": "{}"})
    (root / ".gatekeeper" / "pycache").symlink_to(outside)
    found = inputs.scan(root)
    assert found.digest is None and "the link .gatekeeper/pycache leads outside" in found.problem
    (root / ".gatekeeper" / "pycache").unlink()
    (root / ".gatekeeper" / "report.sarif").symlink_to(root / "pyproject.toml")
    found = inputs.scan(root)
    assert found.paths == (".gatekeeper/report.sarif",) and not found.clean


def test_untracked_links_and_other_kinds_in_gatekeepers_folder_are_in_the_tree(
    tmp_path: Path,
) -> None:
    # Without an ignore rule for the folder, they are untracked files the tree id holds.
    root = make_project(tmp_path / "p", {".gitignore": "__pycache__/\n"})
    committed = cache.tree_id(root)
    write(root, {".gatekeeper/.gitignore": "# ignores nothing\n"})
    assert cache.tree_id(root) == committed
    for name, content in PLANTED.items():
        write(root, {name: content})
        assert cache.tree_id(root) != committed, name
        remove(root / name)
    (root / ".gatekeeper" / "pycache").rmdir()
    (root / ".gatekeeper" / "pycache").symlink_to(tmp_path)
    assert cache.tree_id(root) != committed
    (root / ".gatekeeper" / "pycache").unlink()
    (root / ".gatekeeper" / "report.json").symlink_to(root / "pyproject.toml")
    assert cache.tree_id(root) != committed


def compile_other_code(root: Path, source: str, code: str, mode: str, optimize: int = -1) -> str:
    """Write, for ``source`` in ``root``, the bytecode of ``code`` (other content) where Python
    looks for it, with ``mode`` (a ``py_compile.PycInvalidationMode`` name): what a checkout of
    an older tree, or anything else, may leave there. Returns its path, relative."""
    script = (
        "import importlib.util, py_compile, sys, pathlib\n"
        "source, code, mode, optimize = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])\n"
        "other = pathlib.Path(source + '.old')\n"
        "other.write_text(code)\n"
        "target = importlib.util.cache_from_source(source, optimization=optimize if optimize > 0 "
        "else '')\n"
        "py_compile.compile(str(other), cfile=target, dfile=source, doraise=True, "
        "optimize=optimize, invalidation_mode=py_compile.PycInvalidationMode[mode])\n"
        "other.unlink()\n"
        "print(target)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, source, code, mode, str(optimize)],
        cwd=root,
        env=CLASSIC,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def forge_timestamp(root: Path, pyc: str, source: str) -> None:
    """Give the timestamp ``pyc`` the source's mtime and size, as Python checks them."""
    status = (root / source).stat()
    data = bytearray((root / pyc).read_bytes())
    data[8:12] = (int(status.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
    data[12:16] = (status.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    (root / pyc).write_bytes(bytes(data))


def test_bytecode_is_compared_with_its_source_at_the_optimization_its_name_gives(
    tmp_path: Path,
) -> None:
    # `python -O` loads the .opt-1.pyc, and runs without the asserts: bytecode there that holds
    # the source compiled at level 0 (asserts kept) is other code, though a level-0 compile of
    # the source matches it.
    source = "def check(x):\n    assert x > 0\n    return x\n"
    root = make_project(tmp_path / "p", {".gitignore": IGNORED, "pkg/calc.py": source})
    plain = compile_other_code(root, "pkg/calc.py", source, "UNCHECKED_HASH", optimize=0)
    assert inputs.scan(root).clean  # the source's own code at the level its name gives
    optimized = plain.replace(".pyc", ".opt-1.pyc")
    (root / plain).replace(root / optimized)
    assert inputs.scan(root).stale == (optimized,)
    compile_other_code(root, "pkg/calc.py", source, "UNCHECKED_HASH", optimize=1)
    assert inputs.scan(root).clean


def test_bytecode_python_would_load_for_a_source_is_checked_against_its_code(
    tmp_path: Path,
) -> None:
    # Written after the source last changed, so no file time gives it away: only its code does.
    root = make_project(tmp_path / "p", {".gitignore": IGNORED})
    write(root, {"pkg/calc.py": "A = 1 - 1\n", "pkg/good.py": "B = 1\n"})
    compiled = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "pkg"], cwd=root, env=CLASSIC, check=False
    )
    assert compiled.returncode == 0
    good = compile_other_code(root, "pkg/good.py", "B = 1\n", "UNCHECKED_HASH")
    (root / ".gatekeeper").mkdir()  # where what was found good is kept, by content
    assert inputs.scan(root).clean  # bytecode of the very code the sources hold
    assert len(json.loads((root / ".gatekeeper" / "bytecode-checked.json").read_text())) == 3
    assert inputs.scan(root).clean  # found good again, by content alone
    old = "A = 1 + 10\n"  # another size: only a forged header matches the source

    unchecked = compile_other_code(root, "pkg/calc.py", old, "UNCHECKED_HASH")
    found = inputs.scan(root)
    assert found.stale == (unchecked,) and not found.clean

    checked = compile_other_code(
        root, "pkg/calc.py", old, "CHECKED_HASH"
    )  # --check-hash-based-pycs never
    assert inputs.scan(root).stale == (checked,)

    forged = compile_other_code(root, "pkg/calc.py", old, "TIMESTAMP")
    assert inputs.scan(root).clean  # its header names another mtime: Python compiles afresh
    forge_timestamp(root, forged, "pkg/calc.py")
    assert inputs.scan(root).stale == (forged,)

    optimized = compile_other_code(root, "pkg/calc.py", old, "UNCHECKED_HASH", optimize=1)  # -O
    assert optimized.endswith(".opt-1.pyc")
    assert inputs.scan(root).stale == tuple(sorted([forged, optimized]))
    assert (root / good).is_file() and (root / forged).is_file()  # nothing is removed
