"""Building a class again from its text: ``captured.py``, then ``source.py``, in a fresh namespace.

A version is *source-complete* when the class built from its text pickles
to exactly its ``class.pkl``: then the text a reviewer reads is what runs,
and a Python minor other than the pickle's can load the version from text.

The build runs the text in a namespace of its own, named as the class's
module (nothing is added to ``sys.modules``). gitpet's own class decorators
(``Container.bind`` and the like) register a class and return it unchanged:
they do not run again, so a build never registers anything. Every other
decorator runs as written (``dataclass``, ``functools.total_ordering``, ...),
as it did when the module was imported.

A ``data`` block of ``captured.py`` binds its constant to the array of the
version's data file; its line must be the one gitpet writes for that file,
so the text a reviewer reads says what is bound.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from typing import Any

from gitpet.codec.captured import Block, Captured, future_flags, parse_blocks, source_in_enclosing
from gitpet.codec.data_files import data_line, read_data_file
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.codec.pickler import dumps_class
from gitpet.codec.source_check import SourceCheck
from gitpet.codec.stored_code import canonical_filename
from gitpet.errors import UnpicklableClassError

__all__ = ["SourceCheck", "build_from_source", "check_source_complete", "pickle_built"]

_UNCHANGED = "__gitpet_unchanged__"
_UNBOUND = object()
_FUTURE = "from __future__ import "
# A build runs the text of a class: what it raises says why the text is not the class.
_BUILD_ERRORS = (Exception,)


def build_from_source(
    module: str,
    qualname: str,
    source_text: str,
    captured_text: str,
    *,
    future: tuple[str, ...] = (),
    data: Mapping[str, bytes] | None = None,
) -> type:
    """The class ``qualname`` built from ``captured_text`` then ``source_text``, as module ``module``.

    ``data``: the version's data files, by constant name (``data/W.npy`` -> ``W``).

    Raises whatever running the text raises, ValueError when a data block does not
    match its file, or TypeError when it builds no class of that name.

    Examples:
        >>> captured = "# gitpet: constants -\\nSCALE = 3\\n"
        >>> cls = build_from_source("m", "Scaler", "class Scaler:\\n    k = SCALE\\n", captured)
        >>> cls.k, cls.__module__
        (3, 'm')
    """
    sections = _sections(parse_blocks(captured_text), module)
    built: dict[str, dict[str, Any]] = {}
    for section_module, blocks in sections:
        own_future = future if section_module == module else ()
        flags, imports = _section_flags_and_imports(blocks, own_future)
        built[section_module] = namespace = _fresh_namespace(section_module)
        for block in blocks:
            if block.kind == "data":
                namespace[block.name] = _data_value(block, data or {})
            elif block.kind == "from":
                _bind_taken(block, built, namespace)
            elif block.kind != "enclosing":
                where = (
                    f"gitpet://{section_module}/captured.py"
                    if block.name == "-"
                    else f"gitpet://{section_module}.{block.name}"
                )
                exec(compile(block.text + imports, where, "exec", flags, dont_inherit=True), namespace)
    # source.py runs last, in its own module's namespace (the last section).
    blocks = sections[-1][1]
    namespace = built[module]
    flags, imports = _section_flags_and_imports(blocks, future)
    enclosing = [block for block in blocks if block.kind == "enclosing"]
    canonical = canonical_filename(module, qualname, source_text)
    # A nested class: source.py inside its enclosing class statement, set on line 0 so that
    # source.py's lines are the code's lines. The enclosing name is bound only meanwhile.
    text = source_in_enclosing(enclosing[0], source_text) if enclosing else source_text
    tree = ast.parse(text + imports, canonical)
    if enclosing:
        ast.increment_lineno(tree, -1)
    _keep_gitpet_decorators_from_running(tree.body, namespace, canonical, flags)
    outer = enclosing[0].name if enclosing else None
    shadowed = namespace.get(outer, _UNBOUND) if outer else _UNBOUND
    namespace[_UNCHANGED] = _unchanged
    try:
        exec(compile(tree, canonical, "exec", flags, dont_inherit=True), namespace)
    finally:
        namespace.pop(_UNCHANGED, None)
    found: Any = namespace
    if outer is not None:
        found = {outer: namespace.pop(outer, None)}
        if shadowed is not _UNBOUND:
            namespace[outer] = shadowed
    for part in qualname.split("."):
        found = found.get(part) if isinstance(found, dict) else getattr(found, part, None)
    if not isinstance(found, type):
        raise TypeError(f"source.py defines no class {qualname}")
    return found


def check_source_complete(
    cls: type, pickled: bytes, source_text: str, captured: Captured, policy: ModulePolicy
) -> SourceCheck:
    """Whether ``cls`` built from its text (``captured``, ``source_text``) pickles to ``pickled``.

    Examples:
        >>> from gitpet.codec.captured import Captured
        >>> text = "class Scaler:\\n    def scale(self, x):\\n        return x * 2\\n"
        >>> Scaler = build_from_source("m", "Scaler", text, "")
        >>> check_source_complete(Scaler, b"other bytes", text, Captured((), (), ()), ModulePolicy())
        SourceCheck(complete=False, reason='the class built from its text pickles differently', checked=True)
    """
    if captured.incomplete:
        return SourceCheck(False, "; ".join(captured.incomplete))
    try:
        built = build_from_source(
            cls.__module__,
            cls.__qualname__,
            source_text,
            captured.text,
            future=captured.future,
            data={file.name: file.content for file in captured.data},
        )
    except _BUILD_ERRORS as err:
        return SourceCheck(False, f"its text does not build the class: {type(err).__name__}: {err}")
    try:
        again = pickle_built(built, source_text, policy)
    except UnpicklableClassError as err:
        return SourceCheck(False, f"the class built from its text does not pickle: {err}")
    if again != pickled:
        return SourceCheck(False, "the class built from its text pickles differently")
    return SourceCheck(True)


def pickle_built(cls: type, source_text: str, policy: ModulePolicy) -> bytes:
    """The pickle of a class built from ``source_text``: its code compiled from that text, as stored.

    Examples:
        >>> text = "class Scaler:\\n    k = 2\\n"
        >>> built = build_from_source("m", "Scaler", text, "")
        >>> pickle_built(built, text, ModulePolicy()) == pickle_built(built, text, ModulePolicy())
        True
    """
    return dumps_class(
        cls,
        policy,
        source_text=source_text,
        filename=canonical_filename(cls.__module__, cls.__qualname__, source_text),
        first_line=1,
        last_line=source_text.count("\n") + 1,
    ).data


def _sections(blocks: list[Block], module: str) -> list[tuple[str, list[Block]]]:
    """``captured.py``'s blocks by module: other modules' sections first, ``module``'s last.

    Blocks before any ``module`` marker are ``module``'s (every capture of one module).
    """
    sections: list[tuple[str, list[Block]]] = [(module, [])]
    for block in blocks:
        if block.kind == "module":
            if any(name == block.name for name, _ in sections[1:]):
                raise ValueError(f"captured.py has two sections of module {block.name}")
            sections.append((block.name, []))
        else:
            sections[-1][1].append(block)
    if len(sections) > 1:
        if sections[0][1]:
            raise ValueError("captured.py has blocks before its first module section")
        sections = sections[1:]
    if sections[-1][0] != module:
        raise ValueError(f"captured.py's last section is not the class's module {module}")
    return sections


def _section_flags_and_imports(blocks: list[Block], future: tuple[str, ...]) -> tuple[int, str]:
    """The compiler flags of one module's section, and its imports to compile after each part.

    ``from __future__`` lines are compiler flags for every part, not statements to repeat.
    Compiled after each part, the imports let the compiler see which names are modules the
    module imported, as it did in the whole module (3.11 calls their functions differently).
    """
    lines = [line for block in blocks if block.kind == "imports" for line in block.text.splitlines(True)]
    stated = [
        name.strip() for line in lines if line.startswith(_FUTURE) for name in line[len(_FUTURE) :].split(",")
    ]
    flags = future_flags(tuple(dict.fromkeys((*future, *stated))))
    return flags, "".join("\n" + line for line in lines if not line.startswith(_FUTURE))


def _fresh_namespace(module: str) -> dict[str, Any]:
    return {
        "__name__": module,
        "__package__": None if module == "__main__" else module.rpartition(".")[0],
        "__builtins__": builtins,
    }


def _bind_taken(block: Block, built: Mapping[str, dict[str, Any]], namespace: dict[str, Any]) -> None:
    """Bind the names a ``from`` block takes from a module section built before (never imported)."""
    try:
        [statement] = ast.parse(block.text).body
    except (SyntaxError, ValueError) as err:
        raise ValueError(f"captured.py's from block for {block.name} is not one import") from err
    source = built.get(block.name)
    if not isinstance(statement, ast.ImportFrom) or statement.module != block.name or statement.level:
        raise ValueError(f"captured.py's from block for {block.name} does not import from {block.name}")
    if source is None:
        raise ValueError(f"captured.py takes names from {block.name} before its section")
    for alias in statement.names:
        if alias.name not in source:
            raise ValueError(f"captured.py takes {alias.name} from {block.name}, whose section has none")
        namespace[alias.asname or alias.name] = source[alias.name]


def _data_value(block: Block, data: Mapping[str, bytes]) -> Any:
    """The array a ``data`` block binds, once its line is checked to be the one its file gives."""
    content = data.get(block.name)
    if content is None:
        raise ValueError(f"captured.py binds {block.name} to a data file the version does not have")
    if block.text.rstrip("\n") != data_line(block.name, content).rstrip("\n"):
        raise ValueError(f"captured.py's line for {block.name} is not the one its data file gives")
    return read_data_file(content)


def _unchanged(cls: type) -> type:
    return cls


def _keep_gitpet_decorators_from_running(
    body: list[ast.stmt], namespace: dict[str, Any], filename: str, flags: int
) -> None:
    """Make gitpet's own decorators of the classes in ``body`` (and nested in them) do nothing.

    Each such decorator returns the class unchanged; it keeps its place (and so the class its
    first line).
    """
    for node in body:
        if not isinstance(node, ast.ClassDef):
            continue
        _keep_gitpet_decorators_from_running(node.body, namespace, filename, flags)
        for index, decorator in enumerate(node.decorator_list):
            expression = ast.Expression(decorator)
            try:
                value = eval(compile(expression, filename, "eval", flags, dont_inherit=True), namespace)
            except _BUILD_ERRORS:
                continue  # running the class statement reports it
            module = getattr(value, "__module__", None) or ""
            if module == "gitpet" or module.startswith("gitpet."):
                name = ast.Name(_UNCHANGED, ast.Load())
                node.decorator_list[index] = ast.copy_location(name, decorator)
