"""What a class needs from its module, as text: the imports, helpers, base classes and constants.

``source.py`` holds the class as written; a class also runs code it takes
from its module: the helper functions and classes it calls, the constants it
reads, the names it imports. :func:`capture` writes all of that as Python
text (``captured.py``), in an order that executes, so that a diff between two
versions shows why a version exists, and so that the class can be built
again from text alone (:mod:`gitpet.codec.from_source`).

The text is a sequence of blocks, each after a marker line
``# gitpet: <kind> <name>``: ``imports``, ``constants``, and one ``function``
or ``class`` block per helper, holding that object's own source. Helpers
taken from another user module are captured in a section of their own
(``# gitpet: module <name>``, built in a namespace of that name), and bound
by a ``from`` block (``from utils import clip``) of the module that takes
them; the class's own module is the last section. A class
nested in another ends with an ``enclosing`` block: the class statement
``source.py`` goes in, and the columns it goes at (its code keeps them). Each block
compiles on its own (a helper's code then has the same file name and lines
as when gitpet pickled it).

A constant that is a numpy array is a data file of the version
(``data/<NAME>.npy``, :mod:`gitpet.codec.data_files`), bound by one ``data``
block each, after the constants.

What cannot be written as text makes the capture *incomplete*, with reasons:
a constant that is neither a literal nor an array, a helper from another user
module, a class or function with no source text, ...
"""

from __future__ import annotations
import __future__

import builtins
import inspect
import math
import re
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitpet.codec.bytecode import LOAD_GLOBAL, named_instructions, opcodes
from gitpet.codec.data_files import DataFile, as_data_file, data_line
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.codec.source import SourceFinder

__all__ = [
    "CAPTURED_FILE",
    "Block",
    "Captured",
    "capture",
    "enclosing_block",
    "future_flags",
    "parse_blocks",
    "source_in_enclosing",
]

CAPTURED_FILE = "captured.py"
_MARKER = "# gitpet: "
_SOURCE_GOES_HERE = "# source.py goes here, at the columns it had in its module"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER = (
    "# What the class in source.py uses from its module, written by gitpet: imports, constants,\n"
    "# and the source of each helper it captured. Run in this order, then source.py, it builds\n"
    "# the class again.\n"
)
_GLOBAL_NAME_OPS = opcodes("STORE_GLOBAL", "DELETE_GLOBAL")
_LOAD_NAME_OPS = opcodes("LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS")
_STORE_NAME_OPS = opcodes("STORE_NAME", "DELETE_NAME")
_NAME_OPS = _GLOBAL_NAME_OPS | _LOAD_NAME_OPS | _STORE_NAME_OPS | {LOAD_GLOBAL}
_LITERAL_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_FUTURE_FEATURE = type(__future__.annotations)  # what ``from __future__ import x`` binds
# What every module namespace has (the build makes its own): never captured.
_MODULE_NAMES = frozenset({"__name__", "__package__", "__builtins__", "__doc__", "__spec__", "__loader__"})


@dataclass(frozen=True)
class Block:
    """One compilable part of ``captured.py``: its kind, the name it defines, and its text."""

    kind: str
    name: str
    text: str


@dataclass(frozen=True)
class Captured:
    """``captured.py`` for one class, and why it may not rebuild the class (empty: it may)."""

    blocks: tuple[Block, ...]
    future: tuple[str, ...]
    incomplete: tuple[str, ...]
    data: tuple[DataFile, ...] = ()
    """The arrays the ``data`` blocks bind, by name."""

    @property
    def text(self) -> str:
        """The file, as stored beside ``source.py``."""
        parts = [_HEADER]
        parts.extend(f"\n{_MARKER}{block.kind} {block.name}\n{block.text}" for block in self.blocks)
        return "".join(parts)


@dataclass
class _Walk:
    """The state of one capture: what was found, in what order, and what could not be."""

    module: types.ModuleType
    policy: ModulePolicy
    root: type
    sources: SourceFinder
    future: tuple[str, ...] = ()
    # bound name -> (module, attribute or "" for the module itself)
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    data: dict[str, DataFile] = field(default_factory=dict)
    definitions: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    # other user module -> {bound name: its name there}: helpers taken from that module
    taken: dict[str, dict[str, str]] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    # module name -> its walk: every user module the capture takes helpers from (shared)
    walks: dict[str, _Walk] = field(default_factory=dict)


def future_flags(features: tuple[str, ...]) -> int:
    """The ``compile`` flags of ``from __future__ import`` these features.

    Examples:
        >>> future_flags(("annotations",)) == __future__.annotations.compiler_flag
        True
    """
    flags = 0
    for name in features:
        flags |= getattr(__future__, name).compiler_flag
    return flags


def module_future(module: types.ModuleType) -> tuple[str, ...]:
    """The ``__future__`` features ``module`` imports, sorted.

    Looked up by feature name: scanning the module's namespace cost each class of a
    module of 1,000 classes a walk over all 1,000 (its push grew with its module).

    Examples:
        >>> import gitpet.codec.captured as this
        >>> module_future(this)
        ('annotations',)
    """
    namespace = vars(module)
    return tuple(
        name
        for name in sorted(__future__.all_feature_names)
        if namespace.get(name) is getattr(__future__, name)
    )


def capture(
    cls: type,
    source_text: str,
    policy: ModulePolicy,
    sources: SourceFinder | None = None,
    *,
    indent: int = 0,
) -> Captured:
    """What ``cls`` (whose source is ``source_text``) needs from its module, as ``captured.py``.

    ``sources`` finds the text of the helpers (pass one to reuse its parsed files).
    ``indent``: the columns of the class statement in its file (a nested class's code keeps
    them, so its ``enclosing`` block says them).

    Examples:
        >>> import json
        >>> text = "class JSONDecoder:\\n    scan = scanner.make_scanner\\n"
        >>> captured = capture(json.JSONDecoder, text, ModulePolicy())
        >>> [(block.kind, block.text) for block in captured.blocks], captured.incomplete
        ([('imports', 'from json import scanner\\n')], ())
    """
    module = sys.modules.get(cls.__module__)
    if module is None:
        return Captured((), (), (f"its module {cls.__module__} is not imported",))
    future = module_future(module)
    walk = _Walk(module, policy, cls, sources or SourceFinder(), future)
    walk.walks[module.__name__] = walk
    try:
        code = compile(source_text, "<source.py>", "exec", future_flags(future), dont_inherit=True)
    except SyntaxError as err:
        return Captured((), future, (f"source.py does not compile: {err.msg}",))
    shape = _shape_problem(cls, code, indent)
    if shape:
        return Captured((), future, (shape,))
    for name in _names_used(code, top_level=True):
        _need(walk, name)
    data = tuple(walk.data[name] for name in sorted(walk.data))
    order = _module_order(walk)
    if order is None:
        walk.incomplete.append("its helpers come from user modules that take helpers from each other")
        order = []
    blocks: tuple[Block, ...] = ()
    for name in order:  # each other module's section, after the sections it takes from
        other = walk.walks[name]
        walk.incomplete.extend(other.incomplete)
        blocks += (Block("module", name, ""), *_blocks(other, other.future))
    if order:
        blocks += (Block("module", module.__name__, ""),)
    blocks += _blocks(walk, future)
    if "." in cls.__qualname__:
        blocks += (enclosing_block(cls.__qualname__.rpartition(".")[0], indent),)
    return Captured(blocks, future, tuple(dict.fromkeys(walk.incomplete)), data)


def _module_order(root: _Walk) -> list[str] | None:
    """The other modules' names, each after the modules it takes helpers from; None on a cycle."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str) -> bool:
        if state.get(name) == "done":
            return True
        if state.get(name) == "visiting":
            return False
        state[name] = "visiting"
        if not all(visit(taken) for taken in sorted(root.walks[name].taken)):
            return False
        state[name] = "done"
        if name != root.module.__name__:
            order.append(name)
        return True

    return order if visit(root.module.__name__) else None


def enclosing_block(outer: str, indent: int) -> Block:
    """The block that puts ``source.py`` back in the class it is nested in, at its own columns.

    Examples:
        >>> print(enclosing_block("Outer", 4).text, end="")
        class Outer:
            # source.py goes here, at the columns it had in its module
    """
    return Block("enclosing", outer, f"class {outer}:\n{' ' * indent}{_SOURCE_GOES_HERE}\n")


def source_in_enclosing(block: Block, source_text: str) -> str:
    """``source.py`` inside the class of an ``enclosing`` block: text whose line 2 is its line 1.

    Raises:
        ValueError: the block is not one :func:`enclosing_block` writes.

    Examples:
        >>> print(source_in_enclosing(enclosing_block("Outer", 2), "class Inner:\\n    k = 1\\n"), end="")
        class Outer:
          class Inner:
              k = 1
    """
    header, _, rest = block.text.partition("\n")
    indent = len(rest) - len(rest.lstrip(" "))
    if (
        not _IDENTIFIER.match(block.name)
        or indent == 0
        or block.text.rstrip("\n") != enclosing_block(block.name, indent).text.rstrip("\n")
    ):
        raise ValueError(f"captured.py's enclosing block for {block.name!r} is not one gitpet writes")
    return f"{header}\n" + "".join(
        " " * indent + line if line.strip() else line for line in source_text.splitlines(keepends=True)
    )


def _shape_problem(cls: type, code: types.CodeType, indent: int) -> str:
    """Why ``source.py`` cannot be all of the class, from where and how the class was made."""
    qualname = cls.__qualname__
    if "<locals>" in qualname:
        maker = qualname.partition(".<locals>")[0]
        return f"it is made inside {maker}(): it closes over that function's variables, not text"
    if qualname.count(".") > 1 or ("." in qualname and indent == 0):
        outer = qualname.rpartition(".")[0]
        return f"it is nested in {outer}: only top-level classes and classes nested one level build from text"
    defined = [const.co_name for const in code.co_consts if isinstance(const, types.CodeType)]
    if cls.__name__ not in defined:
        stated = ", ".join(defined) or "no class"
        return f"its class statement defines {stated}: it was renamed to {cls.__name__} afterwards"
    return ""


def parse_blocks(text: str) -> list[Block]:
    """The blocks of a ``captured.py`` (its header and marker lines dropped).

    Examples:
        >>> captured = Captured((Block("constants", "-", "SCALE = 3\\n"),), (), ())
        >>> parse_blocks(captured.text)
        [Block(kind='constants', name='-', text='SCALE = 3\\n')]
    """
    blocks: list[Block] = []
    current: list[str] | None = None
    kind = name = ""
    for line in text.splitlines(keepends=True):
        if line.startswith(_MARKER):
            if current is not None:
                blocks.append(Block(kind, name, "".join(current)))
            kind, _, name = line[len(_MARKER) :].strip().partition(" ")
            current = []
        elif current is not None:
            current.append(line)
    if current is not None:
        blocks.append(Block(kind, name, "".join(current)))
    return blocks


def _names_used(code: types.CodeType, *, top_level: bool) -> Iterator[str]:
    """Global names ``code`` and the code nested in it read or write, in order of first use.

    At the top level and in class bodies, a name the same code stores first is its own.
    """
    found: dict[str, None] = {}
    _collect(code, found, top_level)
    yield from found


def _collect(code: types.CodeType, found: dict[str, None], scoped: bool) -> None:
    stored: set[str] = set()
    for op, name in named_instructions(code, _NAME_OPS):
        if op == LOAD_GLOBAL or op in _GLOBAL_NAME_OPS:
            found[name] = None
        elif op in _STORE_NAME_OPS:
            if scoped:
                stored.add(name)
        elif name not in stored:
            found[name] = None
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            # A class body is a scope of its own names; a function's are local or global.
            _collect(const, found, scoped=not const.co_flags & inspect.CO_OPTIMIZED)


def _need(walk: _Walk, name: str) -> None:
    if name in walk.seen or name in _MODULE_NAMES:
        return
    walk.seen.add(name)
    module_globals = vars(walk.module)
    if name not in module_globals:
        if not hasattr(builtins, name):
            walk.incomplete.append(f"it uses {name!r}, which its module does not define")
        return
    value = module_globals[name]
    if value is walk.root or isinstance(value, _FUTURE_FEATURE):
        return
    if isinstance(value, types.ModuleType):
        _need_module(walk, name, value)
    elif _is_user_object(walk, value):
        _need_definition(walk, name, value)
    elif walk.policy.is_by_value(getattr(value, "__module__", None) or type(value).__module__):
        kind = type(value).__qualname__
        walk.incomplete.append(f"{name} is a {kind} made by code in {walk.module.__name__}, not text")
    elif _importable(value):
        _need_import(walk, name, value)
    elif (attribute := _attribute_of_its_module(value)) is not None:
        walk.imports[name] = attribute
    else:
        _need_constant(walk, name, value)


def _is_user_object(walk: _Walk, value: object) -> bool:
    module = getattr(value, "__module__", None)
    is_definition = isinstance(value, (type, types.FunctionType)) or _is_typevar(value)
    return is_definition and isinstance(module, str) and walk.policy.is_by_value(module)


def _is_typevar(value: object) -> bool:
    return type(value) is typing.TypeVar


def _importable(value: object) -> bool:
    """Whether importing ``value.__module__`` and walking ``value.__qualname__`` finds it."""
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str) or "<locals>" in qualname:
        return False
    target: object = sys.modules.get(module_name)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return target is value


def _attribute_of_its_module(value: object) -> tuple[str, str] | None:
    """``(module, name)`` when an object (``gitpet.Container``) is an attribute of its type's module."""
    module_name = type(value).__module__
    module = sys.modules.get(module_name)
    if module is None or module_name == "builtins":
        return None
    for attribute, candidate in vars(module).items():
        if candidate is value and not attribute.startswith("_"):
            return module_name, attribute
    return None


def _need_module(walk: _Walk, name: str, module: types.ModuleType) -> None:
    if walk.policy.is_by_value(module.__name__):
        walk.incomplete.append(f"it uses module {module.__name__} by value")
        return
    parent, _, last = module.__name__.rpartition(".")
    if parent and last == name:
        walk.imports[name] = (parent, name)
    else:
        walk.imports[name] = (module.__name__, "")


def _need_import(walk: _Walk, name: str, value: object) -> None:
    module_name: str = value.__module__
    head, _, rest = value.__qualname__.partition(".")  # type: ignore[attr-defined]
    if not rest:
        walk.imports[name] = (module_name, head)
    else:
        walk.imports[head] = (module_name, head)
        walk.constants[name] = f"{name} = {head}.{rest}"


def _need_constant(walk: _Walk, name: str, value: object) -> None:
    text = _literal(value)
    if text is None:
        made = _constructed(walk, value)
        if made is None:
            data = as_data_file(name, value) if walk.module.__name__ == walk.root.__module__ else None
            if isinstance(data, DataFile):
                walk.data[name] = data
            else:
                walk.incomplete.append(
                    data or f"constant {name} is a {type(value).__qualname__}, not a literal"
                )
            return
        binding, text = made
        walk.imports.setdefault(*binding)
    walk.constants[name] = f"{name} = {text}"


def _constructed(walk: _Walk, value: object) -> tuple[tuple[str, tuple[str, str]], str] | None:
    """An installed type's value whose ``repr`` builds it again: the import it needs, and that text.

    ``Decimal('1.5')``, ``datetime.date(2024, 1, 31)``, ``re.compile('a+')``, ...: only
    for types of modules stored by reference, and only when evaluating the text gives an
    equal value of the same type.
    """
    kind = type(value)
    module_name = kind.__module__
    if module_name == "builtins" or walk.policy.is_by_value(module_name) or not _importable(kind):
        return None
    module = sys.modules.get(module_name)
    top = module_name.partition(".")[0]
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails is no text for the value
        return None
    # A module whose objects are re-exported (re.Pattern's repr says re.compile) is named as used.
    if text.startswith(f"{top}."):
        binding: tuple[str, tuple[str, str]] = (top, (top, ""))
        names: dict[str, object] = {top: sys.modules.get(top)}
    elif text.startswith(f"{kind.__qualname__}("):
        binding = (kind.__qualname__, (module_name, kind.__qualname__))
        names = {kind.__qualname__: kind}
    else:
        return None
    try:
        again = eval(text, {"__builtins__": {}}, names)  # the value's own repr, in this process
    except Exception:  # noqa: BLE001 - text that does not evaluate is no text for the value
        return None
    if type(again) is not kind or again != value or module is None:
        return None
    return binding, text


def _literal(value: object, depth: int = 0) -> str | None:
    """``value`` as Python text that evaluates to an equal value, or None if it has none."""
    if depth > 20:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # repr gives nan / inf, names no builtin defines
    if type(value) in _LITERAL_SCALARS:
        return repr(value)
    items: list[str | None]
    if type(value) in (tuple, list):
        items = [_literal(item, depth + 1) for item in value]  # type: ignore[attr-defined]
        if None in items:
            return None
        if type(value) is list:
            return "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"  # type: ignore[arg-type]
    if type(value) is dict:
        pairs = [(_literal(k, depth + 1), _literal(v, depth + 1)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if type(value) in (set, frozenset):
        rendered = [_literal(item, depth + 1) for item in value]  # type: ignore[attr-defined]
        if None in rendered:
            return None
        body = ", ".join(sorted(rendered))  # type: ignore[arg-type]
        if type(value) is frozenset:
            return f"frozenset({{{body}}})" if body else "frozenset()"
        return f"{{{body}}}" if body else "set()"
    return None


def _need_definition(walk: _Walk, name: str, value: Any) -> None:
    if _is_typevar(value):
        if value.__bound__ is not None or value.__constraints__ or value.__name__ != name:
            walk.incomplete.append(f"type variable {name} has a bound or constraints")
            return
        walk.imports.setdefault("TypeVar", ("typing", "TypeVar"))
        variance = ", covariant=True" if value.__covariant__ else ""
        variance += ", contravariant=True" if value.__contravariant__ else ""
        walk.constants[name] = f"{name} = TypeVar({name!r}{variance})"
        return
    if value.__module__ != walk.module.__name__:
        _need_from_module(walk, name, value)
        return
    if value.__qualname__ != name or "<locals>" in value.__qualname__:
        walk.incomplete.append(f"{name} is {value.__qualname__} under another name")
        return
    if isinstance(value, type):
        found = walk.sources.find(value)
        text: str | None = found.text if found.missing_reason is None else None
    else:
        text = walk.sources.function_text(value)
    if text is None:
        walk.incomplete.append(f"{name} has no source text")
        return
    kind = "class" if isinstance(value, type) else "function"
    try:
        code = compile(text, f"<{name}>", "exec", future_flags(walk.future), dont_inherit=True)
    except SyntaxError as err:
        walk.incomplete.append(f"the text of {name} does not compile: {err.msg}")
        return
    needs = tuple(_names_used(code, top_level=True))
    walk.definitions[name] = (kind, text, needs)
    for needed in needs:
        if needed != name:
            _need(walk, needed)


def _need_from_module(walk: _Walk, name: str, value: Any) -> None:
    """A helper of another user module: captured in that module's section, and bound from there."""
    module_name: str = value.__module__
    attribute: str = value.__qualname__
    module = sys.modules.get(module_name)
    if module is None or vars(module).get(attribute) is not value:
        walk.incomplete.append(f"it uses {module_name}.{attribute}, which is not a name its module defines")
        return
    other = walk.walks.get(module_name)
    if other is None:
        future = module_future(module)
        other = _Walk(module, walk.policy, walk.root, walk.sources, future, walks=walk.walks)
        walk.walks[module_name] = other
    _need(other, attribute)
    walk.taken.setdefault(module_name, {})[name] = attribute


def _import_lines(imports: dict[str, tuple[str, str]]) -> list[str]:
    """``import m`` / ``import m as n`` lines, then one ``from m import a, b as c`` line a module."""
    plain = sorted(
        f"import {module}" if module == name else f"import {module} as {name}"
        for name, (module, attribute) in imports.items()
        if not attribute
    )
    by_module: dict[str, list[str]] = {}
    for name, (module, attribute) in imports.items():
        if attribute:
            by_module.setdefault(module, []).append(
                attribute if attribute == name else f"{attribute} as {name}"
            )
    return plain + [
        f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(by_module.items())
    ]


def _blocks(walk: _Walk, future: tuple[str, ...]) -> tuple[Block, ...]:
    blocks: list[Block] = []
    imports = [f"from __future__ import {', '.join(future)}"] if future else []
    imports += _import_lines(walk.imports)
    if imports:
        blocks.append(Block("imports", "-", "\n".join(imports) + "\n"))
    for module_name in sorted(walk.taken):
        names = sorted(
            attribute if attribute == bound else f"{attribute} as {bound}"
            for bound, attribute in walk.taken[module_name].items()
        )
        blocks.append(Block("from", module_name, f"from {module_name} import {', '.join(names)}\n"))
    if walk.constants:
        blocks.append(
            Block("constants", "-", "\n".join(walk.constants[n] for n in sorted(walk.constants)) + "\n")
        )
    for name in sorted(walk.data):
        blocks.append(Block("data", name, data_line(name, walk.data[name].content)))
    # Functions first (a class body may call one); classes after the classes they name.
    functions = sorted(n for n, (kind, _, _) in walk.definitions.items() if kind == "function")
    classes = sorted(n for n, (kind, _, _) in walk.definitions.items() if kind == "class")
    for name in functions:
        blocks.append(Block("function", name, walk.definitions[name][1]))
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed or name in path:
            return
        for needed in walk.definitions[name][2]:
            if needed in classes:
                place(needed, (*path, name))
        placed.add(name)
        blocks.append(Block("class", name, walk.definitions[name][1]))

    for name in classes:
        place(name, ())
    return tuple(blocks)
