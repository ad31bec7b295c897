"""Cold versus cached ``pytest --gatekeeper`` on a real project.

Usage: ``python benchmarks/cache.py PROJECT [--repeats N] [-- PYTEST ARGS...]``
       ``python benchmarks/cache.py --real click [--repeats N]``

PROJECT is a git worktree with ``[tool.gatekeeper]`` configured, and whose environment (the
interpreter running this script) has the project and pytest-gatekeeper installed. ``--real NAME``
instead prepares one of the pinned projects of tests/realprojects (click, pluggy), adopted with
the default configuration and a baseline, in its own venv, as the tests do. Each repeat
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
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Project:
    """Where the gate runs, with which interpreter and environment."""

    root: Path
    python: str = sys.executable
    env: Mapping[str, str] | None = None


def gate(project: Project, *args: str) -> tuple[float, int]:
    """Seconds one ``pytest --gatekeeper`` took in ``project``, and its exit status."""
    argv = [project.python, "-m", "pytest", "--gatekeeper", "-q", "-p", "no:cacheprovider", *args]
    started = time.perf_counter()
    env = None if project.env is None else dict(project.env)
    done = subprocess.run(
        argv, cwd=project.root, env=env, capture_output=True, text=True, check=False
    )
    return time.perf_counter() - started, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, nargs="?")
    parser.add_argument("--real", help="a pinned project of tests/realprojects: click, pluggy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    if (args.project is None) == (args.real is None):
        parser.error("give either PROJECT or --real NAME")
    if args.project is not None:
        return measure(Project(args.project), args.repeats, args.pytest_args)
    sys.path.insert(0, str(ROOT))  # the tests package prepares real projects
    from tests.realprojects.workspace import ready

    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-cache-") as folder:
        checkout = ready(args.real, Path(folder))
        print(f"{args.real} {checkout.project.version}")
        python = str(checkout.venv / "bin" / "python")
        return measure(Project(checkout.root, python, checkout.env), args.repeats, args.pytest_args)


def measure(project: Project, repeats: int, pytest_args: list[str]) -> int:
    """Run the repeats and print the figures; exit status 1 when cold and cached disagree."""
    cold: list[float] = []
    cached: list[float] = []
    for _ in range(repeats):
        seconds, status = gate(project, "--gatekeeper-no-cache", *pytest_args)
        cold.append(seconds)
        gate(project, *pytest_args)  # writes the entries (or finds them already)
        again, again_status = gate(project, *pytest_args)
        cached.append(again)
        if status != again_status:
            print(f"exit status differs: cold {status}, cached {again_status}", file=sys.stderr)
            return 1
    cold_median, cached_median = statistics.median(cold), statistics.median(cached)
    print(f"project:  {project.root}  (exit status {status}, {repeats} repeats)")
    print(f"cold:     median {cold_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cold)}")
    print(f"cached:   median {cached_median:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cached)}")
    print(f"ratio:    cached / cold = {cached_median / cold_median:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
