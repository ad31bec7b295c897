"""``gatekeeper worktree new|list|rm|adopt``: one command per parallel worktree."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gatekeeper.errors import EXIT_OK
from gatekeeper.redaction import redact
from gatekeeper.worktrees import adopt, create, envfile, listing, remove
from gatekeeper.worktrees.records import WorktreeRecord

HELP = "Create a worktree ready to work in, list them with their gate state, remove them cleanly."


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = actions.add_parser("new", help="add a worktree and branch NAME, ready to work in")
    new.add_argument("name", help="the worktree's name, also its branch")
    new.add_argument(
        "--base", default=None, help="the ref to branch from (default: the current branch)"
    )
    new.add_argument("--path", type=Path, default=None, help="the directory (default: location)")
    new.add_argument("--json", action="store_true", help="print the result as JSON")
    listing = actions.add_parser("list", help="every worktree with resources and gate state")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    rm = actions.add_parser("rm", help="remove a worktree and give back its resources")
    rm.add_argument("name", help="the worktree's name")
    rm.add_argument("--delete-branch", action="store_true", help="also delete its branch")
    rm.add_argument("--force", action="store_true", help="even with uncommitted/unpushed work")
    adopting = actions.add_parser("adopt", help="attach resources to a worktree made elsewhere")
    adopting.add_argument("worktree", help="its path, directory name or branch")
    adopting.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    start = Path.cwd()
    if args.action == "new":
        request = create.Request(args.name, args.base, args.path)
        created = create.new(start, request)
        _show_record(created.record, args.json, [_step(s) for s in created.steps], created.warnings)
    elif args.action == "adopt":
        _show_record(adopt.adopt(start, args.worktree), args.json, [], [])
    elif args.action == "rm":
        removed = remove.remove(
            start, args.name, delete_branch=args.delete_branch, force=args.force
        )
        print(f"removed worktree {removed.name!r}:")
        for line in [*removed.done, *(f"left alone: {k}" for k in removed.kept)]:
            print(f"  {line}")
    else:
        _show_list(listing.collect(start), args.json)
    return EXIT_OK


def _step(step: object) -> str:
    command, verified = getattr(step, "command", ""), getattr(step, "verified", ())
    checked = f" (verified: {', '.join(verified)})" if verified else ""
    return f"`{redact(command)}` succeeded{checked}"


def record_json(record: WorktreeRecord) -> dict[str, object]:
    """The record for scripts, secrets masked, with the variables of the environment file."""
    data = record.as_dict()
    if record.database is not None:
        data["database"] = {**record.database, "url": redact(record.database["url"])}
    data["env"] = envfile.shown(record)
    data.pop("made_files", None)
    return data


def _show_record(
    record: WorktreeRecord, as_json: bool, steps: list[str], warnings: list[str]
) -> None:
    if as_json:
        print(json.dumps({**record_json(record), "steps": steps, "warnings": warnings}, indent=2))
        return
    print(f"worktree {record.name!r} {record.state} at {record.path}")
    print(f"  branch: {record.branch} (from {record.base})")
    lines = {
        "copied": ", ".join(record.copied) or "nothing",
        "ports": ", ".join(f"{k}={v}" for k, v in record.ports.items()) or "none",
        "database": _database(record),
        "hook": record.hook,
        "environment": f"{record.env_file} (load: set -a; . {envfile.RELATIVE}; set +a)",
    }
    for key, value in lines.items():
        print(f"  {key}: {value}")
    for line in steps:
        print(f"  setup: {line}")
    for warning in warnings:
        print(f"gatekeeper worktree: warning: {warning}", file=sys.stderr)


def _database(record: WorktreeRecord) -> str:
    if record.database is None:
        return "none ([tool.gatekeeper.database] not configured)"
    return f"{record.database['name']} ({record.database['backend']})"


def _show_list(rows: list[listing.WorktreeState], as_json: bool) -> None:
    if as_json:
        print(json.dumps([row.as_dict() for row in rows], indent=2))
        return
    header = ("NAME", "BRANCH", "STATE", "AHEAD/BEHIND", "CONFLICTS", "PORTS", "DATABASE", "GATE")
    table = [header, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def _cells(row: listing.WorktreeState) -> tuple[str, ...]:
    counts = "-" if row.ahead is None else f"+{row.ahead}/-{row.behind}"
    return (
        row.name,
        row.branch or "(detached)",
        row.state,
        counts,
        _conflicts(row),
        ",".join(f"{k}={v}" for k, v in row.ports.items()) or "-",
        row.database or "-",
        _gate(row.gate),
    )


def _conflicts(row: listing.WorktreeState) -> str:
    found = ([f"base {row.base}"] if row.conflicts_base else []) + row.conflicts_with
    return ", ".join(found) if found else ("-" if row.conflicts_base is None else "none")


def _gate(gate: listing.LastGate | None) -> str:
    if gate is None:
        return "never run"
    minutes = gate.age / 60
    age = f"{minutes:.0f}m" if minutes < 120 else f"{minutes / 60:.0f}h"
    return f"{gate.verdict} {age} ago" + (" (stale)" if gate.stale else "")
