"""The gate: start the background checks, decide the session checks, and give one verdict.

Both adapters drive this one class: the pytest plugin for ``pytest --gatekeeper`` and
``gatekeeper run``, the CLI alone for ``gatekeeper check``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pluggy

from gatekeeper import config as configuration
from gatekeeper.cache import gatepasses
from gatekeeper.cache.store import Cache
from gatekeeper.checks.base import Check, CheckContext, TestOutcome
from gatekeeper.checks.tools import RUNNING
from gatekeeper.checks.types import mypy_files
from gatekeeper.errors import GatekeeperError
from gatekeeper.evals.scorers import Registry
from gatekeeper.git import repository
from gatekeeper.git.tempworktree import NESTED_ENV
from gatekeeper.model import CheckResult, Finding, Report, Status, decide
from gatekeeper.newcode import fingerprint
from gatekeeper.newcode.policy import Policy
from gatekeeper.plugins import collect_checks, collect_scorers, plugin_manager, table_for
from gatekeeper.project import importroots
from gatekeeper.project.paths import contained, relative, resolve_paths
from gatekeeper.redaction import redact_result, redact_values
from gatekeeper.version import installed_version


@dataclass(frozen=True, slots=True)
class Setup:
    """The loaded configuration, the checks it enables, and the one plugin manager of the run.

    The setup owns the plugins: :func:`load_setup` builds the manager (the only place that scans
    the installed distributions for entry points), and whoever needs what plugins give (the
    scorer registry, the database template hook) receives it from here.
    """

    settings: configuration.Settings
    checks: Mapping[str, Check]
    worktree: Path
    paths: tuple[str, ...]
    manager: pluggy.PluginManager

    @property
    def enabled(self) -> list[Check]:
        return [self.checks[name] for name in self.settings.strings("checks")]

    @property
    def scorers(self) -> Registry:
        """The eval scorers of the built-ins and every plugin. Collected when asked, so a
        plugin's bad scorer is reported by the evals that use it (raises ``ValueError``)."""
        return collect_scorers(self.manager)

    def report_path(self) -> Path:
        return self.worktree / self.settings.text("report")


def load_setup(start: Path, overrides: Mapping[str, object] | None = None) -> Setup:
    """Find the project around ``start``, load its plugins and configuration, resolve paths."""
    root = configuration.find_project_root(start)
    raw, _ = configuration.read_pyproject(root)
    manager = plugin_manager(_plugin_names(raw, overrides or {}), root=root)
    checks = collect_checks(manager)
    settings = configuration.load(root, table_for(checks), overrides)
    paths = resolve_paths(root, settings.strings("paths"), _where(settings, "paths"))
    for key in ("lint.paths", "types.paths", "complexity.paths"):
        resolve_paths(root, settings.strings(key) or paths, _where(settings, key))
    for baseline in ("baseline", "evals.baseline"):
        contained(root, settings.text(baseline), _where(settings, baseline))
    worktree = repository.worktree_root(root) or root
    return Setup(settings, checks, worktree, paths, manager)


def _plugin_names(raw: Mapping[str, object], overrides: Mapping[str, object]) -> Iterable[str]:
    """``plugins`` from the command line, else from the file (its type is checked later)."""
    plugins = overrides.get("plugins", raw.get("plugins", []))
    if isinstance(plugins, str):
        return [p.strip() for p in plugins.split(",") if p.strip()]
    return [str(p) for p in plugins] if isinstance(plugins, list) else ()


def _where(settings: configuration.Settings, key: str) -> str:
    """Who set ``key``, for a message: the command line option, or the file's key."""
    option = configuration.Table().by_key()[key]
    if key in settings.overridden:
        return f"command line {option.flag}"
    return f"{settings.source or configuration.PYPROJECT}: {option.display}"


def run_check(check: Check, context: CheckContext) -> CheckResult:
    """Run one check, failing closed: whatever it raises becomes an ``error`` result.

    That includes ``SystemExit`` (a tool's ``main()`` called in-process) and every other
    ``BaseException``, except a real Ctrl-C, which interrupts the whole run. Only the main thread
    receives one: a ``KeyboardInterrupt`` in a background check's thread was raised by the check.
    """
    started = time.perf_counter()
    try:
        result = check.run(context)
        if not isinstance(result, CheckResult):
            raise TypeError(f"run() returned {result!r}, not a CheckResult")
    except GatekeeperError as error:
        result = CheckResult(
            check.name, Status.ERROR, str(error), rule="the check must be able to run"
        )
    except KeyboardInterrupt as error:
        if threading.current_thread() is threading.main_thread():
            raise
        result = crashed(check.name, error)
    except BaseException as error:  # a crashing or exiting check must never pass the gate
        result = crashed(check.name, error)
    if result.name != check.name:
        result = replace(result, name=check.name)
    # Before anything is stored or shown: a command line or a message may hold a password.
    result = redact_result(result)
    located = (_locate(f, context.root, context.worktree) for f in result.findings)
    findings = fingerprint.assign(located, context.worktree)
    # A check that knows its own duration (the tests: the whole session) keeps it.
    duration = result.duration or time.perf_counter() - started
    return replace(result, findings=findings, duration=duration)


def crashed(name: str, error: BaseException) -> CheckResult:
    """The ``error`` result of a check that raised instead of returning a result."""
    detail = "".join(traceback.format_exception_only(error)).strip()
    if isinstance(error, SystemExit):
        detail = (
            f"{detail} (it called sys.exit(); run a tool's main() in a subprocess, or catch "
            "its SystemExit, and return a result)"
        )
    return CheckResult(
        name,
        Status.ERROR,
        f"the check crashed: {detail}. This is a bug in the check: report it with this message.",
        rule="the check must be able to run",
    )


def _locate(finding: Finding, root: Path, worktree: Path) -> Finding:
    """Findings name files relative to the worktree root, whatever form a check used."""
    path = Path(finding.path)
    return replace(finding, path=relative(path if path.is_absolute() else root / path, worktree))


# Seconds a background check may overrun its ``timeout`` before the gate gives up on it: a tool
# is stopped by its own timeout first, and that error says more than this one.
GRACE = 30.0


class Gate:
    """One run of the gate: ``start()`` launches background checks, ``finish()`` reports."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.started = time.perf_counter()
        self._futures: dict[str, Future[CheckResult]] = {}
        self._go: threading.Event | None = None  # set: the background checks may run
        # -- baseline, scope and result cache (docs/adopting.md) --
        self.policy = Policy.load(setup.settings, setup.worktree)
        self.cache = Cache.open(setup.settings, setup.worktree, self.policy.token())
        self._session_run: str | None = None  # the whole-suite run's facts; None: a selection
        self._session_hits: dict[str, CheckResult] = {}
        # Why the test session runs instead of being reused; None once it is reused.
        self.rerun: str | None = "the session has not been looked up in the cache"

    def judge(
        self, check: Check, context: CheckContext, extra: str = "", *, reuse: bool = True
    ) -> CheckResult:
        """``check``'s verdict: reused from the cache when this content passed before (unless
        ``reuse`` is off), else run and judged under the baseline and scope in force, and stored
        when it passed."""
        key = self.cache.key(check.name, extra)
        hit = self.cache.load(key) if reuse else None
        if hit is not None:
            return hit
        result = self.policy.apply(run_check(check, context))
        self.cache.store(key, result)
        return result

    def reuse_session(self, whole_suite: str | None, why_not: str = "") -> bool:
        """Whether the session checks (tests, coverage) all passed before on this content.

        ``whole_suite`` describes a run of the whole suite (its arguments); ``None`` means a
        selection (``-k``, node ids, ``--lf``; ``why_not`` says which), which never reads or
        writes the cache. A session check with nothing to judge in this tree (evals without
        datasets) needs no stored pass: it skips again, judged afresh. When this returns True,
        no test session needs to run: :meth:`finish` uses the stored results. Otherwise
        :attr:`rerun` says why the tests run.
        """
        self._session_run = whole_suite
        hits, self.rerun = self._stored_session(whole_suite, why_not)
        if self.rerun is None:
            self._session_hits = hits
        return self.rerun is None

    def _stored_session(
        self, whole_suite: str | None, why_not: str
    ) -> tuple[dict[str, CheckResult], str | None]:
        """The stored passes of the session checks, or the reason they cannot be used."""
        if whole_suite is None:
            return {}, why_not or "a selection of the suite ran: only whole-suite runs are reused"
        if not self.cache.enabled:
            return {}, self._cache_off()
        hits: dict[str, CheckResult] = {}
        for check in (c for c in self.setup.enabled if c.needs_session):
            hit = self.cache.load(self.cache.key(check.name, whole_suite))
            if hit is not None:
                hits[check.name] = hit
            elif not self._nothing_to_judge(check):
                return {}, f"no stored pass of {check.name} for this content and configuration"
        if not hits:
            return {}, "no enabled check judges the test session"
        return hits, None

    def _nothing_to_judge(self, check: Check) -> bool:
        """Whether the built-in evals check skips without any session: the tree has no
        datasets to judge. Decided now, never read from the cache. Any other session check
        (a plugin's) is run only with its session, so without a stored pass the session runs."""
        from gatekeeper.checks.evals import EvalsCheck

        if not isinstance(check, EvalsCheck):
            return False
        return run_check(check, self.context()).status is Status.SKIPPED

    def _cache_off(self) -> str:
        settings = self.setup.settings
        if "cache" in settings.overridden:
            return f"{configuration.Table().by_key()['cache'].flag} was given"
        if not settings.flag("cache"):
            return (
                f"{settings.source or configuration.PYPROJECT} sets [tool.gatekeeper] cache = false"
            )
        if self.cache.note:  # the ignored files could not be keyed: the note says why
            return self.cache.note
        return "the content has no git tree id to key the cache (outside git, or git failed)"

    def narrowed(self, why: str | None = None) -> None:
        """The session turned out to run only part of the suite (items were deselected at
        collection, or it stopped early): its outcome is judged but neither stored per check nor
        as a whole-gate pass for the pre-push hook. ``why`` replaces :attr:`rerun`."""
        self._session_run = None
        self.rerun = why or self.rerun

    @property
    def whole_suite(self) -> bool:
        """Whether the session judged the whole suite: not a selection, nothing deselected,
        not stopped early (or its stored pass was reused)."""
        return self._session_run is not None

    def _judge_session(self, check: Check, context: CheckContext) -> CheckResult:
        if check.name in self._session_hits:
            return self._session_hits[check.name]
        if self._session_run is None:
            return self.policy.apply(run_check(check, context))
        # The session ran, so its own outcome decides; a pass is stored for the next run.
        return self.judge(check, context, self._session_run, reuse=False)

    def context(self, session: TestOutcome | None = None) -> CheckContext:
        s = self.setup
        return CheckContext(s.settings, s.settings.root, s.worktree, s.paths, session)

    def prepare(self) -> None:
        """Start a thread for every background check, each waiting for :meth:`start` to run it.

        Returns once every thread runs its own code. Python gives a new thread the trace
        function set for new threads when the thread starts (``threading.settrace``, which
        coverage.py's tracer cores use): none is set while these start, so neither a collector
        started after this nor one already running (a command restarted with coverage started
        first, gatekeeper/checks/earlycoverage.py) traces the checks. coverage.py's tracer would, in
        whichever traced thread first meets a new file after ``sys.path`` changed, remove from
        ``sys.modules`` every module any thread imported meanwhile, the test session's too.
        The built-in checks import nothing once started: what they need, their modules
        imported when the setup was loaded.

        Daemon threads, so a check that hangs in-process (a plugin's) can be given up on at its
        ``timeout`` and never keeps the interpreter from exiting.
        """
        if self._go is not None:
            return
        self._go = go = threading.Event()
        context = self.context()
        running = []
        with _untraced_threads():
            for check in (c for c in self.setup.enabled if not c.needs_session):
                future: Future[CheckResult] = Future()
                self._futures[check.name] = future
                started = threading.Event()
                thread = threading.Thread(
                    target=self._run_into,
                    args=(check, context, future, (started, go)),
                    name=f"gatekeeper-{check.name}",
                    daemon=True,
                )
                thread.start()
                running.append(started)
            for started in running:
                started.wait()

    def start(self) -> None:
        """Let every background check run in its thread (started first, unless :meth:`prepare`
        did already)."""
        self.prepare()
        assert self._go is not None
        self._go.set()

    def _run_into(
        self,
        check: Check,
        context: CheckContext,
        future: Future[CheckResult],
        events: tuple[threading.Event, threading.Event],
    ) -> None:
        started, go = events
        # Running here, the thread is past the point where it took the trace function (if any).
        started.set()
        go.wait()
        try:
            future.set_result(self.judge(check, context))
        except BaseException as error:  # judge() fails closed; this is only the last resort
            future.set_exception(error)

    def stop(self) -> int:
        """Stop the tools of background checks still running (an interrupted session)."""
        return RUNNING.stop_all() if self.pending() else 0

    def _background_result(self, check: Check) -> CheckResult:
        """The background check's result, waiting at most its ``timeout`` (plus a grace for the
        tool's own, which stops it first) from the gate's start."""
        limit = self.setup.settings.number(f"{check.name}.timeout")
        wait = None if not limit else max(0.0, self.started + limit + GRACE - time.perf_counter())
        try:
            return self._futures[check.name].result(timeout=wait)
        except FutureTimeout:
            return CheckResult(
                check.name,
                Status.ERROR,
                f"the {check.name} check did not finish within its timeout of {limit:g} s. "
                f"Raise [tool.gatekeeper.{check.name}] timeout, or find out why it hangs.",
                rule="the check must finish within its timeout",
                duration=time.perf_counter() - self.started,
            )
        except BaseException as error:  # raised in the check's thread: never a real Ctrl-C
            return crashed(check.name, error)

    def pending(self) -> list[str]:
        """Background checks still running."""
        return [name for name, future in self._futures.items() if not future.done()]

    def finish(
        self, session: TestOutcome | None, waiting: Callable[[list[str]], None] | None = None
    ) -> Report:
        """Wait for the background checks, decide the session checks, and build the report."""
        pending = self.pending()
        if pending and waiting is not None:
            waiting(pending)
        if session is not None and self.cache.enabled:  # -- trust: whose code the tests ran --
            outside = importroots.resolved_outside(self.setup.worktree)
            self.cache = dataclasses.replace(self.cache, outside=outside)
        context = self.context(session)
        results = []
        for check in self.setup.enabled:
            if check.needs_session:
                results.append(self._judge_session(check, context))
            else:
                results.append(self._background_result(check))
        if session is not None and os.environ.get(NESTED_ENV) == "1":
            results = _judged_on_this_tree(results, self.setup.worktree)
        report = self.report(tuple(results))
        # -- hook-cache: a whole-gate pass the pre-push hook finds by tree
        # (gatekeeper/cache/gatepasses.py)
        gatepasses.record(self.cache, self.policy, self._session_run, report, self.setup.worktree)
        return report

    def effective_config(self) -> dict[str, object]:
        """The configuration as applied: detected paths written out."""
        config = self.setup.settings.as_dict()
        settings = self.setup.settings
        config["paths"] = list(self.setup.paths)
        # mypy checks the files its own configuration names, when it names any.
        named = mypy_files(settings.root, settings.strings("types.args"))
        for name, paths in (("types", named or self.setup.paths), ("complexity", self.setup.paths)):
            section = config.get(name)
            if isinstance(section, dict) and not section.get("paths"):
                section["paths"] = list(paths)
        redacted = redact_values(config)  # database.url may hold a password: never in a report
        assert isinstance(redacted, dict)
        return redacted

    def report(self, results: tuple[CheckResult, ...]) -> Report:
        verdict, rule = decide(results)
        return Report(
            verdict=verdict,
            rule=rule,
            checks=results,
            git=repository.facts(self.setup.worktree),
            config=self.effective_config(),
            version=installed_version(),
            duration=time.perf_counter() - self.started,
        )


@contextmanager
def _untraced_threads() -> Iterator[None]:
    """Threads started inside get no trace function (coverage's, say) from ``threading``."""
    previous = threading.gettrace()
    threading.settrace(None)
    try:
        yield
    finally:
        threading.settrace(previous)


def _judged_on_this_tree(results: list[CheckResult], tree: Path) -> list[CheckResult]:
    """A temporary worktree's gate whose tests imported code from another checkout of the
    repository (an editable install of the main one) did not test the tree it gates: its tests
    check is an error, whatever they said (docs/trust-boundaries.md)."""
    elsewhere = importroots.from_other_checkouts(tree)
    if not elsewhere:
        return results
    shown = ", ".join(elsewhere[:5]) + (
        f" and {len(elsewhere) - 5} more" if len(elsewhere) > 5 else ""
    )
    error = CheckResult(
        "tests",
        Status.ERROR,
        f"the tests imported {shown} from another checkout of this repository, not from the "
        f"tree being gated ({tree}): a clean checkout of the commit would not find that code "
        "there. Install the project so that it is imported from the tree (not in editable mode "
        "from another checkout), or remove what still imports it.",
        rule="the gated tree's own code is the code under test",
    )
    return [error if result.name == "tests" else result for result in results]
