"""The package's imports point one way: down the layers of ARCHITECTURE.md, with no circle.

The imports are read from the source (an AST walk, nothing imported), counting
imports made inside functions and under ``TYPE_CHECKING``: both hide a circle
as well as any other import does.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO_ROOT
from tools.structure import cycles

PACKAGE = REPO_ROOT / "gitpet"

# Bottom to top. A module may import from its own layer and the layers below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("gitpet.errors",),
    (
        "gitpet.arguments",
        "gitpet.records",
        "gitpet.rebuild",
        "gitpet.pinned",
        "gitpet.config",
        "gitpet.cache",
        "gitpet.progress",
    ),
    ("gitpet.format",),
    ("gitpet.codec",),
    ("gitpet.git",),
    ("gitpet.store",),
    ("gitpet.pipelines",),
    ("gitpet.trust",),
    ("gitpet.sync", "gitpet.maintenance"),
    ("gitpet.gitstore",),
    ("gitpet.factory",),
    ("gitpet",),
    ("gitpet.cli", "gitpet.__main__", "gitpet.integrations"),
    # Old import paths stored pickles name, kept as aliases of the new places.
    ("gitpet._errors", "gitpet._plugin", "gitpet._factory", "gitpet._container", "gitpet._rebuild"),
)
# The codec turns classes into bytes and back without a store: it reads nothing of git.
CODEC_MAY_IMPORT = (
    "gitpet.errors",
    "gitpet.arguments",
    "gitpet.rebuild",
    "gitpet.pinned",
    "gitpet.cache",
    "gitpet.format",
    "gitpet.codec",
)
CODEC_USERS = ("gitpet.codec", "gitpet.factory", "gitpet", "gitpet.cli")
# Where the private names of other libraries are used, each use explained there: every
# private dulwich name in one adapter; CPython's ABC registry, which no public API lists.
PRIVATE_USE_ADAPTERS = {"gitpet.git.dulwich_private": None, "gitpet.codec.pickler": "abc._get_dump"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The package's modules ``path`` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gitpet":
                # ``from gitpet import x``: x may be a submodule.
                found.update(
                    f"gitpet.{alias.name}"
                    if (PACKAGE / alias.name).exists() or (PACKAGE / f"{alias.name}.py").exists()
                    else "gitpet"
                    for alias in node.names
                )
            elif node.module.startswith("gitpet."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "gitpet")
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import (gitpet imports by full name)")
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        graph[module] = {imported for imported in _imports(path) if imported != module}
    return graph


def _layer_of(module: str) -> int:
    """The layer of the longest listed prefix of ``module``."""
    best: tuple[int, int] | None = None
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return best[0]


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def test_no_module_imports_from_a_layer_above_it() -> None:
    graph = _graph()
    upward = [
        f"{module} (layer {_layer_of(module)}) imports {imported} (layer {_layer_of(imported)})"
        for module, imports in sorted(graph.items())
        for imported in sorted(imports)
        if _layer_of(imported) > _layer_of(module)
    ]
    assert len(graph) > 60  # the walk saw the whole package
    assert upward == []


def test_the_codec_reads_nothing_of_git_and_only_the_top_uses_it() -> None:
    graph = _graph()
    codec = {module: imports for module, imports in graph.items() if _within(module, ("gitpet.codec",))}
    assert len(codec) >= 5
    assert {
        m: sorted(i for i in imports if not _within(i, CODEC_MAY_IMPORT)) for m, imports in codec.items()
    } == {m: [] for m in codec}
    users = sorted(
        module
        for module, imports in graph.items()
        if any(_within(i, ("gitpet.codec",)) for i in imports) and not _within(module, CODEC_USERS)
    )
    assert users == []


def test_the_package_has_no_import_circle() -> None:
    assert cycles(_graph()) == []


def test_the_checks_see_an_upward_import_and_a_circle() -> None:
    graph = {"gitpet.git.a": {"gitpet.store.b"}, "gitpet.store.b": {"gitpet.git.a"}}
    assert cycles(graph) == [["gitpet.git.a", "gitpet.store.b"]]
    assert _layer_of("gitpet.store.b") > _layer_of("gitpet.git.a")
    assert _layer_of("gitpet.gitstore") > _layer_of("gitpet.git.repository")
    assert _layer_of("gitpet") > _layer_of("gitpet.factory.container")


def test_no_module_uses_another_modules_private_names() -> None:
    """``from gitpet.x import _y`` and ``module._y``: a private name is its module's own."""
    leaks: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = defaultdict(str)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gitpet"):
                leaks += [
                    f"{_module_name(path)}: from {node.module} import {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("gitpet"):
                        modules[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                leaks.append(f"{_module_name(path)}: {node.value.id}.{node.attr}")
    assert leaks == []


def _is_private(name: str) -> bool:
    # _sunder_ names (an enum's _value_) are the documented API of their class.
    return name.startswith("_") and not name.startswith("__") and not name.endswith("_")


def test_no_object_reaches_into_another_objects_private_members() -> None:
    """``other._x`` (not ``self._x``/``cls._x``): collaborators are used through what they publish."""
    reached: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        allowed = PRIVATE_USE_ADAPTERS.get(module, "")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            text = ast.unparse(node)
            if allowed is None or text == allowed:
                continue
            reached.append(f"{module}:{node.lineno}: {text}")
    assert reached == []


def test_the_cli_and_the_scenario_suites_use_the_public_api_only() -> None:
    """Only ``gitpet`` itself (and, for the scenarios, the ``gitpet`` command) is imported."""
    users = sorted(PACKAGE.glob("cli/*.py")) + sorted((REPO_ROOT / "tests" / "scenarios").glob("*.py"))
    assert len(users) >= 8
    private = [
        f"{path.relative_to(REPO_ROOT)}: {imported}"
        for path in users
        for imported in sorted(_imports(path))
        if imported != "gitpet" and not _within(imported, ("gitpet.cli",))
    ]
    assert private == []
