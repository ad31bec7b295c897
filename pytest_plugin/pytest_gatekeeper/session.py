"""The gated pytest session: runs the gate around the session and decides the exit status.

One object registered with the plugin manager holds the gate's state. Each feature around it is
an object of its own, registered beside it (``FEATURES``), readable alone: eval recording
(:mod:`pytest_gatekeeper.evalrecording`), coverage (:mod:`pytest_gatekeeper.sessioncoverage`,
only when measuring) and integration gating (:mod:`pytest_gatekeeper.sessionintegration`, only when
asked). The session calls them where the gate's order needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from gatekeeper import receipt
from gatekeeper.cache import bytecode, gatepasses
from gatekeeper.checks import tests
from gatekeeper.checks.base import TestOutcome
from gatekeeper.checks.measure import ENV
from gatekeeper.errors import GatekeeperError
from gatekeeper.evals.recorder import carries_case, is_case
from gatekeeper.gate import Gate
from gatekeeper.git import repository
from gatekeeper.git.tempworktree import NESTED_ENV
from gatekeeper.history.recording import Recorder
from gatekeeper.model import CheckResult, Finding, Report
from gatekeeper.project import discovery, workfolder
from gatekeeper.reports import json as json_report
from gatekeeper.reports import terminal
from gatekeeper.resources.coveragedata import dead_data_dirs, remove_data_dir
from gatekeeper.shard import partial
from pytest_gatekeeper import evalrecording, options, selection, sessioncoverage, sharding
from pytest_gatekeeper import sessionintegration as integration
from pytest_gatekeeper.evalrecording import EvalRecording
from pytest_gatekeeper.selection import whole_suite
from pytest_gatekeeper.sessioncoverage import NOT_MEASURED, Measured, SessionCoverage
from pytest_gatekeeper.sessionintegration import IntegrationGate
from pytest_gatekeeper.sharding import Shard

# pytest's exit status when the gate fails but pytest itself saw nothing wrong.
GATE_FAILED = 1
# Why a session is neither reused from the cache nor stored, for "tests ran again: ...".
SELECTION = "a selection of the suite ran ({}): only whole-suite runs are reused and stored"
REPEATS = (
    "an eval dataset repeats its cases (a target that may not be deterministic): judged afresh "
    "every run, never reused"
)
SHARDED = (
    "a shard runs only its share of the suite ({}): never reused nor stored; `gatekeeper "
    "combine` judges the whole suite from every shard's partial result"
)
DESELECTED = (
    "tests were deselected at collection (by a plugin or a conftest): a run of part "
    "of the suite is neither reused nor stored"
)
# The plugin objects the session registers for its features (switching one off with -p no:
# is refused like switching off the session).
FEATURES = (evalrecording.PLUGIN, sessioncoverage.PLUGIN, integration.PLUGIN, sharding.PLUGIN)


class GateSession:
    """Collects the test outcome, runs the gate around the session and decides the exit status."""

    def __init__(self, config: pytest.Config, gate: Gate) -> None:
        self.config = config
        self.gate = gate
        self.counts: Counter[str] = Counter()
        self.failures: list[Finding] = []
        self.report: Report | None = None
        self.report_problem: str | None = None
        self.finished = 0  # tests whose whole run protocol ended (xdist: reported by workers)
        self.stopped = ""  # what ended the session early: pytest.exit(), Ctrl-C
        self.reused = False  # the whole suite passed before on this content: no session runs
        self.bytecode: bytecode.Redirect | None = None  # where bytecode went before the session
        self.history: Recorder | None = None  # history: this run's record (gatekeeper/history)
        self.recorded: list[str] = []  # history: known flaky failures, or why nothing was recorded
        # `gatekeeper run` waits for proof that this gate finished (taken now: never inherited).
        self.receipt = receipt.take()
        # -- the features, each its own plugin object --
        self.evals = EvalRecording()
        config.pluginmanager.register(self.evals, evalrecording.PLUGIN)
        self.coverage: SessionCoverage | None = None  # registered once it measures
        self.integration: IntegrationGate | None = None
        self.shard: Shard | None = None  # a shard of a sharded gate (--gatekeeper-shard)
        self.content: partial.Content | None = None  # a shard's commit and tree, at its start
        self.partial: Path | None = None  # where a shard wrote its partial result
        if integration.wanted(gate.setup):
            self.integration = IntegrationGate(gate.setup)
            config.pluginmanager.register(self.integration, integration.PLUGIN)

    @classmethod
    def create(
        cls, config: pytest.Config, start: Path, namespace: argparse.Namespace
    ) -> GateSession:
        try:
            setup = options.setup(config, start, namespace)
            if repository.worktree_root(setup.worktree) is not None:  # -- trust --
                discovery.refuse_outside(setup.worktree, config.inipath, config.rootpath)
            gate = Gate(setup)
            spec = sharding.spec(namespace)
            shard = None
            if spec is not None:
                durations = setup.worktree / setup.settings.text("shard.durations")
                shard = sharding.install(config, spec, durations)
        except GatekeeperError as error:
            _forget_report(start)
            raise pytest.UsageError(str(error)) from None
        if "coverage" in gate.setup.settings.strings("checks"):
            sessioncoverage.refuse_pytest_cov(config)
        made = cls(config, gate)
        made.shard = shard
        return made

    # -- start ------------------------------------------------------------------------------

    def start(self) -> None:
        setup = self.gate.setup
        # A report left by an earlier run must never be read as this run's verdict.
        _forget_old_report(setup.report_path())
        workfolder.prepare(setup.worktree)
        suite = whole_suite(self.config)
        why_not = SELECTION.format(selection.selected(self.config))
        if suite is not None and evalrecording.repeats(setup.settings.root, setup.settings):
            suite, why_not = None, REPEATS  # -- evals: repeats are neither reused nor stored --
        if self.shard is not None:  # -- shards: a selection, judged whole by `combine` --
            suite, why_not = None, SHARDED.format(self.shard.spec)
            self.content = partial.Content.of(setup.worktree)
            self._clear_shard_folder()
            self.shard.begin(self.config, self.gate)
            if self.shard.spec.index > 1:
                self.gate.skip_background()  # the static checks run once, in shard 1
        self.reused = self.gate.reuse_session(suite, why_not)
        if self.reused:  # restarted to measure, yet nothing runs: stop the collector started first
            sessioncoverage.drop_early()
        else:
            self._key_bytecode()
        for dead in dead_data_dirs(setup.worktree):  # runs killed before they cleaned up
            remove_data_dir(dead)
        # The background checks' threads start before coverage measures, so it never traces
        # them; they run once it does, their tools seeing the same environment as the tests'.
        self.gate.prepare()
        if "coverage" in setup.settings.strings("checks") and not self.reused:
            self.coverage = SessionCoverage(self.config, setup.worktree, self.receipt)
            self.config.pluginmanager.register(self.coverage, sessioncoverage.PLUGIN)
            self.coverage.start(tuple(str(setup.settings.root / p) for p in setup.paths))
        self.gate.start()
        # -- history: the record's git facts are found while the tests run (after any restart
        # with coverage started first, so that no half-done work is left behind) --
        via_run = self.receipt is not None  # `gatekeeper run` asked for proof
        self.history = Recorder(
            setup.settings, setup.worktree, self.gate.cache.tree, via_run=via_run
        )

    def _clear_shard_folder(self) -> None:
        """This shard's folder, emptied of an earlier run's result before this one runs."""
        assert self.shard is not None
        try:
            self.shard.clear(self.gate)
        except OSError as error:
            raise pytest.UsageError(
                f"gatekeeper could not remove the earlier partial result in "
                f"{self.shard.folder(self.gate)} ({error.strerror or error}); remove it, or "
                "fix the directory's permissions."
            ) from None

    def _key_bytecode(self) -> None:
        """The session runs the tree's code, never bytecode written for other content: its
        bytecode goes to a folder of this content's own (gatekeeper/cache/bytecode.py). Without a
        key nothing is stored, and bytecode stays where Python puts it."""
        cache = self.gate.cache
        if not cache.enabled or cache.inputs.digest is None:
            return
        worktree = self.gate.setup.worktree
        try:
            bytecode.refuse_stale_imports(
                worktree, list(sys.modules.values()), _pytest_rewrite(self.config)
            )
        except GatekeeperError as error:
            raise pytest.UsageError(str(error)) from None
        folder = bytecode.folder(worktree, cache.tree, cache.inputs.digest)
        bytecode.prepare(folder, worktree)
        self.bytecode = bytecode.Redirect.to(folder)

    # -- a reused session: neither collect nor run (docs/adopting.md) ------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool | None:
        return True if self.reused else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        return True if self.reused else None

    # -- what the session did ---------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if carries_case(report):  # eval cases are judged by the evals check, not as tests
            return
        if report.when == "call" or not report.passed:
            outcome = _outcome(report)
            self.counts[outcome] += 1
            if outcome in ("failed", "errors"):
                self.failures.append(_failure(report, outcome))

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if not is_case(nodeid):  # eval cases that did not run are the evals check's to judge
            self.finished += 1

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        # -- cache: a run that deselected anything judged a selection; its pass is not stored --
        # (pytest's -m and -k: the options decide, pytest_gatekeeper/selection.py)
        if items and not selection.by_marks() and self.shard is None:
            self.gate.narrowed(DESELECTED)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.counts["errors"] += 1
            self.failures.append(_failure(report, "errors"))

    # -- the end ----------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        measured = self.coverage.stop() if self.coverage is not None else NOT_MEASURED
        os.environ.pop(ENV, None)  # no coverage plan outlives the session
        if self.shard is not None:
            self._finish_shard(session, self._outcome(session, exitstatus, measured))
            return
        self.report = self.gate.finish(self._outcome(session, exitstatus, measured), self._waiting)
        if self.coverage is not None:
            self.coverage.discard()  # judged: the data has no more use
        if self.integration is not None:  # gate the merge result too (docs/integration.md)
            self.report = self.integration.extend(self.report)
        self._write_reports(self.report)
        session.exitstatus = self._exit_status(int(session.exitstatus))
        if self.receipt is not None and not self.report_problem:
            receipt.write(self.receipt, self.gate.setup.report_path(), self.report.verdict.value)
        if self.history is not None:  # -- history: after the verdict, which it never changes --
            self.recorded = self.history.finish(self.report, self.gate.whole_suite).lines()

    def _finish_shard(self, session: pytest.Session, outcome: TestOutcome) -> None:
        """A shard judges only its own part (its tests, and the static checks in shard 1) and
        writes its partial result; it writes no report, annotation or summary: the verdict is
        `gatekeeper combine`'s."""
        assert self.shard is not None and self.content is not None
        if self.gate.pending():
            self._waiting(self.gate.pending())
        static = self.gate.background()
        self.report = self.gate.report((tests.judge(outcome), *static))
        self._write_partial(outcome, static)
        if self.coverage is not None:
            self.coverage.discard()
        session.exitstatus = self._exit_status(int(session.exitstatus))
        if self.receipt is not None and self.partial is not None and not self.report_problem:
            manifest = self.partial / partial.MANIFEST
            receipt.write(self.receipt, manifest, self.report.verdict.value)
        if self.history is not None:
            self.recorded = self.history.finish(self.report, self.gate.whole_suite).lines()

    def _write_partial(self, outcome: TestOutcome, static: list[CheckResult]) -> None:
        """This shard's partial result; when it cannot be written, the shard fails."""
        assert self.shard is not None and self.content is not None and self.report is not None
        stopped = self.stopped or outcome.not_run or self.evals.incomplete()
        complete = self.shard.stopped_by_collection or not stopped
        try:
            done = (self.report.verdict.value, complete)
            self.partial = self.shard.write(self.gate, self.content, outcome, static, done)
        except OSError as error:
            self.report_problem = (
                f"gatekeeper could not write this shard's partial result under "
                f"{self.shard.folder(self.gate)} ({error.strerror or error}); fix the directory's "
                "permissions."
            )

    def _outcome(self, session: pytest.Session, exitstatus: int, measured: Measured) -> TestOutcome:
        """What the session did, for the tests and coverage checks."""
        status = int(exitstatus)
        tests = session.testscollected - self.evals.collected
        not_run = 0 if self.reused else max(0, tests - self.finished)
        if session.shouldfail or session.shouldstop or self.evals.incomplete() or not_run:
            self.gate.narrowed()  # stopped early (-x, --maxfail): only part of the suite ran
        if status == GATE_FAILED and self.evals.only_they_failed(self.counts):
            status = 0  # evals: failed eval cases are the evals check's to judge
        return TestOutcome(
            exitstatus=status,
            passed=self.counts["passed"],
            failed=self.counts["failed"],
            errors=self.counts["errors"],
            skipped=self.counts["skipped"],
            xfailed=self.counts["xfailed"],
            xpassed=self.counts["xpassed"],
            failures=tuple(self.failures),
            coverage_dir=measured.directory,
            coverage_problem=measured.problem,
            coverage_note=measured.note,
            duration=time.perf_counter() - self.gate.started,
            evals=self.evals.outcome(),
            not_run=not_run,
            stopped=self.stopped or _stop_reason(session),
        )

    def _write_reports(self, report: Report) -> None:
        """The JSON report, then the CI formats (annotations, summary, SARIF, JUnit) beside it."""
        path = self.gate.setup.report_path()
        try:
            json_report.write(report, path)
        except OSError as error:
            # No report, no pass: whatever the checks said, a verdict nobody can read fails.
            self.report_problem = (
                f"gatekeeper could not write its report to {path} ({error.strerror or error}); "
                "fix [tool.gatekeeper] report or the directory's permissions."
            )
        from gatekeeper.reports import formats

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            _fresh_line(reporter)  # annotations must start a line: "[100%]" may be open
        formats.write(report, self.gate.setup.settings, path, os.environ)

    def _exit_status(self, status: int) -> int:
        """pytest's exit status, made to follow the gate's verdict."""
        assert self.report is not None
        if not self.report.passed or self.report_problem:
            return GATE_FAILED if status in (0, 5) else status
        if status == 1 and self.evals.only_they_failed(self.counts):
            # Failed eval cases fail their items (so --lf reruns them); the evals check decides.
            return 0
        if status == 5 and self.reused:
            return 0  # nothing was collected because the stored pass was reused
        return status

    def _waiting(self, names: list[str]) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            _fresh_line(reporter)
            reporter.write_line(f"gatekeeper: tests done, waiting for {', '.join(names)} ...")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.report is None:
            return
        terminalreporter.section("gatekeeper")
        terminalreporter.write_line(self._what_ran())
        # A gate run for the hook or integration writes its report in a temporary worktree
        # that is removed once it ends: the caller names the copy it keeps instead.
        nested = os.environ.get(NESTED_ENV) == "1"
        path = None if nested or self.shard else str(self.gate.setup.report_path())
        terminal.emit(terminal.render(self.report, path), _writer(terminalreporter))
        caveat = gatepasses.caveat(self.gate.cache) if self.report.passed else self.gate.cache.note
        # -- trust: why this pass will not serve a push (docs/trust.md); a shard's never does --
        if caveat and self.shard is None:
            terminalreporter.write_line(f"note: {caveat}")
        if self.report_problem:
            terminalreporter.write_line(f"gatekeeper failed: {self.report_problem}", red=True)
        for line in self.recorded:  # history: information, never part of the verdict
            terminalreporter.write_line(line, yellow=True)
        self._warn_about_the_hook(terminalreporter)

    def _what_ran(self) -> str:
        """The section's first line: a shard's partial result, a reused pass, or why the tests
        ran again."""
        if self.shard is not None:
            where = self.partial or self.shard.folder(self.gate)
            return (
                f"shard {self.shard.spec}: a partial result, written to {where}; this shard "
                "judged only its own tests (and the static checks, in shard 1). The verdict "
                "on the whole gate comes from `gatekeeper combine`."
            )
        if self.reused:
            return (
                "the whole suite passed before on exactly this content: tests not run again "
                "(--gatekeeper-no-cache runs them)"
            )
        return f"tests ran again: {self.gate.rerun}"

    def _warn_about_the_hook(self, reporter: pytest.TerminalReporter) -> None:
        """Say so when the pre-push hook is installed but git would not run it for a push from
        here (gatekeeper/githooks/active.py): nothing else would."""
        from gatekeeper.git.tempworktree import NESTED_ENV
        from gatekeeper.githooks.active import warning

        if os.environ.get(NESTED_ENV) == "1":
            return  # a temporary worktree's gate: nobody pushes from there
        found = warning(self.gate.setup.worktree)
        if found is not None:
            reporter.write_line(found, yellow=True)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # Also reached through pytest.exit(), whatever its return code.
        if isinstance(excinfo.value, pytest.exit.Exception):
            self.stopped = f"pytest.exit() ended the session ({excinfo.value.msg})"
        else:
            self.stopped = "the session was interrupted"
        self.gate.stop()  # the tools run in sessions of their own: Ctrl-C does not reach them

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.bytecode is not None:  # a session inside another's process: give its back
            self.bytecode.restore()
            self.bytecode = None
        if self.report is None:
            self.gate.stop()  # the session never finished (a usage error, an interrupt)
            os.environ.pop(ENV, None)  # its coverage, if any, stops in its own unconfigure
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if self.report is not None and reporter is not None:
            text, colour = terminal.verdict_line(self.report)
            if self.shard is not None:
                text = f"{text} on shard {self.shard.spec} (partial: `gatekeeper combine` decides)"
            reporter.write_sep("=", text, **({colour: True} if colour else {}))


def _fresh_line(reporter: pytest.TerminalReporter) -> None:
    """End the open line, if any. pytest's own ``ensure_newline()`` misses the one its final
    progress (`` [100%]``) leaves open under ``-q``: it tracks only lines it began itself."""
    reporter.ensure_newline()
    if reporter._tw.width_of_current_line:
        reporter.line("")


def _stop_reason(session: pytest.Session) -> str:
    """Why pytest stopped before the end (-x, --maxfail, a plugin), when it says so."""
    for reason in (session.shouldfail, session.shouldstop):
        if isinstance(reason, str) and reason:
            return reason
    return ""


def _writer(reporter: pytest.TerminalReporter) -> terminal.Writer:
    def write(text: str, colour: str | None) -> None:
        reporter.write_line(text, **({colour: True} if colour else {}))

    return write


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed:
        return "failed" if report.when == "call" else "errors"
    return "passed" if report.passed else "skipped"


def _failure(report: pytest.TestReport | pytest.CollectReport, outcome: str) -> Finding:
    location = getattr(report, "location", None)
    path, line = (location[0], (location[1] or 0) + 1) if location else (report.nodeid, 0)
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if not isinstance(message, str):
        # A collection error has no crash entry: its last "E   ..." line says what went wrong.
        lines = str(report.longrepr).strip().splitlines() or ["(no details)"]
        message = lines[-1].removeprefix("E").strip()
    return Finding(
        check="tests",
        path=str(path).split("::")[0],
        line=line,
        column=1,
        code="FAILED" if outcome == "failed" else "ERROR",
        # pytest's crash message can run on for lines ("+ where ..."): its first line names it.
        message=f"{report.nodeid}: {(message.strip().splitlines() or [''])[0]}",
    )


def _pytest_rewrite(config: pytest.Config) -> bytecode.Rewrite:
    """A module's code as pytest's assertion-rewrite hook makes it (to check the bytecode of
    modules the hook loaded before the session started)."""
    from _pytest.assertion.rewrite import _rewrite_test

    return lambda path: _rewrite_test(path, config)[1]


def _forget_report(start: Path) -> None:
    """The configuration is broken, so this run writes no report: remove the last run's (at the
    default place), lest it be read as this run's verdict."""
    from gatekeeper.git.repository import worktree_root

    root = worktree_root(start)
    if root is not None:
        (root / ".gatekeeper" / "report.json").unlink(missing_ok=True)


def _forget_old_report(report: Path) -> None:
    """Remove the last run's report, checking on the way that this run can write one."""
    try:
        if report.is_dir():
            raise IsADirectoryError(21, "it is a directory")
        report.unlink(missing_ok=True)
    except OSError as error:
        raise pytest.UsageError(
            f"[tool.gatekeeper] report names {report}, which cannot be written "
            f"({error.strerror or error}); name a file in a writable directory (the default "
            "is .gatekeeper/report.json)."
        ) from None
