"""Benchmark: 10,000 trivial JSONL eval cases through the whole gate.

Builds a small git project whose dataset reads 10,000 cases from a JSONL file, then times, side
by side and several times each: the whole gate (``pytest --gatekeeper`` with every default
check) and plain ``pytest evals`` over the same cases. Prints the medians and their ratio.

    .venv/bin/python benchmarks/evals.py [--cases 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def build(root: Path, cases: int) -> None:
    """A committed git project with one dataset of ``cases`` JSONL cases."""
    files = {
        "pyproject.toml": PYPROJECT,
        "pkg/__init__.py": TARGET,
        "tests/test_echo.py": TEST,
        "evals/echo.yaml": "target: pkg:echo\nscorer: exact\nthreshold: 1\ncases: echo.jsonl\n",
        "evals/echo.jsonl": "".join(
            json.dumps({"id": f"c{i}", "input": i, "expected": i}) + "\n" for i in range(cases)
        ),
        ".gitignore": ".gatekeeper/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n.pytest_cache/\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid"}
    env.update(GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.invalid")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)


def timed(root: Path, args: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        check=False,  # the status is reported, not raised
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        build(root, options.cases)
        runs: dict[str, list[float]] = {"whole gate": [], "plain pytest evals": []}
        for _ in range(options.repeats):
            for label, args in (
                ("whole gate", ["--gatekeeper"]),
                ("plain pytest evals", ["evals"]),
            ):
                seconds, status = timed(root, args)
                if status != 0:
                    print(f"{label} exited with status {status}", file=sys.stderr)
                    return 1
                runs[label].append(seconds)
    gate = statistics.median(runs["whole gate"])
    plain = statistics.median(runs["plain pytest evals"])
    print(f"{options.cases} JSONL eval cases, median of {options.repeats} runs:")
    print(f"  whole gate (pytest --gatekeeper, all default checks): {gate:.2f} s")
    print(f"  plain pytest evals (items only, no gate):              {plain:.2f} s")
    print(f"  ratio gate / plain: {gate / plain:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
