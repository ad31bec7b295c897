"""The code under test is the gated tree's own: its import roots go first, and are verified.

A temporary worktree is gated with the user's interpreter, whose environment may already import
the project from elsewhere: an editable install (a ``.pth`` path or an import hook) points at
the checkout it was made from, so a ``src/`` layout's tests would import that checkout's
modules, and the pushed or merged code would never run. The gate child therefore gets the
tree's import roots (the folders holding its top-level packages: ``src/`` for a ``src/``
layout) first on ``PYTHONPATH``, which Python searches before any installed path or appended
import hook. Only the roots of packages the environment already provides (importable without
them: installed, or editable from some checkout) go there: a project nothing installs is not
importable in a clean clone in CI (``gatekeeper run`` runs ``python -P``), and a root on
``PYTHONPATH`` would make its tests pass in the temporary worktree alone. Before the gate
starts, an interpreter with exactly the child's environment says where each of the project's
packages would come from; one that resolves outside the tree fails the gate with an
explanation rather than judge other code.

The roots are also named in :data:`ENV`, so the result cache can tell them from a user's own
``PYTHONPATH``: they point into the tree, which the cache key holds already.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final

from gatekeeper import config as configuration
from gatekeeper.errors import ConfigError
from gatekeeper.git import repository
from gatekeeper.project.paths import SKIP_DIRS, detect_source_paths, is_environment

ENV: Final = "GATEKEEPER_IMPORT_ROOTS"
# Where each name would be imported from, in an interpreter started as `python -m` would be
# (the working directory first, unless PYTHONSAFEPATH), without running any of the modules.
# Run with -P, so the stdlib modules it needs cannot come from the tree itself.
_PROBE: Final = """\
import importlib.util, json, os, sys
if not os.environ.get("PYTHONSAFEPATH"):
    sys.path.insert(0, os.getcwd())
found = {}
for name in sys.argv[1:]:
    module = sys.modules.get(name)
    if module is not None:
        places = list(getattr(module, "__path__", None) or [getattr(module, "__file__", None)])
    else:
        spec = importlib.util.find_spec(name)
        places = [] if spec is None else list(spec.submodule_search_locations or [spec.origin])
    found[name] = [str(place) for place in places if place]
print(json.dumps(found))
"""
# Which of the names the environment provides by itself: importable with -P (no working
# directory), without the tree's roots. Finding a submodule imports its parent package.
_PROVIDED: Final = """\
import importlib.util, json, sys
found = []
for name in sys.argv[1:]:
    try:
        if importlib.util.find_spec(name) is not None:
            found.append(name)
    except Exception:
        pass
print(json.dumps(found))
"""


def packages(tree: Path) -> dict[str, Path]:
    """The project's top-level packages and modules in ``tree``, each with its import root.

    From ``paths`` in the tree's ``[tool.gatekeeper]`` (a package folder, a module, or a folder
    of packages such as ``src``), else as the gate detects its source paths. A ``src/`` folder
    is a root whenever it holds Python packages, named or not. A namespace package (a folder
    without ``__init__.py``) is named by the packages and modules it holds (``nsx.pkg``): its
    own name resolves to every checkout that has a portion of it, theirs to one place.
    """
    found: dict[str, Path] = {}
    for entry in _source_paths(tree):
        found.update(_importable(tree, tree / entry))
    src = tree / "src"
    if src.is_dir() and not (src / "__init__.py").is_file():
        found.update(_contents(src, (), src))
    return found


def _source_paths(tree: Path) -> list[str]:
    try:
        raw, _ = configuration.read_pyproject(tree)
    except ConfigError:
        raw = {}  # the gate reports the broken file itself
    configured = configuration.written(raw, "paths")
    if isinstance(configured, list) and configured:
        return [str(p) for p in configured]
    return detect_source_paths(tree)


def _importable(tree: Path, path: Path) -> Iterator[tuple[str, Path]]:
    src = tree / "src"
    if path != src and path.is_relative_to(src) and not (src / "__init__.py").is_file():
        # In a src/ layout the names count from src/, through namespace packages.
        parts = path.relative_to(src).with_suffix("").parts
        if _is_module(path):
            yield ".".join(parts), src
        elif path.is_dir():
            yield from _contents(path, parts, src)
    elif _is_module(path):
        yield path.stem if path.is_file() else path.name, path.parent
    elif path.is_dir() and path.resolve() != tree.resolve():
        yield from _contents(path, (), path)


def _is_module(path: Path) -> bool:
    """A regular package folder, or a ``.py`` file."""
    return (path / "__init__.py").is_file() or (path.suffix == ".py" and path.is_file())


def _contents(folder: Path, prefix: tuple[str, ...], root: Path) -> Iterator[tuple[str, Path]]:
    """The packages in ``folder`` (a folder of packages when ``prefix`` is empty, else the
    namespace package ``prefix``), each by its dotted name from ``root``: regular packages, the
    modules of a namespace package, and what the namespace packages in it hold."""
    for child in sorted(folder.iterdir()):
        name = child.stem if child.is_file() else child.name
        if not name.isidentifier() or child.name in SKIP_DIRS:
            continue
        parts = (*prefix, name)
        if (child / "__init__.py").is_file() or (prefix and _is_module(child)):
            yield ".".join(parts), root
        elif child.is_dir():
            yield from _contents(child, parts, root)


def environment(env: Mapping[str, str], tree: Path) -> dict[str, str]:
    """``env`` with the import roots of ``tree``'s packages that ``env`` already provides
    (:func:`provided`) first on ``PYTHONPATH``, and named in :data:`ENV` (with those a gate
    around this one put there before)."""
    found = packages(tree)
    ours = provided(tree, env, sorted(found))
    roots = list(dict.fromkeys(str(root) for name, root in found.items() if name in ours))
    if not roots:
        return dict(env)
    given = env.get("PYTHONPATH", "")
    inherited = env.get(ENV, "")
    carried = [inherited] if _after(given, inherited) is not None else []
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([*roots, *([given] if given else [])]),
        ENV: os.pathsep.join([*roots, *carried]),
    }


def provided(tree: Path, env: Mapping[str, str], names: Sequence[str]) -> frozenset[str]:
    """The ``names`` an interpreter with ``env`` imports without the tree's roots (installed,
    or editable from any checkout): the packages whose tree copy must win. When that cannot be
    found out, none: no root is added, and :func:`misplaced` says where the packages resolve."""
    if not names:
        return frozenset()
    found = _run(tree, env, _PROVIDED, names)
    if not isinstance(found, list):
        return frozenset()
    return frozenset(str(name) for name in found) & frozenset(names)


def users_pythonpath(env: Mapping[str, str]) -> str | None:
    """``PYTHONPATH`` without the roots :func:`environment` put in front (None when unset)."""
    value = env.get("PYTHONPATH")
    added = env.get(ENV, "")
    rest = _after(value or "", added)
    if value is None or rest is None:
        return value
    return os.pathsep.join(rest) or None


def _after(value: str, prefix: str) -> list[str] | None:
    """The entries of the path list ``value`` after the entries of ``prefix``; None when
    ``value`` does not start with them (or ``prefix`` is empty)."""
    entries, leading = value.split(os.pathsep), prefix.split(os.pathsep)
    if not prefix or entries[: len(leading)] != leading:
        return None
    return entries[len(leading) :]


def misplaced(tree: Path, env: Mapping[str, str]) -> str | None:
    """Why the gate in ``tree`` would not test the tree's own code (None when it would): a
    package of the project resolving outside ``tree`` in an interpreter with ``env``."""
    customizing = site_customization(tree, env)
    if customizing is not None:
        return customizing
    names = sorted(packages(tree))
    if not names:
        return None
    places = _probe(tree, env, names)
    if isinstance(places, str):
        return places
    inside = tree.resolve()
    outside = {
        name: place
        for name in names
        for place in places.get(name, [])
        if not Path(place).resolve().is_relative_to(inside)
    }
    return _explain(outside, tree) if outside else None


# Modules Python's `site` imports at start-up from anywhere on sys.path, PYTHONPATH included.
SITE_MODULES: Final = ("sitecustomize", "usercustomize")


def site_customization(tree: Path, env: Mapping[str, str]) -> str | None:
    """Why the gate in ``tree`` would import code CI does not (None when it would not): a
    ``sitecustomize`` or ``usercustomize`` module of the tree on an import root that ``env``
    puts on ``PYTHONPATH``. Python imports it at start-up from there, in the gate and in every
    process it starts; a checkout in CI, run from its root, does not."""
    inside = tree.resolve()
    roots = [p for p in env.get(ENV, "").split(os.pathsep) if p]
    for root in (r for r in roots if Path(r).resolve().is_relative_to(inside)):
        for name in SITE_MODULES:
            spec = importlib.machinery.PathFinder.find_spec(name, [root])
            if spec is not None and spec.origin is not None:
                shown = Path(spec.origin).resolve().relative_to(inside).as_posix()
                return (
                    f"the tree holds {shown} on an import root the gate in a temporary "
                    f"worktree puts on PYTHONPATH ({tree}), so Python would import it at "
                    "start-up in that gate and in every process it starts, while a checkout "
                    "in CI, run from its root, does not: the gate would not judge what CI "
                    f"judges; it did not run. Rename {shown} or move it out of the import root."
                )
    return None


def _probe(tree: Path, env: Mapping[str, str], names: Sequence[str]) -> dict[str, list[str]] | str:
    """Where each name resolves, or a sentence saying why that could not be found out."""
    found = _run(tree, env, _PROBE, names)
    if not isinstance(found, dict):
        return (
            f"gatekeeper could not find out where {sys.executable} imports the project's "
            f"packages ({', '.join(names)}) from in the gated tree, so it cannot tell that the "
            "tree's own code would be tested; the gate did not run."
        )
    return {str(k): [str(p) for p in v] for k, v in found.items() if isinstance(v, list)}


def _run(tree: Path, env: Mapping[str, str], script: str, names: Sequence[str]) -> object:
    """What ``script``, run with -P in ``tree`` under ``env`` for ``names``, printed as JSON;
    None when it failed."""
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", script, *names],
            cwd=tree,
            env=dict(env),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=120,
            check=False,
        )
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None


def _explain(outside: Mapping[str, str], tree: Path) -> str:
    shown = ", ".join(f"{name} from {place}" for name, place in sorted(outside.items()))
    return (
        f"the gate would import the project's code from outside the tree being gated ({tree}): "
        f"{shown}. Something in the environment of {sys.executable} puts it ahead of the tree's "
        "own import roots (an import hook or a .pth file that loads it at start-up), so the "
        "gate would test that code, not what is pushed or merged; it did not run. Install the "
        "project in that environment as a plain editable install (`pip install -e .`) or not "
        "at all, or name its package folders in [tool.gatekeeper] paths."
    )


def resolved_outside(tree: Path) -> tuple[str, ...]:
    """The project's packages that this process imported, or would import, from outside
    ``tree`` (an editable install of another checkout, a copy in site-packages).

    Asked once the test session has set ``sys.path`` up: a module already imported counts as
    where it came from; otherwise where the import system would find it now.
    """
    inside = tree.resolve()
    mine = [name for name in sorted(packages(tree)) if not _from_inside(name, inside)]
    return tuple(sorted({*mine, *from_other_checkouts(tree)}))


def from_other_checkouts(tree: Path) -> tuple[str, ...]:
    """Modules this process imported from another worktree of the repository holding ``tree``
    (an editable install of the main checkout, say): code of the project that ``tree`` may not
    even hold any more, such as a package the tree deleted while its tests still import it."""
    inside = tree.resolve()
    others = [root.resolve() for root in repository.worktrees(tree)]
    installed = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    others = [other for other in others if other != inside]
    found = []
    for name, module in list(sys.modules.items()):
        place = _place(module)
        # Neither the tree's own code nor what is installed (a venv inside a checkout).
        if place is None or any(place.is_relative_to(p) for p in (inside, *installed)):
            continue
        if any(place.is_relative_to(other) for other in others):
            found.append(name)
    return tuple(sorted(found))


def _place(module: object) -> Path | None:
    filename = getattr(module, "__file__", None)
    return Path(filename).resolve() if isinstance(filename, str) and filename else None


def _from_inside(name: str, tree: Path) -> bool:
    module = sys.modules.get(name)
    if module is not None:
        places = [getattr(module, "__file__", None), *getattr(module, "__path__", ())]
    else:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return True  # nothing importable under that name: nothing from elsewhere either
        if spec is None:
            return True
        places = [spec.origin, *(spec.submodule_search_locations or ())]
    found = [Path(p).resolve() for p in places if isinstance(p, str) and p not in ("", "built-in")]
    return all(_owned(p, tree) for p in found)


def _owned(place: Path, tree: Path) -> bool:
    """Whether ``place`` is the tree's own code: inside it, and not installed in an environment
    there (a ``.venv`` in the worktree: a plain install of an old version is keyed by its
    version only, whatever the tree's sources say)."""
    if not place.is_relative_to(tree):
        return False
    prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    if any(place.is_relative_to(prefix) for prefix in prefixes if prefix.is_relative_to(tree)):
        return False
    return not any(
        is_environment(folder) for folder in place.parents if folder.is_relative_to(tree)
    )
