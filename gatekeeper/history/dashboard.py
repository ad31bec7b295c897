"""``gatekeeper status --html PATH``: the floor as one self-contained HTML file.

Everything is inline (styles, the chart as SVG, a few lines of script that show times in the
reader's own time zone), nothing is fetched: the file opens from disk, offline, and can be
mailed or kept as a CI artifact. Every text from the store or git is escaped. On a narrow
screen the tables become one card per row; wide tables never make the page scroll sideways.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.errors import UsageError
from gatekeeper.history.figures import Day
from gatekeeper.history.floor import Floor, Worktree
from gatekeeper.history.view import conflicts, last_gate

STYLE: Final = """
:root { --fg: #1d2330; --muted: #5b6474; --bg: #f6f7f9; --card: #fff; --line: #dde1e7;
  --pass: #1a7f37; --fail: #c62828; --time: #6b7fd7; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #14171c; --card: #1d2128; --line: #323844;
    --pass: #3fb950; --fail: #f0706a; --time: #8c9cf0; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem; font: 15px/1.45 system-ui, sans-serif; color: var(--fg);
  background: var(--bg); }
main { max-width: 72rem; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: 0 0 .25rem; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
p.meta { color: var(--muted); margin: 0 0 1rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: .5rem;
  padding: .9rem; margin: 0 0 1rem; min-width: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .75rem;
  margin: 0 0 1rem; }
.cards div { background: var(--card); border: 1px solid var(--line); border-radius: .5rem;
  padding: .6rem .8rem; }
.cards b { display: block; font-size: 1.4rem; }
.cards span { color: var(--muted); font-size: .85rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; }
.grid section { margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: .85rem; overflow-wrap: anywhere; }
.passed { color: var(--pass); font-weight: 600; }
.failed, .error { color: var(--fail); font-weight: 600; }
.none { color: var(--muted); }
svg { width: 100%; height: auto; max-height: 20rem; display: block; }
svg text { fill: var(--muted); }
svg.narrow { display: none; }
.legend { color: var(--muted); font-size: .85rem; margin: .4rem 0 0; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 .8rem;
  vertical-align: -1px; border-radius: 2px; }
@media (max-width: 40rem) {
  body { padding: .6rem; }
  table.rows thead { display: none; }
  table.rows tr { display: block; border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.rows td, table.rows td.num { display: flex; gap: .75rem; border: 0; padding: .15rem 0;
    text-align: left; }
  table.rows td::before { content: attr(data-label); color: var(--muted); min-width: 7.5rem;
    flex: none; }
  svg.wide { display: none; }
  svg.narrow { display: block; }
}
"""

# Times are written in UTC; this shows them in the reader's zone (the UTC text stays without
# scripts).
SCRIPT: Final = """
for (const node of document.querySelectorAll("time[datetime]")) {
  const when = new Date(node.getAttribute("datetime"));
  if (!isNaN(when)) { node.title = node.textContent; node.textContent = when.toLocaleString(); }
}
"""

WORKTREE_COLUMNS: Final = (
    "Worktree",
    "Branch",
    "Last gate",
    "Failed",
    "Ahead/behind",
    "Conflicts",
    "Ports",
    "Database",
)


def write(floor: Floor, since: str, path: Path) -> Path:
    """Write the dashboard of ``floor`` to ``path`` (atomically, readable by all); its path."""
    target = path.expanduser().resolve()
    try:
        atomic.write_text(target, render(floor, since), mode=0o644)
    except OSError as error:
        raise UsageError(
            f"--html {path}: cannot write the dashboard there ({error.strerror or error}); "
            "name a file in a folder you can write to."
        ) from None
    return target


def render(floor: Floor, since: str) -> str:
    """The whole page."""
    figures = floor.figures
    title = "gatekeeper: the floor"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">as of {_time(floor.now)}; figures over the last {escape(since)}'
        f"{_store(floor.store)}</p>",
        _cards(floor),
        _worktrees(floor),
        _chart_section(figures.days),
        _table(
            "Flaky tests: failed and passed on one tree",
            ("Test", "Failed", "Passed", "Trees", "Last failed"),
            [
                (f.test, str(f.failed), str(f.passed), str(f.trees), _time(f.last))
                for f in floor.flaky
            ],
            numeric=(1, 2, 3),
            code=(0,),
            raw=(4,),
            rows=True,
            anchor="flaky",
        ),
        '<div class="grid">',
        _table(
            "First-try pass rate per branch",
            ("Branch", "Passed first", "Rate"),
            [(r.branch, f"{r.passed}/{r.trees}", f"{r.rate:.0%}") for r in figures.first_try],
            numeric=(2,),
        ),
        _table(
            "Most frequent failing checks",
            ("Check", "Runs"),
            [(c.name, str(c.runs)) for c in figures.failing_checks],
            numeric=(1,),
        ),
        _table(
            "Most frequent failing tests",
            ("Test", "Runs"),
            [(c.name, str(c.runs)) for c in figures.failing_tests],
            numeric=(1,),
            code=(0,),
        ),
        _table(
            "Median gate time per check (runs that ran it)",
            ("Check", "Median", "Runs"),
            [(t.name, f"{t.median:.1f} s", str(t.runs)) for t in figures.check_times],
            numeric=(1, 2),
        ),
        "</div>",
        f"</main><script>{SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _time(moment: float) -> str:
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
    shown = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))
    return f'<time datetime="{iso}">{shown}</time>'


def _store(store: str | None) -> str:
    return f"; history in <code>{escape(store)}</code>" if store else ""


def _cards(floor: Floor) -> str:
    figures = floor.figures
    first = sum(r.passed for r in figures.first_try)
    trees = sum(r.trees for r in figures.first_try)
    failing = sum(1 for w in floor.worktrees if w.last is not None and not w.last.run.passed)
    cards = [
        (str(len(floor.worktrees)), "worktrees"),
        (str(failing), "failing now"),
        (str(figures.runs), "gate runs"),
        (f"{figures.rate:.0%}" if figures.runs else "-", "passed"),
        (f"{first / trees:.0%}" if trees else "-", "passed at the first try"),
        (str(len(floor.flaky)), "flaky tests"),
    ]
    inner = "".join(f"<div><b>{escape(v)}</b><span>{escape(k)}</span></div>" for v, k in cards)
    return f'<div class="cards">{inner}</div>'


def _worktrees(floor: Floor) -> str:
    rows = "".join(_worktree_row(w, floor.now) for w in floor.worktrees)
    head = "".join(f"<th>{escape(c)}</th>" for c in WORKTREE_COLUMNS)
    return (
        '<section id="worktrees"><h2>Worktrees</h2><div class="scroll">'
        f'<table class="rows"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        "</div></section>"
    )


def _worktree_row(worktree: Worktree, now: float) -> str:
    place, last = worktree.place, worktree.last
    verdict = last.run.verdict if last else "none"
    failed = ", ".join(last.run.failed_checks()) if last else ""
    counts = "-" if place.ahead is None else f"+{place.ahead}/-{place.behind}"
    gate = last_gate(last, now)
    cells = [
        f"<b>{escape(place.name)}</b>",
        f"<code>{escape(place.branch or '(detached)')}</code>",
        f'<span class="{escape(verdict)}">{escape(gate)}</span>',
        escape(failed or "-"),
        escape(counts),
        escape(conflicts(place.conflicts_base, place.base, place.conflicts_with)),
        escape(",".join(f"{k}={v}" for k, v in place.ports.items()) or "-"),
        escape(place.database or "-"),
    ]
    inner = "".join(
        f'<td data-label="{escape(label)}">{cell}</td>'
        for label, cell in zip(WORKTREE_COLUMNS, cells, strict=True)
    )
    return f'<tr data-worktree="{escape(place.name)}">{inner}</tr>'


def _table(
    title: str,
    columns: Sequence[str],
    rows_of: Iterable[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    code: Sequence[int] = (),
    raw: Sequence[int] = (),
    rows: bool = False,
    anchor: str = "",
) -> str:
    """A titled table; ``rows``: one card per row on a narrow screen."""
    listed = list(rows_of)
    head = "".join(
        f"<th{' class=num' if i in numeric else ''}>{escape(c)}</th>" for i, c in enumerate(columns)
    )
    body = "".join(
        "<tr>"
        + "".join(
            _cell(columns[i], v, i in numeric, i in code, i in raw) for i, v in enumerate(row)
        )
        + "</tr>"
        for row in listed
    )
    kind = ' class="rows"' if rows else ""
    content = (
        f'<div class="scroll"><table{kind}><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
        "</table></div>"
        if listed
        else '<p class="none">none in this window</p>'
    )
    where = f' id="{escape(anchor)}"' if anchor else ""
    return f"<section{where}><h2>{escape(title)}</h2>{content}</section>"


def _cell(label: str, value: str, numeric: bool, code: bool, raw: bool) -> str:
    text = value if raw else escape(value)
    if code:
        text = f"<code>{text}</code>"
    kind = ' class="num"' if numeric else ""
    return f'<td{kind} data-label="{escape(label)}">{text}</td>'


# -- the chart: pass rate (line, left axis) and median gate time (bars, right axis) per day --


@dataclass(frozen=True, slots=True)
class Frame:
    """A chart's size in SVG units and its text size: one for wide screens, one for phones (a
    wide chart shrunk to a phone would leave its labels unreadable)."""

    name: str
    width: int
    height: int
    text: int
    labels: int  # at most this many day labels, so they never overlap

    @property
    def margin(self) -> int:
        return self.text * 5

    @property
    def plot(self) -> tuple[float, float]:
        return self.width - 2 * self.margin, self.height - self.text - 2 * self.text - 4


FRAMES: Final = (Frame("wide", 960, 260, 13, 12), Frame("narrow", 480, 320, 18, 4))


def _chart_section(days: Sequence[Day]) -> str:
    if not days:
        return '<section id="chart"><h2>Over time</h2><p class="none">no gate run yet</p></section>'
    legend = (
        '<p class="legend"><i style="background:var(--pass)"></i>pass rate per day'
        '<i style="background:var(--time)"></i>median gate time</p>'
    )
    charts = "".join(chart(days, frame) for frame in FRAMES)
    return f'<section id="chart"><h2>Over time</h2>{charts}{legend}</section>'


def chart(days: Sequence[Day], frame: Frame) -> str:
    """An SVG of ``days``: the share of passing runs and the median gate time of each."""
    plot_w, plot_h = frame.plot
    top, left = frame.text, frame.margin
    slot = plot_w / len(days)
    longest = max(day.median_duration for day in days) or 1.0
    parts = [
        f'<svg class="{frame.name}" viewBox="0 0 {frame.width} {frame.height}" '
        f'font-size="{frame.text}" role="img" '
        'aria-label="pass rate and median gate time per day">',
        *_axes(frame, longest),
    ]
    points = []
    for index, day in enumerate(days):
        x = left + slot * (index + 0.5)
        bar = plot_h * day.median_duration / longest
        parts.append(
            f'<rect x="{x - slot * 0.3:.1f}" y="{top + plot_h - bar:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{bar:.1f}" fill="var(--time)" opacity=".45"><title>{escape(day.day)}: median '
            f"{day.median_duration:.1f} s over {day.runs} runs</title></rect>"
        )
        points.append((x, top + plot_h * (1 - day.rate), day))
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="var(--pass)" stroke-width="2"/>'
        )
    for x, y, day in points:
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{frame.text / 3.5:.1f}" fill="var(--pass)">'
            f"<title>{escape(day.day)}: {day.passed}/{day.runs} passed ({day.rate:.0%})</title>"
            "</circle>"
        )
    parts += _day_labels(days, frame, slot)
    parts.append("</svg>")
    return "".join(parts)


def _axes(frame: Frame, longest: float) -> list[str]:
    plot_w, plot_h = frame.plot
    left, lift = frame.margin, frame.text / 3
    found = []
    for share in (0.0, 0.5, 1.0):
        y = frame.text + plot_h * (1 - share)
        found.append(
            f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="var(--line)"/>'
        )
        found.append(
            f'<text x="{left - 6}" y="{y + lift:.1f}" text-anchor="end">{share:.0%}</text>'
        )
        found.append(
            f'<text x="{left + plot_w + 6:.1f}" y="{y + lift:.1f}">{longest * share:.1f}s</text>'
        )
    return found


def _day_labels(days: Sequence[Day], frame: Frame, slot: float) -> list[str]:
    every = -(-len(days) // frame.labels)  # ceiling: at most frame.labels labels
    return [
        f'<text x="{frame.margin + slot * (i + 0.5):.1f}" y="{frame.height - frame.text / 2:.1f}" '
        f'text-anchor="middle">{escape(day.day[5:])}</text>'
        for i, day in enumerate(days)
        if i % every == 0
    ]
