"""Install and uninstall the pre-push hook in the hooks directory every worktree shares.

An existing pre-push hook is kept as ``pre-push.legacy`` and run before the gate; uninstalling
puts it back. Nothing is ever overwritten silently: a foreign ``pre-push.legacy`` stops the
install. When ``core.hooksPath`` is set the install is refused (as other hook managers do):
that directory usually belongs to another hook manager, often committed for the whole team, and
writing into it would change everybody's hooks; the message says how to chain the gate instead.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gatekeeper import atomic
from gatekeeper.errors import GitError, UsageError
from gatekeeper.git import repository

HOOK: Final = "pre-push"
LEGACY: Final = "pre-push.legacy"
MARKER: Final = "# installed by: gatekeeper hook install"

SCRIPT: Final = """\
#!/bin/sh
{marker}
# The quality gate for every pushed ref. Remove with `gatekeeper hook uninstall`.
# Emergency bypass: GATEKEEPER_SKIP=1 git push ... (or git push --no-verify); CI still gates.
# -P: git runs hooks from the worktree's root, whose own gatekeeper.py must not shadow the gate.
PYTHON={python}
if [ -x "$PYTHON" ]; then
    exec "$PYTHON" -P -m gatekeeper hook run --hook-dir "$(dirname -- "$0")" -- "$@"
elif command -v gatekeeper >/dev/null 2>&1; then
    exec gatekeeper hook run --hook-dir "$(dirname -- "$0")" -- "$@"
fi
if [ "${{GATEKEEPER_SKIP:-}}" = "1" ]; then
    exit 0
fi
echo "gatekeeper: $PYTHON is gone and no gatekeeper is on PATH; reinstall with" >&2
echo "  gatekeeper hook install   (or bypass once with GATEKEEPER_SKIP=1)" >&2
exit 1
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an install or uninstall did, in one sentence for the user."""

    hook: Path
    message: str


def hooks_dir(start: Path) -> Path:
    """The shared hooks directory of the repository around ``start``.

    Raises :class:`UsageError` outside git and when ``core.hooksPath`` is set (see the module).
    """
    common = repository.common_dir(start)
    if common is None:
        raise UsageError(f"{start} is not inside a git repository; run this in your project.")
    configured = hooks_path_setting(start)
    if configured is not None:
        raise UsageError(
            f"git config core.hooksPath is set to {configured!r}, so git does not run hooks from "
            f"{common / 'hooks'} and another hook manager probably owns {configured!r}. "
            "gatekeeper will not write there. Either add the line "
            '`gatekeeper hook run -- "$@"` to that pre-push hook (or use the pre-commit hook '
            "`gatekeeper` at the pre-push stage), or run `git config --unset core.hooksPath` "
            "and install again."
        )
    return common / "hooks"


def hooks_path_setting(start: Path) -> str | None:
    """``core.hooksPath`` as the user configured it (gatekeeper's own override ignored)."""
    done = repository.git(
        start, "config", "--show-scope", "--get-all", "core.hooksPath", check=False
    )
    values = [
        line.split("\t", 1)[1]
        for line in done.stdout.splitlines()
        if "\t" in line and not line.startswith("command\t")
    ]
    return values[-1] if values else None


def script(python: str = sys.executable) -> str:
    """The hook script, calling gatekeeper through ``python`` (the installing interpreter)."""
    return SCRIPT.format(marker=MARKER, python=shlex.quote(python))


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a hook gatekeeper installed."""
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def install(start: Path) -> Outcome:
    """Install the pre-push hook; keep an existing foreign one as ``pre-push.legacy``."""
    directory = hooks_dir(start)
    hook, legacy = directory / HOOK, directory / LEGACY
    kept = _replacing(hook)
    if _present(hook) and not is_ours(hook):
        if _present(legacy):
            raise UsageError(
                f"{hook} exists and so does {legacy}; gatekeeper will not overwrite either. "
                f"Merge them by hand or remove one, then run `gatekeeper hook install` again."
            )
        hook.replace(legacy)
        kept = f"; the existing hook was kept as {legacy.name} and runs first"
    _write_executable(hook, script())
    return Outcome(hook, f"installed the gatekeeper pre-push hook in {hook}{kept}")


def _replacing(hook: Path) -> str:
    """A note when ``hook`` is gatekeeper's, installed for another interpreter: the hooks
    directory is shared, so an install from another worktree's environment changes what every
    worktree's pushes run."""
    if not is_ours(hook):
        return ""
    found = [
        line for line in hook.read_text(encoding="utf-8").splitlines() if line.startswith("PYTHON=")
    ]
    words = shlex.split(found[0].removeprefix("PYTHON=")) if found else []
    earlier = words[0] if words else ""
    if earlier in ("", sys.executable):
        return ""
    return (
        f"; it replaced the hook installed for {earlier}: pushes from every worktree now run the "
        f"gate with {sys.executable}"
    )


def _present(path: Path) -> bool:
    """A file or a link, even a link to nothing yet (a hook kept in a repo script)."""
    return path.exists() or path.is_symlink()


def uninstall(start: Path) -> Outcome:
    """Remove gatekeeper's pre-push hook and put a kept ``pre-push.legacy`` back."""
    directory = hooks_dir(start)
    hook, legacy = directory / HOOK, directory / LEGACY
    if not _present(hook):
        if _present(legacy):
            legacy.replace(hook)  # our hook is gone already: put the kept one back anyway
            return Outcome(hook, f"restored the earlier {hook} from {legacy.name}")
        return Outcome(hook, f"no pre-push hook in {directory}; nothing to uninstall")
    if not is_ours(hook):
        raise UsageError(f"{hook} was not installed by gatekeeper; it was left alone.")
    hook.unlink()
    if _present(legacy):
        legacy.replace(hook)
        return Outcome(hook, f"removed the gatekeeper hook and restored the earlier {hook}")
    return Outcome(hook, f"removed the gatekeeper hook {hook}")


def _write_executable(path: Path, text: str) -> None:
    """Write atomically and mark executable, so git never runs half a hook."""
    try:
        atomic.write_text(path, text, mode=0o755)
    except OSError as error:
        raise GitError(f"could not write the hook {path}: {error}") from None
