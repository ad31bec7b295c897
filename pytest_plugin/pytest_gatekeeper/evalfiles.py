"""Which YAML files a session takes as eval datasets, and why it leaves the others.

A YAML file becomes eval cases only when the project opted in (a ``[tool.gatekeeper]`` table in
``pyproject.toml``, ``--gatekeeper-evals-paths``, or ``--gatekeeper``) and the file is a dataset
(its keys say so, see :func:`gatekeeper.evals.dataset.not_a_dataset`). Other projects keep YAML
of their own under ``evals/``, and merely installing the plugin must not turn it into collection
errors. What is left under the eval paths is said in ``--collect-only`` (each file with ``-v``).

Cheap: nothing of the evals library (nor YAML) is imported until the project opted in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.config import CORE_OPTIONS, find_project_root, read_table
from gatekeeper.errors import ConfigError

PLUGIN_NAME = "gatekeeper-evals-left"
NOT_OPTED_IN = (
    "the project has not opted in (add a [tool.gatekeeper] table to pyproject.toml, set "
    "[tool.gatekeeper.evals] paths, or run with --gatekeeper)"
)
_DEFAULT_PATHS = next(o.default for o in CORE_OPTIONS if o.key == "evals.paths")
_PATHS_DEST = next(o.dest for o in CORE_OPTIONS if o.key == "evals.paths")
_OPTED_IN = pytest.StashKey[bool]()


def collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The dataset file's collector when the project opted in and it is one, else None."""
    config = parent.config
    if opted_in(config):
        return _dataset(file_path, parent)
    root = find_project_root(Path(config.invocation_params.dir))
    assert isinstance(_DEFAULT_PATHS, list)
    if any(file_path.resolve().is_relative_to((root / p).resolve()) for p in _DEFAULT_PATHS):
        leave(config, file_path, f"not collected: {NOT_OPTED_IN}", ", ".join(_DEFAULT_PATHS))
    return None


def _dataset(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """An :class:`~pytest_gatekeeper.evalitems.EvalFile` for a dataset under the configured eval
    paths, else None (a YAML file there that is not a dataset is noted, with why, for
    ``--collect-only``)."""
    from gatekeeper.evals import dataset
    from pytest_gatekeeper import evalitems

    found = evalitems.layout(parent.config)
    if not dataset.in_paths(file_path, found.root, found.paths):
        return None
    reason = dataset.not_a_dataset(file_path)
    if reason is not None:
        leave(parent.config, file_path, f"not a dataset: {reason}", ", ".join(found.paths))
        return None
    return evalitems.EvalFile.from_parent(parent, path=file_path)


def opted_in(config: pytest.Config) -> bool:
    """Whether this session takes eval datasets (decided once per pytest process)."""
    found = config.stash.get(_OPTED_IN, None)
    if found is None:
        found = _asks(config)
        config.stash[_OPTED_IN] = found
    return found


def _asks(config: pytest.Config) -> bool:
    if config.getoption("gatekeeper", False) or getattr(config.option, _PATHS_DEST, None):
        return True
    root = find_project_root(Path(config.invocation_params.dir))
    try:
        table, _ = read_table(root)
    except ConfigError as error:
        raise pytest.UsageError(f"gatekeeper evals: {error}") from None
    return table is not None


def leave(config: pytest.Config, path: Path, why: str, where: str) -> None:
    """Note that the YAML file ``path`` under the eval paths ``where`` was not taken, and why."""
    left = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if not isinstance(left, LeftFiles):
        left = LeftFiles(where)
        config.pluginmanager.register(left, PLUGIN_NAME)
    left.files.append((path, why))


class LeftFiles:
    """The YAML files under the eval paths a session left, reported after collection."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.files: list[tuple[Path, str]] = []

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        if not config.option.collectonly:
            return []
        opted = opted_in(config)
        why = "their keys say they are not datasets" if opted else NOT_OPTED_IN
        lines = [
            f"gatekeeper: {len(self.files)} YAML file(s) under {self.where} not collected as "
            f"eval datasets: {why}" + ("" if config.option.verbose > 0 else " (-v lists them)")
        ]
        if config.option.verbose > 0:
            shown = sorted((_relative(path, config.rootpath), why) for path, why in self.files)
            lines.extend(f"  {name}: {why}" for name, why in shown)
        return lines


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
