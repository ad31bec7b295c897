"""``gatekeeper status [--since 7d] [--json] [--watch] [--html PATH]``: the floor view."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gatekeeper.errors import EXIT_OK, UsageError
from gatekeeper.history import floor, view
from gatekeeper.history.store import location
from gatekeeper.worktrees import listing

HELP = (
    "Every worktree's last gate run and where it stands, then the floor's figures: first-try "
    "pass rate per branch, what fails most, flaky tests, gate time per check."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        default="7d",
        metavar="WINDOW",
        help="the window of the figures: a number and s, m, h, d or w (default: 7d)",
    )
    parser.add_argument("--json", action="store_true", help="print it as JSON (agents, scripts)")
    parser.add_argument(
        "--watch", action="store_true", help="redraw in place as gates finish; Ctrl-C ends it"
    )
    parser.add_argument(
        "--html", type=Path, metavar="PATH", help="write a self-contained HTML dashboard to PATH"
    )


def run(args: argparse.Namespace, rest: list[str]) -> int:
    span = floor.window(args.since)
    start = Path.cwd()
    if args.watch:
        if args.json or args.html:
            raise UsageError(
                "`gatekeeper status --watch` draws the terminal view only: drop "
                "--json and --html, or run them without --watch."
            )
        return _watch(start, span, args.since)
    found = floor.collect(start, span, listing.collect)
    if args.html is not None:
        from gatekeeper.history import dashboard

        written = dashboard.write(found, args.since, args.html)
        print(f"gatekeeper status: wrote {written}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(found.as_dict(), indent=2))
    elif args.html is None:
        print("\n".join(view.lines(found, args.since)))
    return EXIT_OK


def _watch(start: Path, span: float, since: str) -> int:
    from gatekeeper.history import watch

    path = location(start)
    if path is None:
        raise UsageError(f"{start} is not inside a git repository; run `gatekeeper status` in one.")

    def render() -> list[str]:
        shown = time.strftime("%H:%M:%S")
        title = f"gatekeeper status --watch  (updated {shown}; Ctrl-C to quit)"
        return [
            title,
            "",
            *view.lines(floor.collect(start, span, listing.collect), since),
        ]

    changes = watch.StoreChanges(path)
    try:
        watch.watch(render, changes, sys.stdout)
    finally:
        changes.close()
    print()
    return EXIT_OK
