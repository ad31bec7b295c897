"""``gatekeeper worktree new``: a worktree and branch, ready to work in.

Steps, each recorded before the next starts: add the worktree and branch, copy the untracked
files, reserve the ports, create the database, write the environment file, install the pre-push
hook if missing, run the setup commands. A failure stops at that step, marks the record failed
and leaves everything made so far for ``gatekeeper worktree rm`` to remove.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError, UsageError
from gatekeeper.gate import load_setup
from gatekeeper.git import repository, scope
from gatekeeper.githooks import install as hook_installer
from gatekeeper.redaction import redact
from gatekeeper.resources.databases.base import template_for
from gatekeeper.resources.databases.template_key import reuse_advice
from gatekeeper.worktrees import (
    changes,
    copying,
    envfile,
    locations,
    records,
    resources,
    setup_commands,
)
from gatekeeper.worktrees.records import WorktreeRecord


@dataclass(frozen=True, slots=True)
class Request:
    """What ``new`` was asked for: ``name``, and optionally a base ref and a directory."""

    name: str
    base: str | None = None
    path: Path | None = None


@dataclass(slots=True)
class Created:
    """The outcome of ``new``: the record, the steps verified, warnings for the user."""

    record: WorktreeRecord
    steps: list[setup_commands.Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class NewFailed(GatekeeperError):
    """A step of ``new`` failed; the half-made worktree is left for ``rm``."""


def new(start: Path, request: Request) -> Created:
    """Create the worktree ``request`` asks for; raises :class:`NewFailed` naming the step."""
    name = records.check_name(request.name)
    source = repository.worktree_root(start)
    if source is None:
        raise UsageError(f"{start} is not inside a git repository; run this in your project.")
    settings = load_setup(source).settings
    record = _plan(source, name, request, settings)
    planned = copying.plan(source, settings.strings("worktree.copy"))
    created = Created(record)
    records.save(source, record)
    try:
        _build(source, created, planned, settings)
    except GatekeeperError as error:
        record.state, record.failure = records.FAILED, str(error)
        _remember_made_files(record)
        records.save(source, record)
        raise NewFailed(
            f"{error}\n\nThe worktree {name!r} is half made ({record.path}); nothing was "
            f"removed. Clean it up with `gatekeeper worktree rm {name} --delete-branch`."
        ) from None
    return created


def _plan(source: Path, name: str, request: Request, settings: Settings) -> WorktreeRecord:
    if records.load(source, name) is not None:
        raise UsageError(
            f"a worktree named {name!r} is already recorded; see `gatekeeper worktree list`, or "
            f"remove it with `gatekeeper worktree rm {name}`."
        )
    if repository.output(source, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}"):
        raise UsageError(
            f"the branch {name!r} already exists. Pick another name, or check it out with "
            f"`git worktree add DIR {name}` and attach resources with `gatekeeper worktree adopt`."
        )
    base = request.base or _branch_of(source) or settings.get("base") or scope.detect_base(source)
    assert isinstance(base, str)
    if not repository.output(source, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"):
        raise UsageError(f"--base {base!r} is not a commit in {source}; fetch it or name another.")
    location = settings.text("worktree.location")
    path = locations.target(source, name, location, request.path)
    return WorktreeRecord(name, str(path), name, base, created=time.time())


def _branch_of(source: Path) -> str | None:
    """The branch checked out where ``new`` is run, as git's own ``worktree add`` starts from
    ``HEAD``: what is committed there (a configuration, a baseline) is in the new worktree."""
    facts = repository.facts(source)
    return facts.branch if facts is not None else None


def _build(
    source: Path, created: Created, planned: list[copying.Planned], settings: Settings
) -> None:
    record = created.record
    path = Path(record.path)
    # --no-track: a base like origin/main must not make the new branch track (and so pull
    # from or push to) the base.
    repository.git(
        source, "worktree", "add", "--no-track", "-b", record.name, str(path), record.base
    )
    record.made_worktree = record.made_branch = True
    records.save(source, record)
    record.copied = copying.copy(planned, path)
    records.save(source, record)
    resources.reserve_ports(
        record, settings.strings("worktree.ports"), settings, lambda: records.save(source, record)
    )
    own = load_setup(path)  # the new worktree's own configuration builds its database
    if resources.wants_database(own.settings):
        template = template_for(own.settings, own.manager)
        created.warnings.extend(filter(None, [reuse_advice(template.basis)]))
        resources.create_database(record, own.settings, own.manager, template)
        records.save(source, record)
    _, warning = envfile.write(record)
    created.warnings.extend([warning] if warning else [])
    record.hook = ensure_hook(path)
    created.warnings.extend([f"pre-push hook {record.hook}"] if record.hook[:3] == "not" else [])
    records.save(source, record)
    secrets = tuple(v for k, v in envfile.variables(record).items() if k == "DATABASE_URL")
    record.setup = settings.strings("worktree.setup")
    created.steps = setup_commands.run_all(record.setup, path, envfile.variables(record), secrets)
    _remember_made_files(record)
    record.state = records.READY
    records.save(source, record)


def ensure_hook(worktree: Path) -> str:
    """Install the pre-push hook unless it is; returns what happened, in a few words."""
    try:
        directory = hook_installer.hooks_dir(worktree)
    except UsageError as error:
        return f"not installed: {redact(str(error))}"
    if hook_installer.is_ours(directory / hook_installer.HOOK):
        return "already installed"
    hook_installer.install(worktree)
    return "installed"


def _remember_made_files(record: WorktreeRecord) -> None:
    """Record the untracked files present now, ignored ones too: gatekeeper made them (copied
    them, or its setup commands did), they are not the user's while they stay as they are."""
    path = Path(record.path)
    if record.made_worktree and path.is_dir():
        record.made_files = {**changes.untracked(path), **changes.ignored(path)}
