"""Coverage of eval cases: pytest's machinery around an eval item runs untraced, the code the
eval target runs is still measured, and any measured hook keeps every item traced."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

# Reached only through the eval target, and `"ten"` only by case c10, which lies between the
# dataset's first and last item: measured only if the tracer runs while the target does.
HELPER = '''\
def describe(x: int) -> str:
    """Name ``x`` if it is ten."""
    if x == 10:
        return "ten"
    return "other"
'''
TARGET = '''\
from pkg.helper import describe


def double(x: int) -> int:
    """Double ``x``, after asking the helper about it."""
    describe(x)
    return 2 * x
'''
# Not measured (it is not under the source paths): records whether a tracer was on while
# pytest called each item, and writes it down at the end.
RECORDER = """\
import json, os, sys
from pathlib import Path

import pytest

SEEN = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    SEEN[item.nodeid] = sys.gettrace() is not None
    return (yield)


def pytest_sessionfinish(session):
    name = f"tracing-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json"
    Path(session.config.rootpath, name).write_text(json.dumps(SEEN))
"""
GATE = """testpaths = ["tests"]

[tool.gatekeeper]
checks = ["tests", "evals", "coverage"]

[tool.gatekeeper.coverage]
fail-under = 100
"""


@pytest.fixture(autouse=True)
def top_level_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest is a session of its own, even when this suite runs under xdist: with a
    worker's variables it would start measuring only after its conftest imported pkg.plugin."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    # This suite's own gate measures child processes from their first line (coverage's
    # subprocess patch); that collector would sit under the inner gate's and rightly stop it
    # from pausing. The inner session must be measured by its own gate alone.
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)


def tracing(root: Path) -> dict[str, bool]:
    seen: dict[str, bool] = {}
    for path in root.glob("tracing-*.json"):
        seen.update(json.loads(path.read_text()))
    return seen


def coverage_result(root: Path) -> dict[str, object]:
    report = json.loads((root / ".gatekeeper" / "report.json").read_text())
    found: dict[str, object] = next(c for c in report["checks"] if c["name"] == "coverage")
    return found


def test_code_run_only_by_the_eval_target_is_measured(
    pytester: pytest.Pytester,
    eval_project: Callable[..., Path],
    make_eval_dataset: Callable[..., str],
) -> None:
    files = {"pkg/helper.py": HELPER, "pkg/target.py": TARGET, "conftest.py": RECORDER}
    root = eval_project(broken=frozenset(), files=files, gatekeeper=GATE)
    result = pytester.runpytest_subprocess("--gatekeeper", "--gatekeeper-no-cache")
    assert result.ret == 0, result.stdout.str()
    assert coverage_result(root)["status"] == "passed"  # 100%: the helper's lines were measured
    seen = tracing(root)
    # The items between the first and the last of the dataset ran with the tracer paused
    # around pytest's machinery; the unit test and the dataset's ends ran traced throughout.
    assert seen["tests/test_add.py::test_add"]
    assert seen["evals/double.yaml::c1"]
    assert seen["evals/double.yaml::c20"]
    assert not any(seen[f"evals/double.yaml::c{i}"] for i in range(2, 20))

    # The same session, but no case reaches `return "ten"`: the line is missed, the gate fails.
    past_ten = "".join(  # inputs 11 to 30
        f"  - id: c{i}\n    input: {i + 10}\n    expected: {2 * i + 20}\n" for i in range(1, 21)
    )
    dataset = make_eval_dataset().split("cases:")[0] + "cases:\n" + past_ten
    (root / "evals" / "double.yaml").write_text(dataset)
    failed = pytester.runpytest_subprocess("--gatekeeper", "--gatekeeper-no-cache")
    assert failed.ret == 1
    coverage = coverage_result(root)
    assert coverage["status"] == "failed"
    assert "< fail-under 100%" in str(coverage["summary"])


PLUGIN = '''\
import pytest

EVAL_ITEMS: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Note case c10: a line only an eval item in the middle of its dataset reaches."""
    if item.nodeid.endswith("::c10"):
        EVAL_ITEMS.append(item.nodeid)
    return (yield)
'''


def test_a_measured_hook_keeps_every_item_traced(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    files = {
        "pkg/plugin.py": PLUGIN,
        "conftest.py": RECORDER + '\npytest_plugins = ["pkg.plugin"]\n',
    }
    root = eval_project(broken=frozenset(), files=files, gatekeeper=GATE)
    result = pytester.runpytest_subprocess("--gatekeeper", "--gatekeeper-no-cache")
    assert result.ret == 0, result.stdout.str()
    assert coverage_result(root)["status"] == "passed"  # the eval-only line in the hook too
    seen = tracing(root)
    assert len(seen) == 21
    assert all(seen.values())


def test_under_xdist_workers_measure_the_target_and_pause_pytest(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    files = {"pkg/helper.py": HELPER, "pkg/target.py": TARGET, "conftest.py": RECORDER}
    root = eval_project(broken=frozenset(), files=files, gatekeeper=GATE)
    result = pytester.runpytest_subprocess(
        "--gatekeeper", "--gatekeeper-no-cache", "-p", "xdist", "-n", "2", "--dist", "loadfile"
    )
    assert result.ret == 0, result.stdout.str()
    assert coverage_result(root)["status"] == "passed"
    seen = tracing(root)
    assert len(seen) == 21
    assert not all(seen.values())  # some eval items ran paused in a worker


# The target hands each call to a worker thread it keeps: the thread exists (started by case c1,
# traced) before the middle cases run, and only c10 reaches `return "ten"` in that thread.
THREADED_TARGET = """\
from concurrent.futures import ThreadPoolExecutor

from pkg.helper import describe

POOL = ThreadPoolExecutor(max_workers=1)


def double(x: int) -> int:
    \"\"\"Double ``x``, after a worker thread asked the helper about it.\"\"\"
    POOL.submit(describe, x).result()
    return 2 * x
"""


def test_lines_run_by_a_thread_the_target_keeps_are_measured(
    pytester: pytest.Pytester, eval_project: Callable[..., Path]
) -> None:
    files = {"pkg/helper.py": HELPER, "pkg/target.py": THREADED_TARGET, "conftest.py": RECORDER}
    root = eval_project(broken=frozenset(), files=files, gatekeeper=GATE)
    result = pytester.runpytest_subprocess("--gatekeeper", "--gatekeeper-no-cache")
    coverage = coverage_result(root)
    assert coverage["status"] == "passed", coverage["summary"]  # c10's line, run by the worker
    assert result.ret == 0
    assert all(tracing(root).values())  # with the worker alive, no item was paused
