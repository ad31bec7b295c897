"""``gatekeeper combine DIR...``: one verdict from the partial results of a sharded gate.

The shards' results are checked first (fail closed: gatekeeper/shard/combine.py), then judged
by the same gate an unsharded run goes through: the tests, coverage (the shards' data combined
by coverage.py, diff coverage on the combined data) and evals checks on the whole suite's
outcome, the static checks as shard 1 ran them. The one report and every CI format (annotations
and step summary included) are written here, once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from gatekeeper.config import CORE_OPTIONS, given_options
from gatekeeper.errors import EXIT_FAILED, EXIT_OK
from gatekeeper.gate import Gate, Setup, load_setup
from gatekeeper.history.recording import Recorder
from gatekeeper.model import Report
from gatekeeper.project import workfolder
from gatekeeper.reports import formats, terminal
from gatekeeper.reports import json as json_report
from gatekeeper.resources.coveragedata import claim_data_dir
from gatekeeper.shard import combine, durations, partial

HELP = (
    "Combine the partial results of `gatekeeper run --shard I/N` into the one report and verdict."
)
ENTRY = "combine"  # the history's name for this entry point
SHARDED = "the shards' results were combined: a sharded gate is never reused nor stored"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dirs",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="shard folders (shard-I-of-N), or folders holding them",
    )
    parser.add_argument(
        "--durations-out",
        type=Path,
        metavar="PATH",
        help="write the merged per-test durations here (default: [tool.gatekeeper.shard] "
        "durations)",
    )
    # The shards' --gatekeeper-* options, given again: the same configuration judges the whole
    # suite, and combine refuses shards that ran with another.
    options = parser.add_argument_group("the shards' --gatekeeper-* options (give the same)")
    for option in CORE_OPTIONS:
        if option.kind == "bool":
            options.add_argument(option.flag, dest=option.dest, action="store_true")
        else:
            options.add_argument(option.flag, dest=option.dest, metavar="VALUE")


def run(args: argparse.Namespace, rest: list[str]) -> int:
    # The folders named on the command line are the caller's; the rest is the project's, found
    # from here as every command finds it, and judged from its root: coverage.py reads its
    # settings ([tool.coverage], .coveragerc) and resolves its relative paths from the current
    # directory.
    dirs = [path.absolute() for path in args.dirs]
    out = args.durations_out.absolute() if args.durations_out else None
    setup = load_setup(Path.cwd(), given_options(args))
    with contextlib.chdir(setup.settings.root):
        return _combine(setup, dirs, out)


def _combine(setup: Setup, dirs: list[Path], durations_out: Path | None) -> int:
    # An earlier run's report must never be read as this one's, whether or not this one ends
    # in a verdict.
    setup.report_path().unlink(missing_ok=True)
    gate = Gate(setup)
    own = partial.Content.of(setup.worktree)
    digest = partial.config_digest(gate.effective_config())
    found = combine.read(combine.folders(dirs), own, digest)
    workfolder.prepare(setup.worktree)
    gate.adopt(combine.static_results(found))
    gate.reuse_session(None, SHARDED)
    # The record's git facts are found while the shards' results are judged.
    history = Recorder(setup.settings, setup.worktree, "", via_run=False, entry=ENTRY)
    data = claim_data_dir(setup.worktree)
    try:
        report = gate.finish(combine.outcome(found, setup.worktree, data.path))
    finally:
        data.discard()
    written = _write(report, gate)
    out = durations_out or setup.worktree / setup.settings.text("shard.durations")
    new = durations.merged(durations.read(out), combine.durations(found), combine.collected(found))
    durations.write(out, new)
    print(f"combined {len(found)} shard(s) of {found[0].partial.spec.count}; durations: {out}")
    terminal.emit(terminal.render(report, str(setup.report_path())), _print)
    # After the verdict, which it never changes; like an unsharded run's record, but never a
    # whole-suite session (the shards' selections are theirs) and never from the cache.
    for line in history.finish(report, gate.whole_suite).lines():
        print(line)
    return EXIT_OK if report.passed and written else EXIT_FAILED


def _write(report: Report, gate: Gate) -> bool:
    """The JSON report, then the CI formats beside it; whether the report could be written."""
    path = gate.setup.report_path()
    try:
        json_report.write(report, path)
    except OSError as error:
        print(
            f"gatekeeper combine: error: could not write the report to {path} "
            f"({error.strerror or error}); fix [tool.gatekeeper] report or the directory's "
            "permissions.",
            file=sys.stderr,
        )
        return False
    formats.write(report, gate.setup.settings, path, os.environ)
    return True


def _print(text: str, colour: str | None) -> None:
    print(text)
