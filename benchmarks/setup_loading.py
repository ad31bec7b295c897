"""Entry-point scans and start-up time of ``pytest --gatekeeper`` on the sample project.

    python benchmarks/setup_loading.py [--against DIR] [--repeats 9]

Scans: every call of ``importlib.metadata.distributions()`` and ``entry_points()`` (each reads
the metadata of every installed distribution) made by any process of one run, counted through a
``sitecustomize`` module first on ``PYTHONPATH`` and told apart by the module that called. Made
on the sample project as the tests make it, with ``testpaths`` set (the gate then looks for eval
datasets to add), with an eval dataset and a test that uses the ``gatekeeper_database`` fixture
(SQLite: the fixture loads the configuration and fills the template), and that last one again
under ``-n 2`` (two xdist workers, each a process of its own).

Start-up: wall time from starting the command until the sample's first test runs (without the
counting module), the variants alternating in every round, medians. Every run bypasses the result
cache (``--gatekeeper-no-cache``), so each one runs its session.

``--against DIR`` compares with another tree of this repository, such as one unpacked with
``git archive REV | tar -x -C DIR``: each variant's packages are put first on ``PYTHONPATH``
(its ``editable/`` folder), everything else installed is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests package holds the sample project

from tests import entry_point_scans  # noqa: E402
from tests.conftest import make_project  # noqa: E402

STARTED_ENV = "SETUP_LOADING_STARTED"
FIRST_TEST = f'''\
import os
import time


def test_started() -> None:
    path = os.environ.get("{STARTED_ENV}")
    if path:
        with open(path, "a") as out:
            out.write(f"{{time.time()}}\\n")
'''
# Continues the sample's [tool.pytest.ini_options].
TESTPATHS = 'testpaths = ["tests"]\n'
COMMAND = ["-m", "pytest", "--gatekeeper", "--gatekeeper-no-cache", "-q", "-p", "no:cacheprovider"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", type=Path, help="another tree of this repository")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    variants = {"this tree": ROOT / "editable"}
    if args.against is not None:
        variants = {f"{args.against}": args.against.resolve() / "editable", **variants}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        entry_point_scans.install(folder / "counter")
        first = {"tests/test_0_started.py": FIRST_TEST}
        plain = make_project(folder / "plain", first)
        testpaths = make_project(folder / "testpaths", first, TESTPATHS)
        full = make_project(folder / "full", {**first, **entry_point_scans.EVERY_READER}, TESTPATHS)
        samples = {
            "sample": (plain, ()),
            "+ testpaths": (testpaths, ()),
            "+ eval dataset, database fixture": (full, ()),
            "+ eval dataset, database fixture, -n 2": (full, ("-n", "2")),
        }
        for name, packages in variants.items():
            print(f"== entry-point scans per run: {name}")
            for label, (project, extra) in samples.items():
                print(f"  {label}: {scans(project, extra, packages, folder)}")
        for label, project in (("sample", plain), ("+ testpaths", testpaths)):
            print()
            print(f"== {label}")
            print(startup(variants, project, folder, args.repeats))


def environment(packages: Path, *, extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without a surrounding git's or pytest's variables, with
    ``packages`` (and whatever ``extra`` adds in front of it) first on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PYTEST_"))}
    env.pop("COVERAGE_PROCESS_START", None)
    front = extra.pop("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (front, str(packages))))
    env.update(extra)
    return env


def run(project: Path, env: dict[str, str], extra: tuple[str, ...] = ()) -> None:
    done = subprocess.run(
        [sys.executable, *COMMAND, *extra], cwd=project, env=env, capture_output=True, check=False
    )
    if done.returncode not in (0, 1):
        tail = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        raise SystemExit(f"pytest --gatekeeper exited {done.returncode}:\n{tail}")


def scans(project: Path, extra_args: tuple[str, ...], packages: Path, folder: Path) -> str:
    """One run's scans, by the module that made them."""
    log = folder / "scans.log"
    log.unlink(missing_ok=True)
    extra = {"PYTHONPATH": str(folder / "counter"), entry_point_scans.LOG_ENV: str(log)}
    run(project, environment(packages, extra=extra), extra_args)
    found = entry_point_scans.read(log)
    callers = Counter(scan.caller for scan in found)
    processes = len({scan.pid for scan in found})
    shown = ", ".join(f"{caller} {count}" for caller, count in sorted(callers.items()))
    return f"{len(found)} in {processes} process(es): {shown or 'none'}"


def startup(variants: dict[str, Path], project: Path, folder: Path, repeats: int) -> str:
    """Seconds until the first test starts, medians over alternating rounds (one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(repeats + 1):
        for name, packages in variants.items():
            mark = folder / "started"
            mark.unlink(missing_ok=True)
            env = environment(packages, extra={STARTED_ENV: str(mark)})
            begun = time.time()
            run(project, env)
            if round_:
                times[name].append(float(mark.read_text().split()[0]) - begun)
    lines = [f"{'seconds until the first test starts':<40} {'median':>7} {'min':>7} {'max':>7}"]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(f"{name:<40} {median:>7.3f} {min(values):>7.3f} {max(values):>7.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
