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
from dataclasses import dataclass
from typing import Any

from gitpet.codec.captured import Block, Captured, future_flags, parse_blocks
from gitpet.codec.data_files import data_line, read_data_file
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.codec.pickler import canonical_filename, dumps_class
from gitpet.errors import UnpicklableClassError

__all__ = ["SourceCheck", "build_from_source", "check_source_complete", "pickle_built"]

_UNCHANGED = "__gitpet_unchanged__"
_FUTURE = "from __future__ import "
# A build runs the text of a class: what it raises says why the text is not the class.
_BUILD_ERRORS = (Exception,)


@dataclass(frozen=True)
class SourceCheck:
    """Whether a class's text builds a class that pickles to its ``class.pkl``; if not, why.

    ``checked``: False when there was nothing to compare (a version that is not
    source-complete, or pickled by another Python minor); ``reason`` says which.

    Examples:
        >>> SourceCheck(True)
        SourceCheck(complete=True, reason='', checked=True)
    """

    complete: bool
    reason: str = ""
    checked: bool = True


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
    blocks = parse_blocks(captured_text)
    # ``from __future__`` lines are compiler flags for every part, not statements to repeat.
    stated = [
        name.strip()
        for block in blocks
        if block.kind == "imports"
        for line in block.text.splitlines()
        if line.startswith(_FUTURE)
        for name in line[len(_FUTURE) :].split(",")
    ]
    flags = future_flags(tuple(dict.fromkeys((*future, *stated))))
    namespace: dict[str, Any] = {
        "__name__": module,
        "__package__": None if module == "__main__" else module.rpartition(".")[0],
        "__builtins__": builtins,
    }
    # Compiled after each part, the imports let the compiler see which names are modules a
    # module imported, as it did in the whole module (3.11 calls their functions differently).
    imports = "".join(
        "\n" + line
        for block in blocks
        if block.kind == "imports"
        for line in block.text.splitlines(keepends=True)
        if not line.startswith(_FUTURE)
    )
    for block in blocks:
        if block.kind == "data":
            namespace[block.name] = _data_value(block, data or {})
            continue
        where = f"gitpet://{module}/captured.py" if block.name == "-" else f"gitpet://{module}.{block.name}"
        exec(compile(block.text + imports, where, "exec", flags, dont_inherit=True), namespace)
    canonical = canonical_filename(module, qualname, source_text)
    tree = ast.parse(source_text + imports, canonical)
    _keep_gitpet_decorators_from_running(tree, namespace, canonical, flags)
    namespace[_UNCHANGED] = _unchanged
    try:
        exec(compile(tree, canonical, "exec", flags, dont_inherit=True), namespace)
    finally:
        namespace.pop(_UNCHANGED, None)
    found: Any = namespace
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
    tree: ast.Module, namespace: dict[str, Any], filename: str, flags: int
) -> None:
    """Make each decorator of the top-level classes that is gitpet's own return the class unchanged.

    The decorator keeps its place (and so the class its first line).
    """
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
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
