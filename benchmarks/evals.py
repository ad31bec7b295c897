"""Benchmark: 10,000 trivial JSONL eval cases through the gate, check by check.

Builds a small git project whose dataset reads 10,000 cases from a JSONL file, then times, side
by side and several times each, plain ``pytest evals`` and the gate with more and more checks:
tests and evals only, then coverage too, then every default check. The gate's result cache is
bypassed (``--gatekeeper-no-cache``), so every run does the full work. Prints the median wall
time and the median CPU time (user + system, the process and its children: steadier than wall
time on a shared machine) of each variant.

``--python LABEL=PATH`` (repeatable) runs every variant under each interpreter, alternating, and
prints the ratio of the last to the first: point one at a checkout of the code before a change
to compare before and after in one run. By default the running interpreter is used.

    .venv/bin/python benchmarks/evals.py [--cases 10000] [--repeats 3]
        [--python before=/path/to/old/.venv/bin/python --python after=.venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package holds the sample project

from tests.conftest import make_project  # noqa: E402

PYPROJECT = """\
[project]
name = "bench"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""
TARGET = '''"""The system under test."""


def echo(x: int) -> int:
    """Return x."""
    return x
'''
TEST = "from pkg import echo\n\n\ndef test_echo() -> None:\n    assert echo(1) == 1\n"
GATE = ["--gatekeeper", "--gatekeeper-no-cache"]
VARIANTS = {
    "plain pytest evals": ["evals"],
    "gate: tests,evals": [*GATE, "--gatekeeper-checks", "tests,evals"],
    "gate: tests,evals,coverage": [*GATE, "--gatekeeper-checks", "tests,evals,coverage"],
    "gate: all default checks": GATE,
}


def build(root: Path, cases: int) -> None:
    """A committed git project with one dataset of ``cases`` JSONL cases (the tests' sample
    project, its package and test replaced)."""
    files = {
        "pyproject.toml": PYPROJECT,
        "pkg/__init__.py": TARGET,
        "tests/test_add.py": TEST,
        "evals/echo.yaml": "target: pkg:echo\nscorer: exact\nthreshold: 1\ncases: echo.jsonl\n",
        "evals/echo.jsonl": "".join(
            json.dumps({"id": f"c{i}", "input": i, "expected": i}) + "\n" for i in range(cases)
        ),
    }
    make_project(root, files)


def timed(python: str, root: Path, args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one pytest run, which must pass (exit status 0)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        check=False,  # the status is reported below, with the output's tail
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-2000:]
        raise SystemExit(f"{python} pytest {' '.join(args)} exited {done.returncode}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def interpreters(given: list[str]) -> dict[str, str]:
    if not given:
        return {"this tree": sys.executable}
    found = {}
    for entry in given:
        label, _, path = entry.partition("=")
        if not path:
            raise SystemExit(f"--python {entry!r}: expected LABEL=PATH")
        found[label] = path
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--python", action="append", default=[], metavar="LABEL=PATH")
    options = parser.parse_args()
    pythons = interpreters(options.python)
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        build(root, options.cases)
        for _ in range(options.repeats):
            for variant, args in VARIANTS.items():
                for label, python in pythons.items():
                    runs.setdefault((variant, label), []).append(timed(python, root, args))
    print(f"{options.cases} JSONL eval cases, median of {options.repeats} runs, wall s (CPU s):")
    labels = list(pythons)
    print(f"{'':<28}" + "".join(f"{label:>20}" for label in labels) + "   ratio")
    for variant in VARIANTS:
        medians = [
            (
                statistics.median(w for w, _ in runs[variant, label]),
                statistics.median(c for _, c in runs[variant, label]),
            )
            for label in labels
        ]
        cells = "".join(f"{f'{w:.2f} ({c:.2f})':>20}" for w, c in medians)
        ratio = f"{medians[-1][0] / medians[0][0]:.2f}" if len(labels) > 1 else ""
        print(f"{variant:<28}{cells}   {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
