"""Pausing a measurement: code run while paused is not measured, and pausing refuses when it
cannot be undone exactly. Each case runs in a child process, away from any coverage measuring
this test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gatekeeper.checks.measure import combine

PACKAGE = "def f(x):\n    if x:\n        return 1\n    return 2\n"


def run_child(tmp_path: Path, code: str) -> dict[str, object]:
    """Run ``code`` with a started Measurement ``m`` and ``import pkg``; returns what the code
    put in ``out``, after ``m.stop()``."""
    pkg = tmp_path / "pkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text(PACKAGE)
    script = "\n".join(
        (
            "import json, sys",
            "sys.path.insert(0, sys.argv[1])",
            "from pathlib import Path",
            "from gatekeeper.checks.measure import Measurement, Plan",
            "m = Measurement(Plan(Path(sys.argv[2]), (sys.argv[3],), 0))",
            "m.start()",
            "import pkg",
            "out = {}",
            code,
            "m.stop()",
            "print(json.dumps(out))",
        )
    )
    # Without the collector this suite's own gate starts in child processes (coverage's
    # subprocess patch): under it, pausing rightly declines and the tracer stays set.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), str(tmp_path / "data"), str(pkg)],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_code_run_while_paused_is_not_measured_and_resuming_measures_again(
    tmp_path: Path,
) -> None:
    out = run_child(
        tmp_path,
        "out['paused'] = m.pause(); out['again'] = m.pause(); out['tracer'] = sys.gettrace()"
        " is not None; pkg.f(0); out['resumed'] = m.resume(); out['twice'] = m.resume();"
        " pkg.f(1)",
    )
    assert out == {"paused": True, "again": False, "tracer": False, "resumed": True, "twice": False}
    totals = combine(tmp_path / "data", (str(tmp_path / "pkg"),))
    assert 0 < totals.percent < 100  # f(1)'s lines, not `return 2`, which ran while paused


def test_everything_run_while_tracing_is_measured(tmp_path: Path) -> None:
    run_child(tmp_path, "m.pause(); m.resume(); pkg.f(0); pkg.f(1)")
    assert combine(tmp_path / "data", (str(tmp_path / "pkg"),)).percent == 100.0


def test_no_pause_under_a_collector_the_code_under_test_started(tmp_path: Path) -> None:
    out = run_child(
        tmp_path,
        "import coverage; inner = coverage.Coverage(data_file=None); inner.start();"
        " out['under_inner'] = m.pause(); inner.stop(); out['alone'] = m.pause(); m.resume()",
    )
    assert out == {"under_inner": False, "alone": True}


def test_traces_follows_the_measured_source(tmp_path: Path) -> None:
    out = run_child(
        tmp_path,
        "out['pkg'] = m.traces(pkg.__file__); out['json'] = m.traces(json.__file__);"
        " out['may_pause'] = m.may_pause()",
    )
    assert out == {"pkg": True, "json": False, "may_pause": True}


def test_dynamic_contexts_are_never_paused(tmp_path: Path) -> None:
    (tmp_path / ".coveragerc").write_text("[run]\ndynamic_context = test_function\n")
    out = run_child(tmp_path, "out['may_pause'] = m.may_pause()")
    assert out == {"may_pause": False}


def test_no_pause_while_another_thread_is_alive(tmp_path: Path) -> None:
    # Resuming re-arms only the current thread: a worker that already exists would stay
    # untraced, so while one is alive the measurement is never paused.
    out = run_child(
        tmp_path,
        "import threading; stop = threading.Event();"
        " worker = threading.Thread(target=stop.wait); worker.start();"
        " out['with_worker'] = m.pause(); stop.set(); worker.join();"
        " out['alone'] = m.pause(); m.resume()",
    )
    assert out == {"with_worker": False, "alone": True}
