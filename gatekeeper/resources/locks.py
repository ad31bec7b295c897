"""Host-wide lock files held with ``flock``: the kernel drops a lock when its holder dies, so a
lock that can be taken means its previous holder is gone (unlike files created with O_EXCL).

Every lock file may carry a small JSON record saying who holds (or reserved) it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
import time
from pathlib import Path

from gatekeeper.errors import GatekeeperError

STATE_ENV = "GATEKEEPER_STATE_DIR"


class ResourceError(GatekeeperError):
    """A port, database or temp dir could not be reserved, created or removed."""


def state_dir() -> Path:
    """Where gatekeeper keeps lock files and copies: ``$GATEKEEPER_STATE_DIR``, else
    ``<tmp>/gatekeeper-<uid>``. Created private to the user on first use."""
    configured = os.environ.get(STATE_ENV)
    base = Path(configured or Path(tempfile.gettempdir()) / f"gatekeeper-{os.getuid()}")
    return private_dir(base, "state directory", STATE_ENV)


def private_dir(base: Path, what: str, variable: str) -> Path:
    """``base`` (gatekeeper's ``what``), as :func:`private_directory` makes and checks it; a
    refusal names ``variable``, the setting that chose it."""
    return private_directory(
        base, f"gatekeeper's {what}", f"Or set {variable} to a directory of your own."
    )


def private_directory(path: Path, what: str, remedy: str) -> Path:
    """``path``, created if missing (mode 0700), after checking that only this user can change
    it: a real directory (not a symbolic link), owned by this user, not writable by group or
    others. Raises :class:`ResourceError` naming ``what``, ending with ``remedy``, otherwise.

    As pytest does for its temp root: in a folder another user owns or may write to, lock files,
    copies and worktrees could be planted or swapped, so such a folder is never used. ``lstat``,
    never ``stat``: a link another user planted in a shared temp dir may point at a folder of
    ours, and following it would hand them the choice of where we write.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = path.lstat()
    except OSError as error:
        raise ResourceError(
            f"cannot create {what} {path} ({error.strerror or error}); make its parent "
            f"writable. {remedy}"
        ) from None
    if not stat.S_ISDIR(found.st_mode):  # lstat: a link to a directory is not one
        raise ResourceError(
            f"{what} {path} is a symbolic link or not a directory; gatekeeper uses only a real "
            f"directory there, since a link could send what it writes anywhere. Remove it. {remedy}"
        )
    if found.st_uid != os.getuid() or found.st_mode & 0o022:
        raise ResourceError(
            f"{what} {path} is owned by uid {found.st_uid} with mode "
            f"{stat.S_IMODE(found.st_mode):o}; it must be owned by uid {os.getuid()} and not "
            f"writable by group or others. Fix it (chmod go-w). {remedy}"
        )
    return path


def due(stamp: Path, every: float) -> bool:
    """Whether a chore recorded by the file ``stamp`` is due (its last run is at least ``every``
    seconds ago, or unknown); marks it done. A stamp that cannot be read or written: not due."""
    try:
        if time.time() - stamp.stat().st_mtime < every:
            return False
    except FileNotFoundError:
        pass
    except OSError:
        return False
    with contextlib.suppress(OSError):
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    return True


class Held:
    """An exclusive ``flock`` on ``path``, held until :meth:`release` or the process ends."""

    __slots__ = ("fd", "path")

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    def read(self) -> dict[str, object]:
        """The record in the file (empty when there is none or it is unreadable)."""
        return parse_record(os.pread(self.fd, 1 << 16, 0))

    def write(self, record: dict[str, object]) -> None:
        """Replace the file's record."""
        data = json.dumps(record, sort_keys=True).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def release(self) -> None:
        """Give the lock up; the file and its record stay."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def remove(self) -> None:
        """Delete the file while still holding it, then give the lock up."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.release()


def parse_record(data: bytes) -> dict[str, object]:
    """A lock file's JSON record; anything else reads as empty."""
    try:
        record = json.loads(data.decode() or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def acquire(path: Path, *, wait: bool = False) -> Held | None:
    """Lock ``path`` (created if missing). Without ``wait``, None when another process holds it.

    A file deleted by its holder between our open and our lock is retried, so two processes can
    never both hold "the" lock of one path.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        if _same_file(fd, path):
            return Held(path, fd)
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def is_held(path: Path) -> bool:
    """Whether a live process holds the lock on ``path`` (False when the file is missing).

    It never creates the file it probes, and a file it may not open (another user's) counts as
    held: what cannot be checked is never treated as abandoned.
    """
    try:
        return probe(path) is True
    except OSError:
        return True


def probe(path: Path) -> bool | None:
    """Whether a live process holds the lock on ``path``; None when the file is missing.

    Unlike :func:`is_held` it never creates the file or its folder (the path may be in another
    process's state dir), and it takes only a shared lock, so sweepers probing at once do not
    mistake each other for the holder. ``OSError`` (e.g. no permission) propagates.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        # Deleted between our open and our lock: we locked an orphan, the path is missing.
        return False if _same_file(fd, path) else None
    finally:
        os.close(fd)


def read_record(path: Path) -> dict[str, object]:
    """The record of a lock file without locking it (empty when missing)."""
    try:
        return parse_record(path.read_bytes())
    except OSError:
        return {}
