"""``gatekeeper status --html``: one self-contained page, checked in a real headless Chromium at
a phone's width and a wide screen's."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gatekeeper.history.dashboard import render
from gatekeeper.history.figures import Count, Figures
from gatekeeper.history.flaky import Flaky
from gatekeeper.history.floor import Floor as FloorView
from gatekeeper.history.floor import LastRun, Worktree
from gatekeeper.history.model import CheckRun, Run
from gatekeeper.worktrees.listing import WorktreeState
from tests.history.browser import Browser, executable
from tests.history.conftest import Floor, status

WIDTHS = ((390, 844), (1280, 900))  # a phone, a wide screen


def chromium() -> str:
    """The system's Chromium; the test skips without one, except in CI, where it fails."""
    found = executable()
    if found is None:
        reason = "Chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def test_the_dashboard_in_a_real_browser(floor: Floor, tmp_path: Path) -> None:
    binary = chromium()
    page = tmp_path / "floor.html"
    done = status(floor, "--html", str(page))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"gatekeeper status: wrote {page}\n"
    assert not re.search(r"(src|href)=|https?://|@import|url\(", page.read_text())  # no fetching
    with Browser(binary, tmp_path / "profile") as browser:
        for width, height in WIDTHS:
            browser.open(page.as_uri(), width, height)
            assert browser.complaints() == [], f"at {width}px"
            assert browser.requests() == [page.as_uri()]  # the file itself, nothing else
            shows_the_floor(browser, phone=width < 600)
            shot = tmp_path / f"floor-{width}.png"
            browser.screenshot(shot)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            # as wide as the viewport, less a scroll bar on the wide screen
            assert width - 20 <= int.from_bytes(shot.read_bytes()[16:20], "big") <= width


def shows_the_floor(browser: Browser, *, phone: bool) -> None:
    """Every worktree and the flaky test are on the page as laid out, which never scrolls
    sideways; on a phone the worktree table is one card per row."""
    shown = browser.evaluate(
        "[...document.querySelectorAll('tr[data-worktree]')]"
        ".filter(row => row.getBoundingClientRect().width > 0)"
        ".map(row => row.dataset.worktree)"
    )
    assert shown == ["main", "feature-a", "feature-b"]
    flaky = browser.evaluate("document.getElementById('flaky').innerText")
    assert "tests/test_flip.py::test_flip" in flaky
    assert browser.evaluate("document.documentElement.scrollWidth <= innerWidth")
    # the script ran: times are in the reader's zone, the UTC text kept as a tooltip
    assert browser.evaluate("document.querySelector('time').title.endsWith('UTC')")
    head = browser.evaluate("getComputedStyle(document.querySelector('#worktrees thead')).display")
    assert head == ("none" if phone else "table-header-group")


def test_every_text_from_the_store_and_git_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    place = WorktreeState(hostile, "/w", f"b{hostile}", "c" * 40, "unmanaged")
    run = Run(
        finished=0.0,
        entry="pytest",
        worktree="/w",
        branch=hostile,
        head="c" * 40,
        tree="t",
        base=None,
        verdict="failed",
        duration=1.0,
        cached=False,
        whole_suite=True,
        checks=(CheckRun(hostile, "failed", 1.0, 1, False),),
    )
    figures = Figures(runs=1, failing_tests=(Count(f"tests/t.py::t[{hostile}]", 1),))
    view = FloorView(
        now=60.0,
        since=0.0,
        store="/repo/.git/gatekeeper/history.sqlite3",
        worktrees=[Worktree(place, LastRun(run, False))],
        figures=figures,
        flaky=[Flaky(f"tests/t.py::t[{hostile}]", 1, 1, 1, 0.0)],
    )
    page = render(view, "7d")
    assert "alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # the page's own
