"""``gatekeeper run`` against ``pytest --gatekeeper`` on a real project, side by side.

    python benchmarks/run_vs_pytest.py [--project click] [--repeats 5]

The project is fetched, verified and adopted exactly as in tests/realprojects (the same cache
of source distributions and environments). Both variants judge the same tree with the result
cache bypassed, so each does the full work; ``gatekeeper run`` also pays for starting pytest in
a fresh interpreter. Printed: medians, minima and the ratio to ``pytest --gatekeeper``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from timing import compare, summarise

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", default="click")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # the tests package prepares real projects
    from tests.realprojects.workspace import ready

    with tempfile.TemporaryDirectory() as tmp:
        project = ready(args.project, Path(tmp))
        common = ["--gatekeeper-no-cache", "-q", "-p", "no:cacheprovider"]
        variants = {
            "pytest --gatekeeper": [
                str(project.venv / "bin" / "python"),
                "-m",
                "pytest",
                "--gatekeeper",
                *common,
            ],
            "gatekeeper run": [str(project.venv / "bin" / "gatekeeper"), "run", *common],
        }
        times = compare(variants, project.root, args.repeats, env=project.env)
    print(f"{args.project} {project.project.version}, {args.repeats} repeats")
    print(summarise(times, "pytest --gatekeeper"))


if __name__ == "__main__":
    main()
