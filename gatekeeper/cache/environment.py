"""The environment a gate runs in: what a pass rests on besides the tree, and what a gate in a
temporary worktree (the pre-push hook, ``integrate``, ``land``) is given.

Every variable is of one of four kinds:

- **passed**: what a gate in a temporary worktree receives from the shell it was started from,
  and nothing else, as a CI job has only what its workflow sets: :data:`PASSED` (the values are
  keyed), :data:`LOCATIONS` (where the user's files and gatekeeper's state are: passed, not
  keyed, since what is found there is not keyed either), and the project's ``pass-env``.
- **noise**: the terminal and the login session (:data:`NOISE`, :data:`NOISE_PREFIXES`): never
  passed, never keyed, and a run is scrubbed with them set. They change from one terminal to the
  next and say nothing about the code or the selection of tests.
- **run**: what gatekeeper and pytest set for a run of their own (:func:`is_run_variable`).
- **anything else** (``FAST``, ``PYTEST_ADDOPTS``, ``PYTHONPATH``, ``CI`` ...): keyed by value,
  never passed, and a run with one set is not *scrubbed*: its passes are not accepted for a push.

A run is *scrubbed* when it holds only passed, noise and run variables: then it ran as the hook's
own gate runs, and a pass it recorded may answer a push.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper.git import repository
from gatekeeper.project import importroots
from gatekeeper.version import installed_version

PASSED: Final = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "TZ",
        "VIRTUAL_ENV",
        # gatekeeper's own database fixtures: where the server is (docs/isolation.md)
        "GATEKEEPER_DATABASE_URL",
        "NEON_API_KEY",
    }
)
PASSED_PREFIXES: Final = ("LC_",)
LOCATIONS: Final = frozenset(
    {
        "HOME",
        "USER",
        "LOGNAME",
        "TMPDIR",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "GATEKEEPER_STATE_DIR",
    }
)
NOISE: Final = frozenset(
    {
        "PWD",
        "OLDPWD",
        # the login session and the desktop: set in every real shell, read by no test suite
        "SHELL",
        "HOSTNAME",
        "HOSTTYPE",
        "OSTYPE",
        "MACHTYPE",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "XAUTHORITY",
        "XDG_RUNTIME_DIR",
        "XDG_CURRENT_DESKTOP",
        "XDG_SEAT",
        "XDG_VTNR",
        "DESKTOP_SESSION",
        "DBUS_SESSION_BUS_ADDRESS",
        "COLORFGBG",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "TERM_SESSION_ID",
        "SSH_AUTH_SOCK",
        "SSH_AGENT_PID",
        "SSH_CLIENT",
        "SSH_CONNECTION",
        "SSH_TTY",
        "XDG_SESSION_ID",
        "XDG_SESSION_TYPE",
        "XDG_SESSION_CLASS",
        "XDG_SESSION_DESKTOP",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "SHLVL",
        "_",
        "TERM",
        "COLORTERM",
        "COLUMNS",
        "LINES",
        "LS_COLORS",
        "LSCOLORS",
        "CLICOLOR",
        "PS1",
        "PS2",
        "PROMPT_COMMAND",
        "VIRTUAL_ENV_PROMPT",
        "HISTFILE",
        "HISTSIZE",
        "HISTFILESIZE",
        "HISTCONTROL",
        "MAIL",
        "MAILCHECK",
        "MOTD_SHOWN",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "LESS",
        "LESSOPEN",
        "LESSCLOSE",
        "GPG_TTY",
        "WINDOWID",
        "TMUX",
        "TMUX_PANE",
        "STY",
        "WINDOW",
        "SECURITYSESSIONID",
        "COMMAND_MODE",
    }
)
NOISE_PREFIXES: Final = (
    # Only families named for one terminal or editor: a prefix as general as TERM_ or SSH_
    # would also cover a TERM_FAST that a suite reads (their members are named in NOISE).
    "ITERM_",
    "KITTY_",
    "ALACRITTY_",
    "WEZTERM_",
    "KONSOLE_",
    "GNOME_TERMINAL_",
    "VTE_",
    "VSCODE_",
    "XPC_",
    "__CF",
)
# What gatekeeper, pytest and pytest-xdist set for a run of their own, by name: any other
# GATEKEEPER_* or PYTEST_XDIST_* variable is the user's, and keyed.
_RUN: Final = frozenset(
    {
        "GATEKEEPER_RUN_ID",
        "GATEKEEPER_WORKER",
        "GATEKEEPER_WORKTREE",
        "GATEKEEPER_WORKTREE_NAME",
        "GATEKEEPER_COVERAGE",
        "GATEKEEPER_NESTED",
        "GATEKEEPER_IMPORT_ROOTS",
        "GATEKEEPER_RECEIPT",
        "GATEKEEPER_EARLY_COVERAGE",
        "GATEKEEPER_WORKER_DATABASE_URL",
        "GATEKEEPER_SKIP",
        # coverage.py's hand-over to the processes it measures under `patch = ["subprocess"]`:
        # set when measuring starts, which a restarted command does before the key is taken
        "COVERAGE_PROCESS_CONFIG",
        # who started a gate in a temporary worktree, for its record (gatekeeper/history)
        "GATEKEEPER_HISTORY_ENTRY",
        "GATEKEEPER_HISTORY_ORIGIN",
        # where a gated session sends bytecode: a folder keyed by its content (bytecode.py)
        "PYTHONPYCACHEPREFIX",
        # `gatekeeper run --shard`'s one hash seed for every shard (gatekeeper/commands/run.py)
        "PYTHONHASHSEED",
        "PYTEST_VERSION",
        "PYTEST_CURRENT_TEST",
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT",
        "PYTEST_XDIST_TESTRUNUID",
    }
)
# The ports a worktree's env file exports (gatekeeper.resources.ports): GATEKEEPER_PORT_<NAME>.
_RUN_PREFIXES: Final = ("GATEKEEPER_PORT_",)


def is_run_variable(name: str) -> bool:
    """Set by gatekeeper or pytest for a run (its identity, ports, workers), not by the user.

    ``PYTEST_ADDOPTS``, ``PYTEST_PLUGINS`` and the like are not: they change what runs.
    """
    return name in _RUN or name.startswith(_RUN_PREFIXES)


def is_noise(name: str) -> bool:
    """A variable of the terminal or the login session (see the module docstring)."""
    return name in NOISE or name.startswith(NOISE_PREFIXES)


def is_passed(name: str, extra: Collection[str] = ()) -> bool:
    """Whether a gate in a temporary worktree receives ``name`` (``extra``: ``pass-env``)."""
    return name in PASSED or name in LOCATIONS or name.startswith(PASSED_PREFIXES) or name in extra


def scrubbed(environ: Mapping[str, str], extra: Collection[str] = ()) -> dict[str, str]:
    """``environ`` reduced to what a gate in a temporary worktree receives.

    ``PATH`` loses the directory git puts first for its hooks (``GIT_EXEC_PATH``), so the gate
    gets the ``PATH`` of the shell that pushed, as a developer's own run has it.
    """
    names = frozenset(extra)
    kept = {k: v for k, v in environ.items() if is_passed(k, names)}
    own = environ.get("GIT_EXEC_PATH")
    if own and "PATH" in kept and kept["PATH"].startswith(own + os.pathsep):
        kept["PATH"] = kept["PATH"][len(own) + len(os.pathsep) :]
    return kept


def as_given(environ: Mapping[str, str], worktree: Path) -> dict[str, str]:
    """``environ`` without the import roots that a temporary worktree's gate put first on
    ``PYTHONPATH`` (:mod:`gatekeeper.project.importroots`): they point into the tree, which the key
    holds, and were verified to hold the project's code, so they neither key a pass nor unscrub it.
    Roots that are not all inside ``worktree`` were not put there by such a gate: kept."""
    given = dict(environ)
    added = [p for p in environ.get(importroots.ENV, "").split(os.pathsep) if p]
    if not all(Path(p).resolve().is_relative_to(worktree.resolve()) for p in added):
        return given
    path = importroots.users_pythonpath(environ)
    if path is None:
        given.pop("PYTHONPATH", None)
    else:
        given["PYTHONPATH"] = path
    return given


def strays(environ: Mapping[str, str], extra: Collection[str] = ()) -> tuple[str, ...]:
    """The variables of ``environ`` that keep a run from being scrubbed (names only)."""
    names = frozenset(extra)
    return tuple(
        sorted(k for k in environ if not (is_passed(k, names) or is_noise(k) or is_run_variable(k)))
    )


@contextmanager
def scrubbed_process(extra: Collection[str] = ()) -> Iterator[None]:
    """This process's environment scrubbed for the block, then restored.

    For the gate a child runs in a temporary worktree: the child inherits this environment.
    """
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(scrubbed(saved, extra))
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True, slots=True)
class Facts:
    """The environment a pass rests on: its hash, and whether the run was scrubbed (``strays``
    names the variables that kept it from being so). ``problem`` says why the environment
    could not be keyed (then no pass may rest on it)."""

    digest: str
    strays: tuple[str, ...]
    problem: str = ""

    @property
    def scrubbed(self) -> bool:
        return not self.strays


def facts(environ: Mapping[str, str], extra: Sequence[str], worktree: Path) -> Facts:
    """The facts of a run in ``worktree`` under ``environ``, with ``pass-env`` = ``extra``.

    Hashed: the interpreter, every installed distribution with its version, the importable
    files of the running environment inside a worktree that no distribution records
    (:func:`unrecorded`), gatekeeper's version, the value of every variable that is neither
    noise, a location nor the run's own, and whether the run was scrubbed. Paths of the
    repository's worktrees in the values (``PATH=/path/to/wt/.venv/bin:...``) read
    ``<worktree>``, so worktrees share entries.
    """
    roots = worktree_roots(worktree)
    environ = as_given(environ, worktree)
    keyed = {
        k: _normalised(v, roots)
        for k, v in environ.items()
        if not (is_noise(k) or is_run_variable(k) or k in LOCATIONS)
    }
    found = strays(environ, extra)
    try:
        loose = [_normalised(entry, roots) for entry in unrecorded(roots)]
    except _Unkeyable as error:
        return Facts("", found, str(error))
    document = {
        "python": sys.version,
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "distributions": distributions(roots),
        "unrecorded": loose,
        "gatekeeper": installed_version(),
        "variables": keyed,
        "scrubbed": not found,
    }
    text = json.dumps(document, sort_keys=True, default=str)
    return Facts(hashlib.sha256(text.encode()).hexdigest(), found)


def worktree_roots(worktree: Path) -> tuple[str, ...]:
    """Every worktree root of the repository holding ``worktree``, longest first."""
    roots = {str(root) for root in repository.worktrees(worktree)}
    roots.add(str(worktree))
    roots |= {str(Path(root).resolve()) for root in roots}
    return tuple(sorted(roots, key=len, reverse=True))


def _normalised(value: str, roots: Sequence[str]) -> str:
    for root in roots:
        value = value.replace(root, "<worktree>")
    return value


def distributions(roots: Sequence[str]) -> list[str]:
    """Every distribution installed for this interpreter, as ``name==version``.

    Found on ``sys.path`` without its entries inside a worktree (the working directory, a
    ``pythonpath`` setting, an editable install's sources) unless they belong to the running
    environment: what a tree holds is keyed as the tree, and a process started elsewhere must
    see the same installed set.
    """
    paths = [entry for entry in sys.path if _installed_place(entry, roots)]
    found = set()
    for dist in importlib.metadata.distributions(path=paths):
        metadata = dist.metadata  # parsed on every access: read it once
        if metadata["Name"]:
            found.add(f"{metadata['Name']}=={metadata['Version']}")
    return sorted(found)


def _installed_place(entry: str, roots: Sequence[str]) -> bool:
    place = Path(entry or ".").resolve()
    prefixes = (Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())
    if any(place.is_relative_to(prefix) for prefix in prefixes):
        return True
    return not any(place.is_relative_to(root) for root in roots)


# What Python can import or run from a folder on sys.path, and mypy can read (stubs).
_IMPORTABLE: Final = (".py", ".pyc", ".pyo", ".pyi", ".pth", ".so", ".pyd", ".zip", ".egg")
_METADATA: Final = (".dist-info", ".egg-info", "__pycache__")
MAX_FILES: Final = 20_000
MAX_BYTES: Final = 64 * 1024 * 1024


class _Unkeyable(Exception):
    """Too much in the environment that no distribution records to key it by content."""


def unrecorded(roots: Sequence[str]) -> list[str]:
    """``<path> <sha256>`` of each importable file (a module, a ``.pth``, an extension, a stub)
    in the running environment's folders inside a worktree (a ``.venv`` of the project, a
    source checkout ``pip install -e`` put in it) that no installed distribution records: a
    module dropped into ``site-packages`` is keyed by its content, as distributions are by
    their version. Raises :class:`_Unkeyable` past :data:`MAX_FILES` or :data:`MAX_BYTES`."""
    places = _environment_places(roots)
    recorded = _recorded(places)
    found: list[str] = []
    size = 0
    for name in (p for place in places for p in _importable(place)):
        if name in recorded:
            continue
        path = Path(name)
        try:
            size += path.stat().st_size
            if size > MAX_BYTES or len(found) >= MAX_FILES:
                raise _Unkeyable(
                    "the environment inside the worktree holds more modules that no "
                    f"distribution records than can be keyed (past {MAX_FILES} files or "
                    f"{MAX_BYTES // (1024 * 1024)} MiB)"
                )
            with path.open("rb") as stream:
                found.append(f"{path} {hashlib.file_digest(stream, 'sha256').hexdigest()}")
        except OSError:
            found.append(f"{path} unreadable")
    return sorted(found)


def _environment_places(roots: Sequence[str]) -> list[Path]:
    """The folders on ``sys.path`` that belong to the running environment and lie inside a
    worktree, without those nested in another."""
    prefix = Path(sys.prefix).resolve()
    inside = [Path(root).resolve() for root in roots]
    places: list[Path] = []
    for place in sorted({Path(e).resolve() for e in sys.path if e}):
        if not place.is_relative_to(prefix) or not any(place.is_relative_to(r) for r in inside):
            continue
        if not any(place.is_relative_to(kept) for kept in places):
            places.append(place)
    return places


def _importable(place: Path) -> Iterator[str]:
    """The importable files under ``place`` as path strings (many thousands: no Path objects)."""
    if place.is_file():
        yield str(place)  # a zip or an egg on sys.path
        return
    for folder, dirs, files in os.walk(place):
        dirs[:] = [d for d in dirs if not d.endswith(_METADATA)]
        yield from (f"{folder}{os.sep}{f}" for f in files if f.endswith(_IMPORTABLE))


def _recorded(places: Sequence[Path]) -> set[str]:
    """Every file the distributions installed in ``places`` record (``RECORD``,
    ``installed-files.txt``), as normalised absolute paths."""
    found: set[str] = set()
    for place in (p for p in places if p.is_dir()):
        for folder in place.iterdir():
            listing, base = _listing(folder)
            try:
                lines = listing.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            found.update(_paths(str(base), lines))
    return found


def _paths(base: str, lines: Sequence[str]) -> Iterator[str]:
    """The absolute paths the ``lines`` of a listing name, relative to ``base``: as
    :func:`_importable` spells them, normalised only where a ``..`` needs it.

    RECORD is CSV: a path holding a comma is quoted (it is then not found, and the file is
    keyed by content: more keyed, never less)."""
    for line in lines:
        name = f"{base}{os.sep}{line.rsplit(',', 2)[0]}"
        yield os.path.normpath(name) if ".." in name or "/./" in name else name


def _listing(folder: Path) -> tuple[Path, Path]:
    """The file listing what the distribution whose metadata is ``folder`` installed, and what
    its paths are relative to."""
    if folder.name.endswith(".dist-info"):
        return folder / "RECORD", folder.parent
    return folder / "installed-files.txt", folder
