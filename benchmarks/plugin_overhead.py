"""What plain ``pytest`` pays for pytest-gatekeeper being installed (it should pay nothing
measurable).

Two comparisons on a small real project's suite, alternating the variants, median ratios:

1. our plugin: loaded (as installed) against blocked with ``-p no:gatekeeper``;
2. installing the package: the pytest plugins that installing pytest-gatekeeper brings into an
   environment (ours, and any of its dependencies'), loaded or all blocked, with every other
   installed plugin blocked in all variants; once for the core install and once with the
   ``github`` and ``neon`` extras (httpx, which brings anyio's plugin).

    python benchmarks/plugin_overhead.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from timing import compare, summarise

from gatekeeper.extras import installed_closure

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds git

from tests.conftest import git

TESTS = "".join(f"def test_{i}() -> None:\n    assert {i} + 1 == {i + 1}\n\n\n" for i in range(50))
DISTRIBUTION = "pytest-gatekeeper"
EXTRAS = frozenset({"github", "neon"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("[project]\nname = 'bench'\nversion = '0'\n")
        (root / "test_many.py").write_text(TESTS)
        git(root, "init", "-q")
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        times = compare(
            {"plugin installed": pytest, "plugin blocked": [*pytest, "-p", "no:gatekeeper"]},
            root,
            args.repeats,
        )
        print(summarise(times, "plugin blocked"))
        print()
        print(installing(pytest, root, args.repeats))


def installing(pytest: list[str], root: Path, repeats: int) -> str:
    """The second comparison: the plugins the package brings, as the core and with extras."""
    core = brought(frozenset())
    extras = brought(EXTRAS)
    others = installed_plugins() - extras
    without = [*pytest, *blocked(others | extras)]
    variants = {
        "not installed": without,
        "core install": [*pytest, *blocked(others | (extras - core))],
        "with github,neon extras": [*pytest, *blocked(others)],
    }
    times = compare(variants, root, repeats)
    lines = [
        f"plugins brought by the core install: {', '.join(sorted(core)) or 'none'}",
        f"plugins brought with the extras:     {', '.join(sorted(extras)) or 'none'}",
        summarise(times, "not installed"),
    ]
    return "\n".join(lines)


def blocked(names: Iterable[str]) -> list[str]:
    return [argument for name in sorted(names) for argument in ("-p", f"no:{name}")]


def installed_plugins() -> set[str]:
    """Every ``pytest11`` entry point installed in this environment, by name."""
    return {
        entry.name
        for distribution in metadata.distributions()
        for entry in distribution.entry_points
        if entry.group == "pytest11"
    }


def brought(extras: frozenset[str]) -> set[str]:
    """The ``pytest11`` entry points of pytest-gatekeeper (with ``extras``) and of every
    distribution it requires, recursively."""
    return {
        entry.name
        for distribution in installed_closure(DISTRIBUTION, extras)
        for entry in distribution.entry_points
        if entry.group == "pytest11"
    }


if __name__ == "__main__":
    main()
