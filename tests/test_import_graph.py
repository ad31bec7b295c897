"""gatekeeper's import graph has no cycle: neither the library nor the pytest adapter.

Every import counts, at module level or inside a function: a lazy import is a dependency all
the same, and a cycle through one (``plugins -> checks.builtin -> checks.evals -> evals.dataset
-> evals.scorers -> plugins``) is how a value module came to build its own plugin manager.
Imports under ``if TYPE_CHECKING:`` never run and do not count; nor do modules named by strings
(the database backends' registry, the ``plugins`` a configuration names).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "gatekeeper": ROOT / "gatekeeper",
    "pytest_gatekeeper": ROOT / "pytest_plugin" / "pytest_gatekeeper",
}
Graph = dict[str, set[str]]


def modules(packages: Mapping[str, Path]) -> dict[str, Path]:
    """Every module of ``packages`` (name: folder) by its dotted name."""
    found = {}
    for package, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def graph(packages: Mapping[str, Path], *, typing: bool = False) -> Graph:
    """Which of the modules each module imports, anywhere in its code; with ``typing``, under
    ``if TYPE_CHECKING:`` too."""
    known = modules(packages)
    return {name: _imports(name, path, set(known), typing) for name, path in known.items()}


def _imports(name: str, path: Path, known: set[str], typing: bool) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree) if typing else _run_time_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            # `from pkg import mod` imports the module pkg.mod; `from mod import name`, mod.
            found.update(
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            )
    return found & known


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def _run_time_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except what is under ``if TYPE_CHECKING:`` (its ``else`` runs)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and _type_checking(child.test):
            for branch in child.orelse:
                yield branch
                yield from _run_time_nodes(branch)
            continue
        yield child
        yield from _run_time_nodes(child)


def _type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def cycles(edges: Graph) -> list[list[str]]:
    """One shortest cycle through each strongly connected part of ``edges``, as a path that
    starts and ends at the part's first module by name."""
    return [_shortest_cycle(sorted(part)[0], part, edges) for part in _strong_parts(edges)]


def _strong_parts(edges: Graph) -> list[set[str]]:
    """The strongly connected parts with a cycle (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    parts: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part: set[str] = set()
            while not part or node not in part:
                part.add(stack.pop())
            if len(part) > 1 or node in edges[node]:
                parts.append(part)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return parts


def _shortest_cycle(start: str, part: set[str], edges: Graph) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(edges[node] & part):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"{start} is in a strongly connected part but on no cycle")


def test_gatekeeper_imports_no_module_that_imports_it_back() -> None:
    found = cycles(graph(PACKAGES))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_walk_counts_imports_inside_functions() -> None:
    edges = graph(PACKAGES)
    # The adapter imports its session only when --gatekeeper asks for it, inside a function.
    assert "pytest_gatekeeper.session" in edges["pytest_gatekeeper.plugin"]
    assert "gatekeeper.checks.builtin" in edges["gatekeeper.plugins"]


CYCLE = {
    "__init__.py": "",
    "a.py": "from pkg import b\n",
    "b.py": "def later() -> None:\n    from . import c\n",
    "c.py": "def later() -> None:\n    from pkg.a import value\n",
    "d.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg import a\n",
    "e.py": "from pkg import d\n",
}


def test_a_cycle_through_lazy_imports_is_found_and_type_only_imports_are_not(
    tmp_path: Path,
) -> None:
    for name, text in CYCLE.items():
        (tmp_path / name).write_text(text)
    edges = graph({"pkg": tmp_path})
    assert edges["pkg.d"] == set()
    assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_type_only_imports_count_only_when_asked(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("")
    (package / "high.py").write_text("")
    (package / "uses.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg import high\n"
        "else:\n    from pkg import low\n"
    )

    assert graph({"pkg": package})["pkg.uses"] == {"pkg.low"}
    assert graph({"pkg": package}, typing=True)["pkg.uses"] == {"pkg.low", "pkg.high"}
