"""The whole gate against ``coverage run -m pytest`` alone, on a real project.

    python benchmarks/gate_vs_coverage.py PROJECT_DIR [--repeats 5] [-- PYTEST_ARGS...]

PROJECT_DIR is a git checkout of a real project (for example attrs) whose test dependencies and
pytest-gatekeeper are installed in this interpreter. Both variants run the same tests; the gate
adds lint, types and complexity in the background and measures coverage itself. The gate's
result cache, where present, is bypassed so every run does the full work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing import compare, summarise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    common = ["-q", "-p", "no:cacheprovider", *args.pytest_args]
    variants = {
        "coverage run -m pytest": [
            sys.executable,
            "-m",
            "coverage",
            "run",
            "-m",
            "pytest",
            "-p",
            "no:gatekeeper",
            *common,
        ],
        "pytest --gatekeeper": [
            sys.executable,
            "-m",
            "pytest",
            "--gatekeeper",
            "--gatekeeper-no-cache",
            *common,
        ],
    }
    times = compare(variants, args.project.resolve(), args.repeats)
    print(summarise(times, "coverage run -m pytest"))


if __name__ == "__main__":
    main()
