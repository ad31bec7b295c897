"""What checking classic bytecode against its source costs: the scan of a worktree's inputs
with a ``.pyc`` in ``__pycache__`` for every module (as any plain Python run, an editor or
``compileall`` leaves them), against the same scan with none.

Usage: ``python benchmarks/pycache_check.py [--repeats N]`` (a clone of this repository)
       ``python benchmarks/pycache_check.py --real click [--repeats N]``

At the start of a gated session, every ``__pycache__/*.pyc`` in the worktree that Python would
load for its source (a timestamp one matching the source's mtime and size, any hash-based one)
is compiled from its source and compared (gatekeeper/cache/bytecode.py, ``misleading``): a
test's subprocess started without the run's environment would run it. What was found good is
kept in ``.gatekeeper/bytecode-checked.json`` by content, so a later session only hashes it.
Each repeat times one :func:`gatekeeper.cache.inputs.scan` with that bytecode present and
nothing kept (cold: every module compiled), one more (warm: every module hashed), then one
without the bytecode; the differences of the medians are what the check costs a session.
"""

from __future__ import annotations

import argparse
import importlib.util
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package prepares real projects

from gatekeeper.cache import inputs  # noqa: E402
from gatekeeper.project import workfolder  # noqa: E402


def target(real: str | None, folder: Path) -> Path:
    """A worktree to scan: a clone of this repository, or a pinned real project."""
    if real is None:
        clone = folder / "repository"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        return clone
    from tests.realprojects.workspace import ready

    checkout = ready(real, folder)
    print(f"{real} {checkout.project.version}")
    return checkout.root


def compile_classic(root: Path) -> list[Path]:
    """Write, for every tracked module, the bytecode Python writes beside it by default."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    written = []
    tag = sys.implementation.cache_tag
    for name in filter(None, listed.stdout.split("\0")):
        source = root / name
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        try:
            py_compile.compile(str(source), cfile=str(pyc), doraise=True)
        except py_compile.PyCompileError:
            continue  # a fixture that does not compile: Python writes no bytecode for it
        written.append(pyc)
    assert written[0].read_bytes()[:4] == importlib.util.MAGIC_NUMBER
    return written


def timed(root: Path) -> float:
    started = time.perf_counter()
    found = inputs.scan(root)
    seconds = time.perf_counter() - started
    if found.digest is None or found.stale:
        raise SystemExit(f"the scan found what it should not: {found}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--real", help="a pinned project of tests/realprojects: click, pluggy")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-pycache-") as folder:
        root = target(args.real, Path(folder))
        kept = workfolder.prepare(root) / workfolder.CHECKED  # as a gated session made it
        cold, warm, without = [], [], []
        for _ in range(args.repeats):
            written = compile_classic(root)
            kept.unlink(missing_ok=True)
            cold.append(timed(root))
            warm.append(timed(root))
            for pycache in {pyc.parent for pyc in written}:
                shutil.rmtree(pycache)
            without.append(timed(root))
    base = statistics.median(without)
    print(f"modules:  {len(written)} with bytecode Python would load")
    print(f"cold:     median {statistics.median(cold):6.3f} s   runs " + _runs(cold))
    print(f"warm:     median {statistics.median(warm):6.3f} s   runs " + _runs(warm))
    print(f"without:  median {base:6.3f} s   runs " + _runs(without))
    print(f"extra:    {statistics.median(cold) - base:+.3f} s cold (each compiled and compared)")
    print(f"          {statistics.median(warm) - base:+.3f} s warm (each hashed)")
    return 0


def _runs(values: list[float]) -> str:
    return ", ".join(f"{s:.3f}" for s in values)


if __name__ == "__main__":
    raise SystemExit(main())
