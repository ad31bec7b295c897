"""``gatekeeper run``: pytest in a fresh interpreter; exit 0 only with this run's passed verdict.

Every run here is the real command in a child process (``python -m gatekeeper run``), as the
pre-push hook, ``integrate`` and the CI template run it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatekeeper import receipt
from gatekeeper.commands.run import decide, with_shard
from tests.conftest import make_project
from tests.gate_runs import run_module

TESTS_ONLY = '\n[tool.gatekeeper]\nchecks = ["tests"]\n'


def gatekeeper_run(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_module(root, env, "gatekeeper", "run", "-q", "-p", "no:cacheprovider", *args)


def report_of(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / ".gatekeeper" / "report.json").read_text())
    return data


def test_a_project_with_filterwarnings_error_passes(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # Such projects crashed: pytest warned that gatekeeper was imported before it could rewrite
    # it, and the project's own filterwarnings turned the warning into an internal error.
    root = make_project(tmp_path / "p", {}, gatekeeper=TESTS_ONLY)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'pythonpath = ["."]\n', 'pythonpath = ["."]\nfilterwarnings = ["error"]\n'
        )
    )
    done = gatekeeper_run(root, child_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert report_of(root)["verdict"] == "passed"
    assert "Warning" not in done.stdout + done.stderr


MODULES_SEEN = """\
import json
import sys
from pathlib import Path

Path("modules.json").write_text(json.dumps(sorted(sys.modules)))
"""


def test_pytest_runs_in_a_fresh_interpreter(tmp_path: Path, child_env: dict[str, str]) -> None:
    # What the command itself imports (its own modules, and before: every command and httpx)
    # must not be there when the project's code loads: coverage would miss those modules'
    # lines, and pytest could not rewrite them.
    root = make_project(tmp_path / "p", {"conftest.py": MODULES_SEEN}, gatekeeper=TESTS_ONLY)
    done = gatekeeper_run(root, child_env)
    assert done.returncode == 0, done.stdout + done.stderr
    seen = set(json.loads((root / "modules.json").read_text()))
    assert "pytest_gatekeeper.session" in seen  # the gate did start in that process
    leaked = {m for m in seen if m.startswith(("gatekeeper.cli", "gatekeeper.commands", "httpx"))}
    assert not leaked


HTTPX_TEST = """\
import httpx


def test_url() -> None:
    assert httpx.URL("https://example.org/a?b=1").path == "/a"
"""


def test_coverage_is_the_same_as_pytest_gatekeeper_on_a_dependency_of_ours(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    # The project is real code that gatekeeper's other commands import (httpx, for
    # `ci require`): had `run` imported it before the session, the project's own copy would
    # never run, and its module-level lines would never count.
    root = tmp_path / "httpx-project"
    shutil.copytree(
        Path(httpx.__file__).parent, root / "httpx", ignore=shutil.ignore_patterns("__pycache__")
    )
    config = '\n[tool.gatekeeper]\nchecks = ["tests", "coverage"]\npaths = ["httpx"]\n'
    make_project(root, {"tests/test_httpx.py": HTTPX_TEST}, gatekeeper=config)

    done = gatekeeper_run(root, child_env, "--gatekeeper-no-cache")
    by_run = report_of(root)["checks"][1]
    plain = run_module(root, child_env, "pytest", "--gatekeeper", "-q", "--gatekeeper-no-cache")
    by_pytest = report_of(root)["checks"][1]

    assert by_run["name"] == by_pytest["name"] == "coverage"
    assert by_pytest["metrics"]["percent"] > 30, plain.stdout
    assert by_run["metrics"]["percent"] == by_pytest["metrics"]["percent"], done.stdout


# -- exit 0 only with this run's passed verdict ------------------------------------------------


def test_a_test_that_ends_the_process_is_no_pass(tmp_path: Path, child_env: dict[str, str]) -> None:
    files = {"tests/test_exit.py": "import os\n\n\ndef test_exit() -> None:\n    os._exit(0)\n"}
    root = make_project(tmp_path / "p", files, gatekeeper=TESTS_ONLY)
    # A report of an earlier, passing run is there: it must not count for this one.
    (root / ".gatekeeper").mkdir()
    (root / ".gatekeeper" / "report.json").write_text('{"verdict": "passed"}\n')

    done = gatekeeper_run(root, child_env)

    assert done.returncode == 1
    assert "gatekeeper run: error: the gate did not finish: pytest exited with status 0" in (
        done.stderr
    )
    assert "os._exit()" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("where", ["PYTEST_ADDOPTS", "addopts"])
def test_the_session_plugin_switched_off_is_no_pass(
    tmp_path: Path, child_env: dict[str, str], where: str
) -> None:
    root = make_project(tmp_path / "p", {}, gatekeeper=TESTS_ONLY)
    env = dict(child_env)
    if where == "PYTEST_ADDOPTS":
        env["PYTEST_ADDOPTS"] = "-p no:gatekeeper-session"
    else:
        pyproject = root / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace(
                'pythonpath = ["."]\n',
                'pythonpath = ["."]\naddopts = ["-p", "no:gatekeeper-session"]\n',
            )
        )

    done = gatekeeper_run(root, env)

    assert done.returncode == 4, done.stdout + done.stderr
    assert "switches off the gate's session, so no verdict could be reached" in done.stderr


def test_an_inspecting_option_from_addopts_is_no_pass(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "p", {}, gatekeeper=TESTS_ONLY)
    done = gatekeeper_run(root, {**child_env, "PYTEST_ADDOPTS": "--collect-only"})
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error, which says why
    assert "--collect-only comes from PYTEST_ADDOPTS, not from the command line" in done.stderr
    # Asked for on the command line itself, it only inspects, as pytest's own options do.
    done = gatekeeper_run(root, child_env, "--collect-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests/test_add.py::test_add" in done.stdout


@pytest.mark.parametrize(
    ("status", "verdict", "exit_status", "said"),
    [
        (0, "passed", 0, ""),
        (1, "failed", 1, ""),
        (4, None, 4, ""),  # pytest's own usage error: pytest said why
        (0, None, 1, "the gate did not finish: pytest exited with status 0"),
        (0, "failed", 1, "pytest exited with status 0 but the gate's verdict is failed"),
        (137, None, 137, "the gate did not finish: pytest exited with status 137"),
    ],
)
def test_exit_status_0_needs_a_passed_verdict(
    capsys: pytest.CaptureFixture[str],
    status: int,
    verdict: str | None,
    exit_status: int,
    said: str,
) -> None:
    assert decide(status, verdict) == exit_status
    err = capsys.readouterr().err
    assert said in err if said else err == ""


def test_a_receipt_counts_only_with_the_report_it_names(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    proof = tmp_path / "receipt.json"
    assert receipt.verdict(proof) is None  # nothing written
    report.write_text('{"verdict": "passed"}')
    receipt.write(proof, report, "passed")
    assert receipt.verdict(proof) == "passed"
    report.write_text('{"verdict": "failed"}')  # replaced since: the receipt no longer holds
    assert receipt.verdict(proof) is None
    report.unlink()
    assert receipt.verdict(proof) is None
    proof.write_text("[1, 2]")
    assert receipt.verdict(proof) is None


def test_the_receipt_is_never_inherited(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(receipt.ENV, str(tmp_path / "r.json"))
    assert receipt.take() == tmp_path / "r.json"
    assert receipt.take() is None


@pytest.mark.parametrize(
    ("given", "passed"),
    [
        (["--shard", "1/2", "-q"], ["--gatekeeper-shard", "1/2", "-q"]),
        (["--shard=2/2", "-q"], ["--gatekeeper-shard=2/2", "-q"]),
        # Only gatekeeper run's own option, first: every later word is pytest's, unchanged.
        (["-q", "--shard", "1/2"], ["-q", "--shard", "1/2"]),
        (["-k", "--shard"], ["-k", "--shard"]),
        (["--", "--shard", "1/2"], ["--", "--shard", "1/2"]),
        (["--shard", "1/2", "-k", "--shard"], ["--gatekeeper-shard", "1/2", "-k", "--shard"]),
        (
            ["--shard", "1/2", "--", "--shard=2/2"],
            ["--gatekeeper-shard", "1/2", "--", "--shard=2/2"],
        ),
    ],
)
def test_only_run_s_own_leading_shard_option_is_rewritten(
    given: list[str], passed: list[str]
) -> None:
    assert with_shard(given) == passed
