"""What a shard ran under besides the content and the configuration, which every shard of one
gate must share: its pytest arguments, the git-ignored files in its checkout, the installed
distributions, and the parameters behind its collected test ids.

Each is recorded in the manifest and compared by ``gatekeeper combine``
(gatekeeper/shard/combine.py): shards that differ in any could give another verdict than one
unsharded run, so they are refused. Paths inside the project are written relative to its root
(``<root>``), so checkouts at other paths agree.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from gatekeeper.cache import environment, inputs

ROOT: Final = "<root>"
# Options that cannot change an outcome, left out of the comparison: how many processes and how
# they share the tests, how much is printed, whether the result cache is used. With a value:
VALUED: Final = frozenset({"--gatekeeper-shard", "-n", "--numprocesses", "--dist"})
FLAGS: Final = frozenset({"-q", "--quiet", "-v", "--verbose", "--gatekeeper-no-cache"})
_VERBOSITY: Final = re.compile(r"-(q+|v+)")
_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]+")


def arguments(args: Sequence[str], addopts: str, root: Path) -> tuple[str, ...]:
    """The pytest arguments that can change an outcome: ``PYTEST_ADDOPTS``'s words (``addopts``)
    then the command line's (``args``), as pytest reads them, the exempt options
    (:data:`VALUED`, :data:`FLAGS`) left out. A value that cannot be split is kept whole."""
    try:
        words = [*shlex.split(addopts), *args]
    except ValueError:
        words = [addopts, *args]
    return tuple(_relative(word, root) for word in _kept(words))


def _kept(words: Sequence[str]) -> list[str]:
    kept: list[str] = []
    value_next = False  # the word is the value of an exempt option
    for word in words:
        if not (value_next or word in VALUED or _exempt(word)):
            kept.append(word)
        value_next = not value_next and word in VALUED
    return kept


def _exempt(word: str) -> bool:
    """An exempt option with its value in the same word, or one without a value."""
    if word in FLAGS or _VERBOSITY.fullmatch(word):
        return True
    if word.split("=", 1)[0] in VALUED and "=" in word:
        return True
    return word.startswith("-n") and not word.startswith("--") and len(word) > 2  # -n2, -nauto


def parameters(params: str, root: Path) -> str:
    """A digest of a collected item's parameters (the ``repr`` of its callspec's params):
    memory addresses scrubbed, paths inside the project relative to its ``root``."""
    text = _relative(_ADDRESS.sub("0x?", params), root)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def ignored(worktree: Path, scanned: inputs.Inputs | None = None) -> str | None:
    """A digest of the git-ignored files the run could read (``""``: none; None: they could
    not be keyed), as the result cache computes it (:mod:`gatekeeper.cache.inputs`);
    ``scanned`` when the cache has scanned them already."""
    found = scanned if scanned is not None and scanned.digest is not None else None
    return (found or inputs.scan(worktree)).digest


def installed(worktree: Path) -> str:
    """A digest of every installed distribution's name and version (never the environment
    variables, which differ from one runner to the next)."""
    found = environment.distributions(environment.worktree_roots(worktree))
    return hashlib.sha256(json.dumps(found).encode()).hexdigest()


def _relative(text: str, root: Path) -> str:
    return text.replace(f"{root}/", f"{ROOT}/") if str(root) not in ("", "/") else text
