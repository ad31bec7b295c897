"""A shard's coverage data made portable, and brought back into the checkout that combines.

Each shard measured files under its own checkout's path. Its data leaves the shard with every
file inside the worktree named relative to it; the combine job names them under its own
checkout again, so coverage.py combines the shards as if one run had measured them all.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from gatekeeper.checks.measure import quiet


def export(measured: Path, worktree: Path, target: Path) -> bool:
    """Every data file in ``measured`` (the session's, its xdist workers') combined into the
    file ``target``, paths inside ``worktree`` made relative. Returns whether there was any."""
    from coverage.data import CoverageData

    files = sorted(p for p in measured.glob(".coverage*") if p.is_file())
    if not files:
        return False
    prefix = f"{worktree.resolve()}/"
    out = CoverageData(basename=str(target))
    with quiet():
        for file in files:
            data = CoverageData(basename=str(file))
            data.read()
            out.update(data, map_path=lambda path: _relative(path, prefix))
        out.write()
    return True


def restore(source: Path, root: Path, target: Path) -> None:
    """The exported data file ``source`` written to ``target``, relative paths placed under
    ``root``."""
    from coverage.data import CoverageData

    data = CoverageData(basename=str(source))
    out = CoverageData(basename=str(target))
    with quiet():
        data.read()
        out.update(data, map_path=lambda path: _absolute(path, root))
        out.write()


def _relative(path: str, prefix: str) -> str:
    return PurePosixPath(path[len(prefix) :]).as_posix() if path.startswith(prefix) else path


def _absolute(path: str, root: Path) -> str:
    return path if Path(path).is_absolute() else str(root / path)
