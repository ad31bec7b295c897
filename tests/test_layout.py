"""docs/architecture.md's layout matches the code: every package it names exists, every part of
gatekeeper is named with its layer, and the import rules it states hold on the real import graph
(imports inside functions count, and so do those under ``if TYPE_CHECKING:``, but for the one
exception the page states: the types the hook declarations name)."""

from __future__ import annotations

import re

from tests.test_import_graph import PACKAGES, ROOT, Graph, cycles, graph, modules

PAGE = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\| (\d+) \| `([\w.]+)` \|", re.M)
FOUNDATION = 0
ADAPTERS = ("pytest_gatekeeper", ("gatekeeper.__main__", "gatekeeper.cli", "gatekeeper.commands"))
# The one exception to the layers, for type-only imports: the plugin hooks (foundation) declare
# the types of what plugins give (a check, a scorer), which live where those are built.
HOOK_TYPES = frozenset(
    {
        ("gatekeeper.hookspecs", "gatekeeper.checks.base"),
        ("gatekeeper.hookspecs", "gatekeeper.evals.scorers"),
    }
)


def _layout() -> dict[str, int]:
    """Each name in the layout table, with its layer."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return {name: int(layer) for layer, name in ROW.findall(section)}


def _unit(module: str, named: dict[str, int]) -> str | None:
    """The name in the table that ``module`` belongs to (itself or its package)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in named:
            return candidate
    return None


def _edges(imports: Graph, named: dict[str, int]) -> list[tuple[str, str, str, str]]:
    """Each import from one name of the table to another: module, target, their names."""
    found = []
    for module, targets in sorted(imports.items()):
        unit = _unit(module, named)
        for target in sorted(targets):
            to = _unit(target, named)
            if unit is not None and to is not None and unit != to:
                found.append((module, target, unit, to))
    return found


def broken_rules(imports: Graph, named: dict[str, int]) -> list[str]:
    """Every import of ``imports`` that breaks a rule of the layout ``named`` (name: layer)."""
    broken = []
    for module, target, unit, to in _edges(imports, named):
        upward = named[to] > named[unit] or named[to] == named[unit] != FOUNDATION
        if upward:
            broken.append(
                f"{module} -> {target}: layer {named[unit]} ({unit}) imports layer "
                f"{named[to]} ({to}); a layer imports only lower layers"
            )
        pytest_side, cli_side = ADAPTERS
        if {unit, to} & {pytest_side} and {unit, to} & set(cli_side):
            broken.append(f"{module} -> {target}: the adapters never import each other")
    return broken


def package_cycles(imports: Graph, named: dict[str, int]) -> list[list[str]]:
    """The cycles among the names of the table: packages that import each other back."""
    edges: Graph = {name: set() for name in named}
    for _, _, unit, to in _edges(imports, named):
        edges[unit].add(to)
    return cycles(edges)


def test_every_name_in_the_layout_exists_and_every_part_is_named() -> None:
    named = _layout()
    known = modules(PACKAGES)
    assert set(named) - set(known) == set()
    top = {name.split(".")[1] for name in known if name.startswith("gatekeeper.")}
    assert {f"gatekeeper.{t}" for t in top} - set(named) == set()


def test_the_import_rules_of_the_layout_hold() -> None:
    named = _layout()
    imports = graph(PACKAGES)
    assert broken_rules(imports, named) == []
    assert package_cycles(imports, named) == []


def test_type_only_imports_keep_the_layers_but_for_the_hooks_types() -> None:
    named = _layout()
    typed = graph(PACKAGES, typing=True)
    # Each exception is still needed (else it goes), and typed only: never run.
    run_time = graph(PACKAGES)
    for module, target in HOOK_TYPES:
        assert target in typed[module] and target not in run_time[module], (module, target)
        typed[module].discard(target)
    assert broken_rules(typed, named) == []


LAYERS = {"low.a": 0, "low.b": 0, "mid": 1, "top": 2, "pytest_gatekeeper": 3, "gatekeeper.cli": 3}


def test_an_import_of_a_higher_or_the_same_layer_breaks_the_rules() -> None:
    imports: Graph = {
        "low.a": {"low.b"},  # the foundation's modules import each other
        "mid.x": {"low.a", "mid.y"},  # down, and inside its own package
        "mid.y": {"top.z"},  # up: broken
        "top.z": {"mid.x"},
        "pytest_gatekeeper.plugin": {"gatekeeper.cli"},  # one adapter into the other
    }
    assert broken_rules(imports, LAYERS) == [
        "mid.y -> top.z: layer 1 (mid) imports layer 2 (top); a layer imports only lower layers",
        "pytest_gatekeeper.plugin -> gatekeeper.cli: layer 3 (pytest_gatekeeper) imports layer 3 "
        "(gatekeeper.cli); a layer imports only lower layers",
        "pytest_gatekeeper.plugin -> gatekeeper.cli: the adapters never import each other",
    ]
    assert package_cycles(imports, LAYERS) == [["mid", "top", "mid"]]
    del imports["mid.y"], imports["pytest_gatekeeper.plugin"]
    assert broken_rules(imports, LAYERS) == []
    assert package_cycles(imports, LAYERS) == []
