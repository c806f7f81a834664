"""The import graph of src/amtslotse stays in the open (issue 10, move 3).

Parses every module with `ast` (no import is executed; imports inside functions count like
those at the top) and fails on
- a cycle between modules (`a` imports `b` imports ... `a`);
- a cycle between packages (the first level below `amtslotse`: `ask`, `inbox`, `tenants`, ...);
- an import of a private name (`_x`) from another package, or an attribute `_x` read from a
  module of another package (`guard._fix_typos`): give it a public name instead;
- an amtslotse import inside a function outside `cli/` (a hidden dependency: move it to the
  top; lazy imports of heavy third-party modules are fine and not counted here).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
ROOT = "amtslotse"

KNOWN_PACKAGE_CYCLES: frozenset[frozenset[str]] = frozenset()
"""Package cycles another branch removes, each named with that branch (none today)."""

KNOWN_MODULE_CYCLES: frozenset[frozenset[str]] = frozenset()
"""Module cycles another branch removes, each named with that branch (none today)."""

LAZY_ALLOWED_UNDER = ("cli",)
"""Packages whose functions may import amtslotse modules (CLI start-up time: a command loads
only what it runs)."""

LAZY_ALLOWED: dict[tuple[str, str], str] = {
    ("amtslotse.store", "amtslotse.store.postgres"): "psycopg and pgvector load only for a PostgreSQL URL",
    ("amtslotse.llm.registry", "amtslotse.llm.openai_compatible"): "the HTTP client loads only when the provider is used",
}
"""(importer, imported module) pairs that stay inside a function, with the reason: a deliberate
lazy load of a heavy third-party module behind an amtslotse module."""


@dataclass(frozen=True)
class Import:
    importer: str  # the importing module
    target: str  # the imported module (a submodule when `from package import submodule`)
    name: str | None  # the name taken from it (`from target import name`), None for the module itself
    line: int
    inside_function: bool


@cache
def _tree(path: Path) -> ast.Module:
    """Each file is parsed once per test session."""
    return ast.parse(path.read_text(encoding="utf-8"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


def package_of(module: str) -> str:
    """`amtslotse.ask.pipeline` -> `ask`; `amtslotse.tenants` -> `tenants`; `amtslotse` -> `amtslotse`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _function_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    return inside


def imports_of(module: str, path: Path, known: Iterable[str]) -> Iterator[Import]:
    known = set(known)
    tree = _tree(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    inside = _function_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT:
                    yield Import(module, alias.name, None, node.lineno, id(node) in inside)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != ROOT:
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in known:
                    yield Import(module, submodule, None, node.lineno, id(node) in inside)
                else:
                    yield Import(module, target, alias.name, node.lineno, id(node) in inside)


def all_imports() -> list[Import]:
    found = modules()
    return [imp for module, path in found.items() for imp in imports_of(module, path, found)]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    nodes = set(graph) | {t for targets in graph.values() for t in targets}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def module_graph(imports: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != imp.importer:
            graph.setdefault(imp.importer, set()).add(imp.target)
    return graph


def package_graph(imports: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for imp in imports:
        source, target = package_of(imp.importer), package_of(imp.target)
        if source != target and ROOT not in (source, target):
            graph.setdefault(source, set()).add(target)
    return graph


def private_uses(imports: list[Import]) -> list[str]:
    """`from <other package> import _x`, `import <other package>._x`, and `module._x` read from a
    module of another package that was imported under a name."""
    found = []
    for imp in imports:
        if package_of(imp.importer) == package_of(imp.target):
            continue
        private_module = any(part.startswith("_") and part != "__init__" for part in imp.target.split("."))
        if private_module or (imp.name and imp.name.startswith("_")):
            found.append(f"{imp.importer}:{imp.line} imports {imp.target}.{imp.name or ''}".rstrip("."))
    known = modules()
    for module, path in known.items():
        tree = _tree(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        bound: dict[str, str] = {}  # local name -> module of another package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    if f"{target}.{alias.name}" in known and package_of(target) != package_of(module):
                        bound[alias.asname or alias.name] = f"{target}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in known and package_of(alias.name) != package_of(module):
                        bound[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append(f"{module}:{node.lineno} reads {bound[node.value.id]}.{node.attr}")
    return found


def test_no_module_cycles() -> None:
    found = [c for c in cycles(module_graph(all_imports())) if frozenset(c) not in KNOWN_MODULE_CYCLES]
    assert found == []


def test_no_package_cycles() -> None:
    found = [c for c in cycles(package_graph(all_imports())) if frozenset(c) not in KNOWN_PACKAGE_CYCLES]
    assert found == []


def test_no_private_names_across_packages() -> None:
    assert private_uses(all_imports()) == []


def test_internal_imports_at_module_top() -> None:
    hidden = [f"{i.importer}:{i.line} imports {i.target}" for i in all_imports()
              if i.inside_function and package_of(i.importer) not in LAZY_ALLOWED_UNDER
              and (i.importer, i.target) not in LAZY_ALLOWED]
    assert hidden == []


def test_the_checks_see_what_they_look_for() -> None:
    """The graph code itself: a cycle, a private name and a relative import are found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    imports = all_imports()
    assert any(i.importer == "amtslotse.ask.pipeline" and i.target.startswith("amtslotse.ask.") for i in imports)
    assert package_of("amtslotse.ask.pipeline") == "ask" and package_of("amtslotse.tenants") == "tenants"
    fake = [Import("amtslotse.inbox.mail", "amtslotse.knowledge.loaders", "_read_html", 1, False)]
    assert package_graph(fake) == {"inbox": {"knowledge"}}
