"""Measure the package's structure: the figures issue 16 ("The house") asks for, before and after.

Run ``python tools/structure.py [PACKAGE_DIR]`` (default: ``gitpet``). It reads the source
only (nothing is imported) and prints: modules and lines, the largest module, the longest
function, import circles between the package's modules (counting imports made inside
functions, which only hide a circle), imports made inside functions, and accesses to another
object's private names (``other._name``, not through ``self``/``cls``) and to another module's
private names (``from gitpet._x import _y``).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, package: str) -> list[tuple[str, bool]]:
    """(imported module of the package, whether the import is inside a function)."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                if child.module == package or child.module.startswith(package + "."):
                    found.append((child.module, in_function))
            elif isinstance(child, ast.Import):
                names = [alias.name for alias in child.names if alias.name.startswith(package)]
                found.extend((name, in_function) for name in names)
            visit(child, inner)

    visit(tree, False)
    return [(name, inner) for name, inner in found if name != module]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return result


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "gitpet").resolve()
    package = root.name
    graph: dict[str, set[str]] = defaultdict(set)
    lines: dict[str, int] = {}
    longest: tuple[int, str] = (0, "")
    in_function_imports: list[str] = []
    private_attributes: dict[str, int] = defaultdict(int)
    private_imports: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(root, path)
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        lines[module] = len(source.splitlines())
        for imported, inner in _imports(tree, module, package):
            graph[module].add(imported)
            if inner:
                in_function_imports.append(f"{module} -> {imported}")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                longest = max(longest, (length, f"{module}.{node.name}"))
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    private_attributes[module] += 1
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package):
                private_imports += [
                    f"{module}: {node.module}.{alias.name}" for alias in node.names if _is_private(alias.name)
                ]
    largest = max(lines.items(), key=lambda item: item[1])
    circles = cycles(graph)
    print(f"modules: {len(lines)} ({sum(lines.values())} lines)")
    print(f"largest module: {largest[0]} ({largest[1]} lines)")
    print(f"longest function: {longest[1]} ({longest[0]} lines)")
    print(f"import circles: {len(circles)}")
    for cycle in circles:
        print(f"  {' <-> '.join(cycle)}")
    print(f"imports inside functions: {len(in_function_imports)}")
    print(f"private names of other objects used: {sum(private_attributes.values())}")
    for module, count in sorted(private_attributes.items(), key=lambda item: -item[1])[:8]:
        print(f"  {module}: {count}")
    print(f"private names imported from other modules: {len(private_imports)}")
    for entry in private_imports[:8]:
        print(f"  {entry}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
