"""Cold versus cached ``pytest --gatekeeper`` on a real project.

Usage: ``python benchmarks/cache.py PROJECT [--repeats N] [-- PYTEST ARGS...]``

PROJECT is a git worktree with ``[tool.gatekeeper]`` configured, and whose environment (the
interpreter running this script) has the project and pytest-gatekeeper installed. Each repeat
runs the gate twice on the same tree: cold (``--gatekeeper-no-cache``, so every check and the
test suite run) and then cached (a fresh entry written by a cold run is reused). Printed: the
median of each, side by side, and the ratio cached / cold.

Nothing in the project changes: the cache lives in its git common dir and only gains entries.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def gate(project: Path, *args: str) -> tuple[float, int]:
    """Seconds one ``pytest --gatekeeper`` took in ``project``, and its exit status."""
    argv = [sys.executable, "-m", "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider", *args]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=project, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    cold: list[float] = []
    cached: list[float] = []
    for _ in range(args.repeats):
        seconds, status = gate(args.project, "--gatekeeper-no-cache", *args.pytest_args)
        cold.append(seconds)
        gate(args.project, *args.pytest_args)  # writes the entries (or finds them already)
        again, again_status = gate(args.project, *args.pytest_args)
        cached.append(again)
        if status != again_status:
            print(f"exit status differs: cold {status}, cached {again_status}", file=sys.stderr)
            return 1
    cold_median, cached_median = statistics.median(cold), statistics.median(cached)
    print(f"project:  {args.project}  (exit status {status}, {args.repeats} repeats)")
    print(f"cold:     median {cold_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cold)}")
    print(f"cached:   median {cached_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cached)}")
    print(f"ratio:    cached / cold = {cached_median / cold_median:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
