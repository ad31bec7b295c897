"""The gate: start the background checks, decide the session checks, and give one verdict.

Both adapters drive this one class: the pytest plugin for ``pytest --gatekeeper`` and
``gatekeeper run``, the CLI alone for ``gatekeeper check``.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from gatekeeper import config as configuration
from gatekeeper import fingerprint, repository
from gatekeeper.checks.base import Check, CheckContext, TestOutcome
from gatekeeper.errors import GatekeeperError
from gatekeeper.model import CheckResult, Finding, Report, Status, decide
from gatekeeper.paths import relative, resolve_paths
from gatekeeper.plugins import collect_checks, plugin_manager, table_for
from gatekeeper.version import installed_version


@dataclass(frozen=True, slots=True)
class Setup:
    """The loaded configuration and the checks it enables."""

    settings: configuration.Settings
    checks: Mapping[str, Check]
    worktree: Path
    paths: tuple[str, ...]

    @property
    def enabled(self) -> list[Check]:
        return [self.checks[name] for name in self.settings.strings("checks")]

    def report_path(self) -> Path:
        return self.worktree / self.settings.text("report")


def load_setup(start: Path, overrides: Mapping[str, object] | None = None) -> Setup:
    """Find the project around ``start``, load its plugins and configuration, resolve paths."""
    root = configuration.find_project_root(start)
    raw, _ = configuration.read_pyproject(root)
    plugins = raw.get("plugins", [])
    if isinstance(plugins, list):
        plugin_names: Iterable[str] = [str(p) for p in plugins]
    else:
        plugin_names = ()  # a wrong type is reported by load() below, with the key named
    checks = collect_checks(plugin_manager(plugin_names))
    settings = configuration.load(root, table_for(checks), overrides)
    paths = resolve_paths(root, settings.strings("paths"), "[tool.gatekeeper] paths")
    worktree = repository.worktree_root(root) or root
    return Setup(settings, checks, worktree, paths)


def run_check(check: Check, context: CheckContext) -> CheckResult:
    """Run one check, failing closed: whatever it raises becomes an ``error`` result."""
    started = time.perf_counter()
    try:
        result = check.run(context)
    except GatekeeperError as error:
        result = CheckResult(
            check.name, Status.ERROR, str(error), rule="the check must be able to run"
        )
    except Exception as error:  # a crashing check must never pass the gate
        detail = "".join(traceback.format_exception_only(error)).strip()
        result = CheckResult(
            check.name,
            Status.ERROR,
            f"the check crashed: {detail}. This is a bug in the check: report it with this "
            "message.",
            rule="the check must be able to run",
        )
    if result.name != check.name:
        result = replace(result, name=check.name)
    located = (_locate(f, context.root, context.worktree) for f in result.findings)
    findings = fingerprint.assign(located, context.worktree)
    # A check that knows its own duration (the tests: the whole session) keeps it.
    duration = result.duration or time.perf_counter() - started
    return replace(result, findings=findings, duration=duration)


def _locate(finding: Finding, root: Path, worktree: Path) -> Finding:
    """Findings name files relative to the worktree root, whatever form a check used."""
    path = Path(finding.path)
    return replace(finding, path=relative(path if path.is_absolute() else root / path, worktree))


class Gate:
    """One run of the gate: ``start()`` launches background checks, ``finish()`` reports."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.started = time.perf_counter()
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future[CheckResult]] = {}

    def context(self, session: TestOutcome | None = None) -> CheckContext:
        s = self.setup
        return CheckContext(s.settings, s.settings.root, s.worktree, s.paths, session)

    def start(self) -> None:
        background = [c for c in self.setup.enabled if not c.needs_session]
        if not background:
            return
        self._pool = ThreadPoolExecutor(len(background), thread_name_prefix="gatekeeper")
        context = self.context()
        for check in background:
            self._futures[check.name] = self._pool.submit(run_check, check, context)

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
        context = self.context(session)
        results = []
        for check in self.setup.enabled:
            if check.needs_session:
                results.append(run_check(check, context))
            else:
                results.append(self._futures[check.name].result())
        if self._pool is not None:
            self._pool.shutdown()
        return self.report(tuple(results))

    def report(self, results: tuple[CheckResult, ...]) -> Report:
        verdict, rule = decide(results)
        return Report(
            verdict=verdict,
            rule=rule,
            checks=results,
            git=repository.facts(self.setup.worktree),
            config=self.setup.settings.as_dict(),
            version=installed_version(),
            duration=time.perf_counter() - self.started,
        )
