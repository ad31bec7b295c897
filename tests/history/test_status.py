"""``gatekeeper status`` on the sample floor: the lines, the JSON and the figures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.cli import main
from tests.history.conftest import Floor, status

ROWS = {
    "main": r"main +main +passed 3d ago \(pytest\) +- +\+0/-0 +none +- +-",
    "feature-a": (
        r"feature-a +feature-a +passed \d+[sm] ago \(pytest, cached\) +- +\+1/-0 +feature-b +- +-"
    ),
    "feature-b": r"feature-b +feature-b +failed \d+[sm] ago \(run\) +lint +\+1/-0 +feature-a +- +-",
}
FIGURES = """\
the last 7d: 7 gate runs, 4 passed (57%)
first-try pass rate per branch:
  feature-a  1/3 (33%)
  feature-b  0/1 (0%)
  main       1/1 (100%)
most frequent failing checks:
  tests  2 runs
  lint   1 run
most frequent failing tests:
  tests/test_flip.py::test_flip  1 run
  tests/test_old.py::t           1 run
median gate time per check (runs that ran it):
  tests  SECONDS (6 runs)
  lint   SECONDS (5 runs)
flaky tests:
  tests/test_flip.py::test_flip (failed 1, passed 2 on the same tree)"""


def test_one_line_per_worktree_then_the_figures(floor: Floor) -> None:
    done = status(floor)
    assert done.returncode == 0, done.stderr
    header, *rows, blank = done.stdout.splitlines()[:5]
    assert header.split() == [
        "WORKTREE",
        "BRANCH",
        "LAST",
        "GATE",
        "FAILED",
        "AHEAD/BEHIND",
        "CONFLICTS",
        "PORTS",
        "DB",
    ]
    assert [re.fullmatch(ROWS[row.split()[0]], row) is not None for row in rows] == [True] * 3
    assert blank == ""
    figures = "\n".join(done.stdout.splitlines()[5:])
    assert re.sub(r"\d+\.\ds \(", "SECONDS (", figures) == FIGURES


def test_json_gives_agents_every_worktree_field(floor: Floor) -> None:
    data = as_json(floor)
    assert (data["schema"], data["store"]) == (1, str(floor.store))
    assert data["now"] - data["since"] == pytest.approx(7 * 86400, abs=1)
    worktrees = {w["name"]: w for w in data["worktrees"]}
    assert list(worktrees) == ["main", "feature-a", "feature-b"]
    b = worktrees["feature-b"]
    shown = ("branch", "path", "ahead", "behind", "conflicts_base", "conflicts_with")
    assert [b[k] for k in shown] == ["feature-b", str(floor.feature_b), 1, 0, False, ["feature-a"]]
    assert {k: b["last"][k] for k in ("verdict", "entry", "failed_checks", "cached", "stale")} == {
        "verdict": "failed",
        "entry": "run",
        "failed_checks": ["lint"],
        "cached": False,
        "stale": False,
    }
    a = worktrees["feature-a"]["last"]
    assert (a["verdict"], a["cached"], a["failed_tests"]) == ("passed", True, [])
    (flaky,) = data["flaky"]
    assert {k: flaky[k] for k in ("test", "failed", "passed", "trees")} == {
        "test": "tests/test_flip.py::test_flip",
        "failed": 1,
        "passed": 2,
        "trees": 1,
    }


def test_json_figures_over_a_wider_window(floor: Floor) -> None:
    figures = as_json(floor, "--since", "30d")["figures"]
    assert (figures["runs"], figures["passed"]) == (8, 5)  # the 10-day-old run is in 30d
    assert figures["first_try"] == [
        {"branch": "feature-a", "trees": 3, "passed": 1, "rate": 0.3333},
        {"branch": "feature-b", "trees": 1, "passed": 0, "rate": 0.0},
        {"branch": "main", "trees": 2, "passed": 2, "rate": 1.0},
    ]
    assert figures["failing_checks"] == [
        {"name": "tests", "runs": 2},
        {"name": "lint", "runs": 1},
    ]
    assert [(t["name"], t["runs"]) for t in figures["check_times"]] == [("tests", 7), ("lint", 6)]
    # a UTC day each: 10, 3, 2 and 1 days ago, then today's four (which midnight may split)
    runs = [d["runs"] for d in figures["days"]]
    assert runs[:4] == [1, 1, 1, 1] and sum(runs) == 8


def as_json(floor: Floor, *args: str) -> dict[str, Any]:
    done = status(floor, "--json", *args)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_a_window_that_is_no_window_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--since", "7x"]) == 4
    assert capsys.readouterr().err == (
        "gatekeeper status: error: --since '7x' is not a window: give a positive number and a "
        "unit, s, m, h, d or w (for example --since 7d or --since 12h).\n"
    )


def test_status_outside_a_repository_says_where_to_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == 4
    assert "is not inside a git repository; run `gatekeeper status` in one." in (
        capsys.readouterr().err
    )


def test_watch_draws_the_terminal_view_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--watch", "--json"]) == 4
    assert capsys.readouterr().err == (
        "gatekeeper status: error: `gatekeeper status --watch` draws the terminal view only: "
        "drop --json and --html, or run them without --watch.\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["status", "--watch"]) == 4
    assert "is not inside a git repository" in capsys.readouterr().err


def test_a_dashboard_that_cannot_be_written_is_a_usage_error(floor: Floor, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder\n")
    done = status(floor, "--html", str(tmp_path / "taken" / "floor.html"))
    assert done.returncode == 4
    assert done.stderr.startswith(
        f"gatekeeper status: error: --html {tmp_path / 'taken' / 'floor.html'}: cannot write the "
        "dashboard there ("
    )
    assert done.stderr.endswith("); name a file in a folder you can write to.\n")
    assert "Traceback" not in done.stderr
