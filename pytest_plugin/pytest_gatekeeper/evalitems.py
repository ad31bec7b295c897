"""Eval datasets as pytest items: one item per case, named ``evals/double.yaml::c7``.

Only for a project that opted in (see :mod:`pytest_gatekeeper.evalfiles`). Being ordinary
items, cases work with ``-k`` (ids and tags), ``--lf`` and pytest-xdist. Each
item runs its case through the library and attaches the result to its report's
``user_properties``; :class:`gatekeeper.evals.recorder.Recorder` gathers them on the
controlling process. Imported only
when a YAML file is collected or the gate runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from gatekeeper.errors import GatekeeperError
from gatekeeper.evals import callables, dataset
from gatekeeper.evals.results import PROPERTY, CaseResult
from gatekeeper.evals.runner import run_case
from gatekeeper.evals.scorers import Registry, Scorer
from pytest_gatekeeper import options
from pytest_gatekeeper.evalcoverage import FocusedItem, measured


@dataclass(frozen=True, slots=True)
class Layout:
    """Where this project's datasets live, and the scorers they may use."""

    root: Path
    paths: tuple[str, ...]
    scorers: Registry


_LAYOUT = pytest.StashKey[Layout]()


def layout(config: pytest.Config) -> Layout:
    """The project's eval layout, read once per pytest process from ``[tool.gatekeeper]``."""
    found = config.stash.get(_LAYOUT, None)
    if found is None:
        try:
            setup = options.setup(config, Path(config.invocation_params.dir))
            found = Layout(
                setup.settings.root,
                tuple(setup.settings.strings("evals.paths")),
                setup.scorers,
            )
        except (GatekeeperError, ValueError) as error:
            raise pytest.UsageError(f"gatekeeper evals: {error}") from None
        config.stash[_LAYOUT] = found
    return found


def include_datasets(config: pytest.Config) -> None:
    """Collect the eval paths too when the run's paths came from ``testpaths``.

    Explicit arguments are the user's choice and stay as given.
    """
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return
    found = layout(config)
    given = [(Path(config.invocation_params.dir) / arg).resolve() for arg in config.args]
    for entry in found.paths:
        target = (found.root / entry).resolve()
        covered = any(target == g or g in target.parents for g in given)
        if target.exists() and not covered:
            config.args.append(str(target))


class EvalFile(pytest.File):
    """A dataset file; its cases are its items. A bad dataset is a one-paragraph error."""

    def collect(self) -> Iterator[EvalItem]:
        found = layout(self.config)
        loaded = dataset.load(self.path, found.root, found.scorers)
        target = callables.resolve(loaded.target)
        for case in loaded.cases:
            scorer = found.scorers.get(case.scorer.name)
            assert scorer is not None  # dataset.load checked every scorer name
            yield EvalItem.from_parent(
                self, name=case.id, loaded=loaded, case=case, target=target, scorer=scorer
            )

    # Matches pytest.Collector.repr_failure, which itself drops Node's `style` argument.
    def repr_failure(  # type: ignore[override]
        self, excinfo: ExceptionInfo[BaseException]
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, GatekeeperError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class EvalFailed(Exception):
    """An eval case did not pass; carries its result for the failure report."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.explanation)
        self.result = result


class EvalItem(FocusedItem):
    """One eval case: the project's code it runs is its target and its scorer, called inside
    :func:`~pytest_gatekeeper.evalcoverage.measured`."""

    def __init__(
        self,
        *,
        loaded: dataset.Dataset,
        case: dataset.Case,
        target: Callable[..., Any],
        scorer: Scorer,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.loaded, self.case, self.target, self.scorer = loaded, case, target, scorer
        # Tags are keywords, so `-k smoke` selects tagged cases without registering markers.
        self.extra_keyword_matches.update(case.tags)

    def runtest(self) -> None:
        with measured(self.config):  # coverage traces the target even when pytest is not
            result = run_case(self.loaded, self.case, self.target, self.scorer)
        self.user_properties.append((PROPERTY, result.to_property()))
        if result.passed:
            return
        if result.flaky:
            pytest.xfail(f"flaky eval case failed (reported, not gated): {result.explanation}")
        raise EvalFailed(result)

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, EvalFailed):
            result = excinfo.value.result
            return "\n".join(
                (
                    f"eval case {result.nodeid} {result.verdict}: {result.explanation}",
                    f"  expected: {result.expected}",
                    f"  actual:   {result.actual}",
                    f"  runs: {result.passes} of {result.runs} passed, {result.must_pass} needed",
                )
            )
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.case.line - 1 if self.case.source == self.loaded.path else None
        return self.path, line, f"eval case {self.case.id}"
