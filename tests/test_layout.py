"""docs/architecture.md's layout matches the code: every package it names exists, every part of
gatekeeper is named, and the import rules it states hold."""

from __future__ import annotations

import re

from tests.test_import_graph import PACKAGES, ROOT, graph, modules

PAGE = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\| (adapter|gate|part|foundation) \| `([\w.]+)` \|", re.M)


def _layout() -> dict[str, str]:
    """Each name in the layout table, with its layer."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return {name: layer for layer, name in ROW.findall(section)}


def _unit(module: str, named: dict[str, str]) -> str | None:
    """The name in the table that ``module`` belongs to (itself or its package)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in named:
            return candidate
    return None


def test_every_name_in_the_layout_exists_and_every_part_is_named() -> None:
    named = _layout()
    known = modules(PACKAGES)
    assert set(named) - set(known) == set()
    top = {name.split(".")[1] for name in known if name.startswith("gatekeeper.")}
    assert {f"gatekeeper.{t}" for t in top} - set(named) == set()


def test_the_import_rules_of_the_layout_hold() -> None:
    named = _layout()
    imports = graph(PACKAGES)
    broken = []
    for module, targets in imports.items():
        unit = _unit(module, named)
        for target in targets:
            to = _unit(target, named)
            if unit is None or to is None or unit == to:
                continue
            if named[unit] == "foundation" and named[to] != "foundation":
                broken.append(f"{module} -> {target}: the foundation imports only the foundation")
            if to == "gatekeeper.commands" and unit != "gatekeeper.cli":
                broken.append(f"{module} -> {target}: only the cli imports the commands")
            if to == "gatekeeper.cli" and unit != "gatekeeper.__main__":
                broken.append(f"{module} -> {target}: only __main__ imports the cli")
            if to == "pytest_gatekeeper" and unit != "pytest_gatekeeper":
                broken.append(f"{module} -> {target}: nothing below imports the pytest adapter")
            if unit == "pytest_gatekeeper" and to in ("gatekeeper.commands", "gatekeeper.cli"):
                broken.append(f"{module} -> {target}: the adapters never import each other")
    assert broken == []
