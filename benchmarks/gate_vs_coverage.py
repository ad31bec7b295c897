"""The whole gate against ``coverage run -m pytest`` alone, on a real project.

    python benchmarks/gate_vs_coverage.py PROJECT_DIR [--repeats 5] [-- PYTEST_ARGS...]
    python benchmarks/gate_vs_coverage.py --real click [--repeats 5]

PROJECT_DIR is a git checkout of a real project (for example attrs) whose test dependencies and
pytest-gatekeeper are installed in this interpreter. ``--real NAME`` instead fetches, verifies
and adopts one of the pinned projects of tests/realprojects (click, pluggy) in its own venv,
with the same cache the tests use. Both variants run the same tests over the same files; the
gate adds lint, types and complexity in the background and measures coverage itself. The gate's
result cache is bypassed so every run does the full work.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from timing import compare, summarise

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "coverage run -m pytest"


def variants(
    python: str, coverage_args: Sequence[str], pytest_args: Sequence[str]
) -> dict[str, list[str]]:
    """The two commands: coverage.py around plain pytest (the gate blocked), and the gate."""
    common = ["-q", "-p", "no:cacheprovider", *pytest_args]
    coverage = [python, "-m", "coverage", "run", *coverage_args, "-m", "pytest"]
    gate = [python, "-m", "pytest", "--gatekeeper", "--gatekeeper-no-cache"]
    return {
        BASELINE: [*coverage, "-p", "no:gatekeeper", *common],
        "pytest --gatekeeper": [*gate, *common],
    }


def measure(
    commands: Mapping[str, Sequence[str]],
    cwd: Path,
    repeats: int,
    env: Mapping[str, str] | None = None,
) -> None:
    print(summarise(compare(commands, cwd, repeats, env=env), BASELINE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path, nargs="?")
    parser.add_argument("--real", help="a pinned project of tests/realprojects: click, pluggy")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    if (args.project is None) == (args.real is None):
        parser.error("give either PROJECT_DIR or --real NAME")
    if args.project is not None:
        commands = variants(sys.executable, (), args.pytest_args)
        measure(commands, args.project.resolve(), args.repeats)
        return
    sys.path.insert(0, str(ROOT))  # the tests package prepares real projects
    from tests.realprojects.workspace import ready

    with tempfile.TemporaryDirectory() as tmp:
        project = ready(args.real, Path(tmp))
        python = str(project.venv / "bin" / "python")
        commands = variants(python, project.project.coverage_args, args.pytest_args)
        print(f"{args.real} {project.project.version}, {args.repeats} repeats")
        measure(commands, project.root, args.repeats, env=project.env)


if __name__ == "__main__":
    main()
