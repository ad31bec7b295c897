"""``gatekeeper worktree rm``: give back everything ``new`` (or ``adopt``) made, and only that.

Refuses, unless forced, when the worktree holds uncommitted changes, ignored files that ``new``
did not make or that changed since (``git status`` never shows those), or when its branch holds
commits that are neither pushed nor in the base. Then: ports released, database dropped, environment
file removed, the worktree removed (only when gatekeeper created it) and, when asked, the branch
deleted (only when gatekeeper created it). Each step is saved in the record, so a failure (say,
PostgreSQL is down) can be retried with the same command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.config import Settings
from gatekeeper.errors import GitError, UsageError
from gatekeeper.gate import load_setup
from gatekeeper.git import repository
from gatekeeper.worktrees import changes, envfile, locations, records, resources
from gatekeeper.worktrees.records import WorktreeRecord


@dataclass(slots=True)
class Removed:
    """What ``rm`` did, one short phrase per step, and what it left alone."""

    name: str
    done: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def remove(start: Path, name: str, *, delete_branch: bool = False, force: bool = False) -> Removed:
    """Remove worktree ``name`` and its resources; see the module for the rules."""
    record = _find(start, name)
    path = Path(record.path)
    if path.resolve() == locations.main_checkout(start).resolve():
        raise UsageError(f"{path} is the main checkout; gatekeeper never removes it.")
    if delete_branch and not record.made_branch:
        raise UsageError(
            f"the branch {record.branch!r} was not created by gatekeeper; it is never deleted "
            "by `gatekeeper worktree rm`. Run again without --delete-branch."
        )
    if not force:
        _refuse_lost_work(start, record, delete_branch)
    removed = Removed(record.name)
    _release(start, record, removed)
    _remove_worktree(start, record, removed)
    if delete_branch:
        _delete_branch(start, record, removed)
    records.delete(start, record.name)
    return removed


def _find(start: Path, name: str) -> WorktreeRecord:
    """The record named ``name``, else the one record whose branch is ``name`` (``adopt``
    records a worktree under its directory's name, which is often not its branch's)."""
    record = _by_name(start, name)
    if record is not None:
        return record
    owners = [r for r in records.load_all(start) if r.branch == name]
    if len(owners) == 1:
        return owners[0]
    if len(owners) > 1:
        shown = ", ".join(r.name for r in owners)
        raise UsageError(f"several worktrees are on the branch {name!r} ({shown}); name one.")
    raise UsageError(_unmanaged(start, name))


def _by_name(start: Path, name: str) -> WorktreeRecord | None:
    try:
        return records.load(start, records.check_name(name))
    except UsageError:
        return None  # not a worktree name; perhaps a branch name such as feature/x


def _unmanaged(start: Path, name: str) -> str:
    if locations.find(start, name) is not None:
        return (
            f"the worktree {name!r} was not made or adopted by gatekeeper, so it holds nothing of "
            "gatekeeper's. Remove it with `git worktree remove`."
        )
    return f"no worktree named {name!r}; see `gatekeeper worktree list`."


def _refuse_lost_work(start: Path, record: WorktreeRecord, delete_branch: bool) -> None:
    problems = _lost_files(record)
    count = changes.unpushed(start, _tips(start, record), record.base)
    if count:
        where = repr(record.branch) if record.branch else "its HEAD"
        problems.append(f"{count} commit(s) on {where} neither pushed nor in {record.base!r}")
    if problems:
        raise UsageError(
            f"worktree {record.name!r} has {' and '.join(problems)}; nothing was removed. Commit "
            "and push (or land) them, move the files out, or run again with --force to discard "
            "them."
        )


def _lost_files(record: WorktreeRecord) -> list[str]:
    """The files removing the worktree would lose, as phrases: uncommitted changes, and ignored
    files (which ``git status`` never shows) when gatekeeper is the one removing the tree."""
    path = Path(record.path)
    if not (path / ".git").exists():
        return []
    ours = {**record.made_files, **record.copied}
    written = (envfile.RELATIVE, envfile.IGNORE)  # rewritten by adopt: never user work
    problems: list[str] = []
    dirty = [p for p in changes.uncommitted(path, ours) if p not in written]
    if dirty:
        problems.append(f"uncommitted changes ({_listed(dirty)})")
    lost = changes.lost_ignored(path, ours) if record.made_worktree else []
    if lost:
        problems.append(f"ignored files not made by `new` or changed since ({_listed(lost)})")
    return problems


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _tips(start: Path, record: WorktreeRecord) -> list[str]:
    """The commits whose history ``rm`` must not lose: the branch and the worktree's own HEAD
    (commits made on a detached HEAD are on no branch at all)."""
    tips = (
        [f"refs/heads/{record.branch}"]
        if record.branch and _branch_exists(start, record.branch)
        else []
    )
    path = Path(record.path)
    if (path / ".git").exists():
        head = repository.output(path, "rev-parse", "--verify", "--quiet", "HEAD")
        tips += [head] if head else []
    return tips


def _branch_exists(start: Path, branch: str) -> bool:
    return (
        repository.output(start, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
        is not None
    )


def _release(start: Path, record: WorktreeRecord, removed: Removed) -> None:
    if record.ports:
        shown = ", ".join(f"{k}={v}" for k, v in record.ports.items())
        resources.release_ports(record)
        records.save(start, record)
        removed.done.append(f"released ports {shown}")
    if record.database is not None:
        name = record.database["name"]
        resources.drop_database(record, _database_settings(start, record))
        records.save(start, record)
        removed.done.append(f"dropped database {name}")
    if record.env_file:
        envfile.remove(record)
        records.save(start, record)
        removed.done.append(f"removed {envfile.RELATIVE}")


def _database_settings(start: Path, record: WorktreeRecord) -> Settings:
    """The worktree's configuration (else the current one's), with the backend that made the
    database: the admin URL to drop it comes from there."""
    assert record.database is not None
    path = Path(record.path)
    where = path if (path / ".git").exists() else start
    return load_setup(where, {"database.backend": record.database["backend"]}).settings


def _remove_worktree(start: Path, record: WorktreeRecord, removed: Removed) -> None:
    path = Path(record.path)
    if not record.made_worktree:
        if path.exists():
            removed.kept.append(f"worktree {path} (not created by gatekeeper)")
        return
    if (path / ".git").exists():
        repository.git(start, "worktree", "remove", "--force", str(path))
    repository.git(start, "worktree", "prune")
    if path.exists():
        raise GitError(f"{path} is still there after `git worktree remove`; remove it by hand.")
    record.made_worktree = False
    records.save(start, record)
    removed.done.append(f"removed worktree {path}")


def _delete_branch(start: Path, record: WorktreeRecord, removed: Removed) -> None:
    branch = record.branch
    if branch and _branch_exists(start, branch):
        repository.git(start, "branch", "-D", branch)
        removed.done.append(f"deleted branch {branch}")
