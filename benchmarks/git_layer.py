"""The one git layer: plain ``subprocess`` (``gatekeeper.git.repository``) against GitPython, the
library the project once declared and never imported. The decision and these figures:
docs/architecture.md#git.

Four measurements in one run, the variants alternating within every round, medians:

1. import cost in a fresh interpreter: nothing, ``gatekeeper.git.repository``, ``git`` (GitPython),
   and both (what a git layer built on GitPython would import);
2. per call, the queries the gate makes (``rev-parse --show-toplevel``, ``rev-parse HEAD``,
   ``ls-files``, ``status --porcelain``): through ``repository.git``, through GitPython's command
   wrapper (``repo.git.rev_parse(...)``), and through GitPython's object API where it has one;
3. the git processes GitPython leaves running in the calling process, and the warnings a session
   with ``-W error -X dev`` sees;
4. whether variables inherited from a git hook (``GIT_WORK_TREE``, ``GIT_INDEX_FILE``) redirect
   the answer, as they must not inside a user's pytest process started from a hook.

GitPython is not a dependency of the project: ``pip install gitpython`` to run this.

    python benchmarks/git_layer.py [--repeats 15] [--calls 20]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from timing import compare, summarise

from gatekeeper.git import repository

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds git

from tests.conftest import git

FILES = 300  # tracked modules in the sample repository, as in a mid-sized project
Call = Callable[[], object]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20, help="calls per variant and round")
    args = parser.parse_args()
    gitpython = _gitpython()
    with tempfile.TemporaryDirectory() as tmp:
        root = _sample(Path(tmp) / "repo")
        print("1. import cost (fresh interpreter, wall time)")
        print(_imports(root, args.repeats))
        print("\n2. per call (in process, microseconds)")
        print(_calls(gitpython, root, args.repeats, args.calls))
        print("\n3. processes and warnings")
        print(_leftovers(gitpython, root))
        print("\n4. variables inherited from a hook of another repository")
        print(_redirects(gitpython, root, Path(tmp) / "other"))


def _gitpython() -> ModuleType:
    try:
        return importlib.import_module("git")
    except ImportError:
        raise SystemExit(
            "GitPython is not installed: `pip install gitpython`, then run again."
        ) from None


def _sample(root: Path) -> Path:
    """A committed repository of ``FILES`` modules, one edited and one untracked."""
    for index in range(FILES):
        path = root / "pkg" / f"m{index // 50}" / f"mod{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sample")
    (root / "pkg" / "m0" / "mod0.py").write_text("VALUE = -1\n")
    (root / "pkg" / "new.py").write_text("NEW = 1\n")
    return root


def _imports(root: Path, repeats: int) -> str:
    python = [sys.executable, "-c"]
    variants = {
        "nothing": [*python, "pass"],
        "gatekeeper.git.repository": [*python, "import gatekeeper.git.repository"],
        "git (GitPython)": [*python, "import git"],
        "gatekeeper.git.repository + git": [*python, "import gatekeeper.git.repository, git"],
    }
    return summarise(compare(variants, root, repeats), "nothing")


def _calls(gitpython: ModuleType, root: Path, repeats: int, calls: int) -> str:
    repo: Any = gitpython.Repo(root)
    queries: dict[str, dict[str, Call]] = {
        "rev-parse --show-toplevel": {
            "subprocess": lambda: repository.worktree_root(root),
            "GitPython wrapper": lambda: repo.git.rev_parse("--show-toplevel"),
            "GitPython objects": lambda: gitpython.Repo(root).working_tree_dir,
        },
        "rev-parse HEAD": {
            "subprocess": lambda: repository.output(root, "rev-parse", "--verify", "HEAD"),
            "GitPython wrapper": lambda: repo.git.rev_parse("--verify", "HEAD"),
            "GitPython objects": lambda: repo.head.commit.hexsha,
        },
        "ls-files": {
            "subprocess": lambda: repository.ls_files(root, "--cached", "--others"),
            "GitPython wrapper": lambda: repo.git.ls_files("-z", "--cached", "--others"),
        },
        "status --porcelain": {
            "subprocess": lambda: repository.git(root, "status", "--porcelain"),
            "GitPython wrapper": lambda: repo.git.status("--porcelain"),
            "GitPython objects": lambda: repo.is_dirty(untracked_files=True),
        },
    }
    lines = [f"{'query':<27} {'variant':<19} {'median us':>10} {'ratio':>7}"]  # to subprocess
    for query, variants in queries.items():
        medians = _per_call(variants, repeats, calls)
        for name, median in medians.items():
            ratio = median / medians["subprocess"]
            lines.append(f"{query:<27} {name:<19} {median * 1e6:>10.0f} {ratio:>7.2f}")
    repo.close()
    return "\n".join(lines)


def _per_call(variants: Mapping[str, Call], repeats: int, calls: int) -> dict[str, float]:
    """The median time of one call of each variant, the variants alternating in every round."""
    for call in variants.values():
        call()  # warm up: caches, and GitPython's persistent processes
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, call in variants.items():
            started = time.perf_counter()
            for _ in range(calls):
                call()
            times[name].append((time.perf_counter() - started) / calls)
    return {name: statistics.median(values) for name, values in times.items()}


def _leftovers(gitpython: ModuleType, root: Path) -> str:
    lines = [f"git processes of this process before GitPython: {_children()}"]
    repo: Any = gitpython.Repo(root)
    message = repo.head.commit.message  # one object read, as a commit's facts need
    lines.append(f"after reading one commit, Repo alive:  {_children()} ({message.strip()!r})")
    repo.close()
    lines.append(f"after repo.close():                    {_children()}")
    repo = gitpython.Repo(root)
    repo.head.commit.message  # noqa: B018 (the read is the point)
    del repo
    gc.collect()
    lines.append(f"after dropping the Repo and gc:        {_children()}")
    script = (
        "import git, sys; r = git.Repo(sys.argv[1]); r.head.commit.message; "
        "r.is_dirty(untracked_files=True); print('done')"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", "-c", script, str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    warned = [line for line in done.stderr.splitlines() if "Warning" in line]
    lines.append(
        f"-W error -X dev, Repo alive at exit: exit {done.returncode}, "
        f"{len(warned)} warning line(s){': ' + warned[0] if warned else ''}"
    )
    return "\n".join(lines)


def _children() -> list[str]:
    """The command lines of this process's running child processes (Linux /proc)."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if entry.name.isdigit() and fields[1] == me:
                found.append((entry / "cmdline").read_text().replace("\0", " ").strip())
        except (OSError, IndexError):
            continue
    return sorted(found)


def _redirects(gitpython: ModuleType, root: Path, other: Path) -> str:
    other.mkdir()
    (other / "elsewhere.py").write_text("")
    git(other, "init", "-q", "-b", "main")
    git(other, "add", "-A")
    lines = []
    hook = {"GIT_WORK_TREE": str(other), "GIT_INDEX_FILE": str(other / ".git" / "index")}
    with _environment(hook):
        repo: Any = gitpython.Repo(root)
        ours = repository.worktree_root(root)
        lines.append(f"worktree: subprocess {ours}; GitPython {repo.working_tree_dir}")
        listed = repository.ls_files(root, "--cached") or []
        theirs = repo.git.ls_files("--cached").splitlines()
        lines.append(f"ls-files: subprocess {len(listed)} files; GitPython {theirs}")
        # GitPython's way to drop a variable removes it from its own overlay only: every call
        # starts from a copy of os.environ.
        repo.git.update_environment(GIT_WORK_TREE=None, GIT_INDEX_FILE=None)
        dropped = repo.git.ls_files("--cached").splitlines()
        lines.append(f"ls-files after update_environment(GIT_INDEX_FILE=None): GitPython {dropped}")
        repo.close()
    return "\n".join(lines)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


if __name__ == "__main__":
    main()
