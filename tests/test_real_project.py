"""The gate on real code nobody here wrote: the installed pluggy package, copied into a fresh
git repository with a small test. The run must complete and report that code's real findings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pluggy
import pytest

from tests.conftest import git
from tests.gate_runs import run_gate

TEST = 'import pluggy\n\n\ndef test_marker() -> None:\n    assert pluggy.HookimplMarker("x")\n'


def test_the_gate_reports_real_findings_on_real_code(pytester: pytest.Pytester) -> None:
    root = pytester.path
    source = Path(pluggy.__file__).parent
    shutil.copytree(source, root / "pluggy", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "tests").mkdir()
    (root / "tests" / "test_real.py").write_text(TEST)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    (root / ".gitignore").write_text(".gatekeeper/\n__pycache__/\n.*_cache/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "real code")

    run = run_gate(pytester, subprocess=True)

    statuses = {c["name"]: c["status"] for c in run.report["checks"]}
    # Every check judged: none reports that it could not run on code it has never seen.
    assert "error" not in statuses.values(), statuses
    assert statuses["tests"] == "passed"
    assert run.check("coverage")["metrics"]["percent"] > 0
    findings = [f for c in run.report["checks"] for f in c["findings"]]
    # pluggy's own style differs from ruff's defaults and some of its functions are long:
    # whatever the installed version holds, the gate names it, in that code.
    assert findings
    assert all(f["path"].startswith("pluggy/") for f in findings), findings
    assert run.result.ret == (1 if findings else 0)
