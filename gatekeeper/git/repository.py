"""Git facts and git commands, run the way gatekeeper must run them.

Every git call goes through :func:`git`: the user's hooks never fire (``core.hooksPath`` is
pointed at ``/dev/null``) and ``GIT_*`` variables inherited from a hook are scrubbed, so a call
always means the repository named by ``cwd``; only those that say how to reach a remote
(:data:`TRANSPORT`) are kept. Why this is plain :mod:`subprocess` and not a git library:
docs/architecture.md#git.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from gatekeeper.errors import GitError
from gatekeeper.model import GitFacts

# What git reads to reach a remote and to ask for credentials (git(1), git-config(1)): how to
# connect, never which repository, index or object store a call means. `land --push` over SSH,
# with a credential prompt or through a proxy needs them as the user's own `git push` has them.
TRANSPORT: Final = frozenset(
    {
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSH_VARIANT",
        "GIT_ASKPASS",
        "GIT_TERMINAL_PROMPT",
        "GIT_PROXY_COMMAND",
        "GIT_HTTP_PROXY_AUTHMETHOD",
        "GIT_HTTP_USER_AGENT",
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
        "GIT_SSL_CERT",
        "GIT_SSL_KEY",
        "GIT_SSL_CERT_PASSWORD_PROTECTED",
        "GIT_SSL_NO_VERIFY",
        "GIT_ALLOW_PROTOCOL",
    }
)


# Settings of the repository that would make git answer otherwise than a fresh clone does: the
# user's hooks never fire, and a tracked symlink is checked out as a symlink (with
# `core.symlinks = false` git writes a plain file, and a gate in a temporary worktree would not
# see what the link holds). The executable bit is always seen (`core.fileMode = false` would
# key a script by its committed mode while the tests run it as it is on disk), and neither the
# user's attributes file nor line-ending settings convert what is read or checked out (a clone
# in CI has none of them; GIT_ATTR_NOSYSTEM drops the system's attributes too). Replacement
# objects (`git replace`, which a push does not send) are ignored through
# GIT_NO_REPLACE_OBJECTS: gatekeeper judges the objects a clone gets. Filters the
# configuration defines are switched off where content is read or written (:func:`unfiltered`).
PINNED: Final = (
    *("-c", "core.hooksPath=/dev/null", "-c", "core.symlinks=true"),
    *("-c", "core.fileMode=true", "-c", f"core.attributesFile={os.devnull}"),
    *("-c", "core.autocrlf=false", "-c", "core.eol=native"),
)
_AS_A_CLONE: Final = {"GIT_NO_REPLACE_OBJECTS": "1", "GIT_ATTR_NOSYSTEM": "1"}
# Attributes that change no byte git reads from or writes to the working tree (filters are
# switched off by unfiltered()); any other in the repository's own attributes file may.
_CONTENT_NEUTRAL: Final = frozenset(
    {"diff", "merge", "whitespace", "export-ignore", "export-subst", "delta", "encoding"}
    | {"conflict-marker-size", "filter", "linguist-generated", "linguist-vendored"}
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ``GIT_*`` variables but :data:`TRANSPORT`, plus
    ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in TRANSPORT}
    env.update(extra or {})
    return env


def git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``git args`` in ``cwd``. With ``check``, a non-zero exit raises :class:`GitError`."""
    argv = ["git", *PINNED, *args]
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env={**clean_env(env), **_AS_A_CLONE},
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            # Bytes that are not UTF-8 (a binary file in a `--text` diff, a path in another
            # encoding) are kept as surrogates, as paths are, never a crash mid-parse.
            errors="surrogateescape",
            check=False,
        )
    except OSError as error:
        raise GitError(f"could not run git ({error}); install git 2.38 or newer.") from None
    if check and done.returncode != 0:
        raise GitError(
            f"`{shlex.join(args)}` failed in {cwd} (exit status {done.returncode}): "
            f"{done.stderr.strip() or done.stdout.strip()}"
        )
    return done


def unfiltered(cwd: Path) -> tuple[str, ...]:
    """``-c`` options that switch off every filter driver the configuration of the repository
    at ``cwd`` defines (``filter.<name>.clean``, ``smudge``, ``process``): a clone in CI runs
    none of them, so git then reads and writes the bytes themselves. The names cannot be known
    in advance, hence this look-up."""
    listed = git(cwd, "config", "-z", "--name-only", "--get-regexp", r"^filter\.", check=False)
    names = {
        entry.rpartition(".")[0].removeprefix("filter.")
        for entry in listed.stdout.split("\0")
        if entry.count(".") >= 2
    }
    options: list[str] = []
    for name in sorted(names):
        for key, value in (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")):
            options += ["-c", f"filter.{name}.{key}={value}"]
    return tuple(options)


def local_attributes(cwd: Path) -> tuple[Path, list[str]]:
    """The repository's own attributes file (``info/attributes`` in the common git dir, which
    no clone has and no option turns off) and its lines that may change the bytes of a
    checkout or of what git reads (``text``, ``eol``, ``ident``, ``working-tree-encoding``, a
    macro ...)."""
    found = git(cwd, "rev-parse", "--path-format=absolute", "--git-path", "info/attributes")
    path = Path(found.stdout.strip())
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return path, []
    return path, [line.strip() for line in lines if _changes_content(line)]


def _changes_content(line: str) -> bool:
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return False
    if fields[0].startswith("[attr]"):
        return True  # a macro: what it sets applies wherever it is used
    names = {field.lstrip("-!").partition("=")[0] for field in fields[1:]}
    return not names <= _CONTENT_NEUTRAL


# Attributes that, set, make a checkout write other bytes than the blob holds. A committed
# `.gitattributes` applies in CI too (and to gatekeeper's `git add`), but for its filters,
# which only the user's configuration defines, perhaps where gatekeeper does not look.
_CONVERTING: Final = frozenset({"filter", "text", "crlf", "eol", "ident", "working-tree-encoding"})
_FILTER: Final = frozenset({"filter"})
# Where the user's own git finds configuration that gatekeeper's calls would leave out.
_USER_CONFIG: Final = ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM")
_SYSTEM_ATTRIBUTES: Final = Path("/etc/gitattributes")


def may_convert(worktree: Path, unfiltering: tuple[str, ...]) -> bool:
    """Whether the user's own git may have checked out files of ``worktree`` as other bytes
    than a clone in CI gets: a filter is defined or named by a ``.gitattributes`` in the tree,
    ``core.autocrlf`` is on, or an attributes file of the repository, the user or the system
    sets an attribute that converts. Then a file's stat data cannot tell its blob from its
    bytes on disk. ``unfiltering`` is :func:`unfiltered`'s answer. Raises :class:`GitError`
    when git cannot tell."""
    if unfiltering:
        return True
    configured = _user_settings(worktree)  # git's configuration, not gatekeeper's settings
    if configured.get("core.autocrlf", "false").lower() not in {"false", "no", "off", "0"}:
        return True
    local = [local_attributes(worktree)[0], _SYSTEM_ATTRIBUTES, _user_attributes(configured)]
    if any(_sets(path, _CONVERTING) for path in local):
        return True
    listed = git(
        worktree,
        *("ls-files", "-z", "--cached", "--others", "--exclude-standard"),
        *("--", ":(top,glob)**/.gitattributes"),
    )
    # Named relative to ``worktree`` (`../` included), so read from there.
    return any(_sets(worktree / name, _FILTER) for name in listed.stdout.split("\0") if name)


def _user_settings(worktree: Path) -> dict[str, str]:
    """``core.autocrlf`` and ``core.attributesFile`` as the user's own git reads them (not as
    :data:`PINNED` overrides them), keys in lower case."""
    user = {name: os.environ[name] for name in _USER_CONFIG if name in os.environ}
    pattern = r"^core\.(autocrlf|attributesfile)$"
    found = git(
        worktree, "config", "-z", "--show-scope", "--get-regexp", pattern, env=user, check=False
    )
    fields = found.stdout.split("\0")
    settings = {}
    for scope, entry in zip(fields[::2], fields[1::2], strict=False):
        key, _, value = entry.partition("\n")
        if scope != "command":
            settings[key.lower()] = value
    return settings


def _user_attributes(settings: Mapping[str, str]) -> Path:
    """The user's attributes file: ``core.attributesFile``, else git's default place."""
    if "core.attributesfile" in settings:
        return Path(settings["core.attributesfile"]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(config) / "git" / "attributes"


def _sets(path: Path, names: frozenset[str]) -> bool:
    """Whether the attributes file at ``path`` sets (or defines a macro setting) any of
    ``names``."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False  # none there: nothing converts
    for line in lines:
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            found = {field.partition("=")[0] for field in fields[1:] if field[:1] not in "-!"}
            if found & names:
                return True
    return False


def output(cwd: Path, *args: str) -> str | None:
    """The stripped output of a git command, or None when it fails (or git is missing)."""
    try:
        done = git(cwd, *args, check=False)
    except GitError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def ls_files(cwd: Path, *args: str) -> list[str] | None:
    """The NUL-separated entries of ``git ls-files -z args`` in ``cwd``; None when git fails
    (or is missing)."""
    try:
        done = git(cwd, "ls-files", "-z", *args, check=False)
    except GitError:
        return None
    return [entry for entry in done.stdout.split("\0") if entry] if done.returncode == 0 else None


def ignored(worktree: Path) -> list[str]:
    """The untracked paths git ignores in ``worktree`` (POSIX, relative), a wholly ignored folder
    as one entry ending in ``/``. Raises :class:`GitError` when git fails."""
    listed = git(
        worktree, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"
    )
    return [entry for entry in listed.stdout.split("\0") if entry]


def worktree_root(start: Path) -> Path | None:
    """The top of the git worktree holding ``start``, or None outside git."""
    top = output(start, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def common_dir(start: Path) -> Path | None:
    """The git directory shared by every worktree of the repository (where caches live)."""
    found = output(start, "rev-parse", "--path-format=absolute", "--git-common-dir")
    return Path(found) if found else None


def facts(start: Path) -> GitFacts | None:
    """Root, branch (None when detached) and head commit (None before the first commit)."""
    root = worktree_root(start)
    if root is None:
        return None
    branch = output(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    head = output(root, "rev-parse", "--verify", "--quiet", "HEAD")
    return GitFacts(str(root), branch or None, head or None)


def hidden_from_the_worktree(worktree: Path) -> list[str]:
    """Tracked files git is told not to look at on disk: outside a sparse checkout or marked
    skip-worktree (tag ``S``), or assume-unchanged (a lower-case tag). A tree id counts them as
    committed whatever the disk holds, so a run there judged something else."""
    listed = git(worktree, "ls-files", "-z", "-v", check=False)
    if listed.returncode != 0:
        return []  # not a worktree git can list: the callers' own git calls say why
    hidden = []
    for entry in filter(None, listed.stdout.split("\0")):
        tag, _, path = entry.partition(" ")
        if tag == "S" or tag.islower():
            hidden.append(path)
    return hidden


def worktrees(start: Path) -> list[Path]:
    """The root of every worktree of the repository holding ``start`` (``git worktree list``),
    the main one first; a bare repository's own entry is left out."""
    listed = output(start, "worktree", "list", "--porcelain") or ""
    found = []
    for block in listed.split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("worktree ") and "bare" not in lines:
            found.append(Path(lines[0][len("worktree ") :]))
    return found
