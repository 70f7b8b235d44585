"""Finding a class's source text, and noticing when it is stale."""

from __future__ import annotations

import ast
import inspect
import linecache
import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass

from gitpet._errors import StaleSourceError

__all__ = ["ClassSource", "SourceFinder", "missing_source_text"]


@dataclass(frozen=True)
class ClassSource:
    """Where a class's source is: ``text`` is dedented, lines 1-based in file."""

    text: str
    filename: str | None
    first_line: int
    last_line: int
    missing_reason: str | None = None


def missing_source_text(module: str, qualname: str, reason: str) -> str:
    return (
        f"# gitpet: no source text is available for {module}.{qualname}\n"
        f"# ({reason}).\n"
        f"# The class is stored by value in class.pkl, which is what loads.\n"
    )


_Spans = dict[str, list[tuple[int, int]]]


def _class_spans(tree: ast.Module) -> _Spans:
    """qualname -> [(first line incl. decorators, last line)] of every class in a module.

    Only statements can define a class, so only statement lists are walked
    (a generic visit of every expression node took 5x longer).
    """
    spans: _Spans = {}
    pending: list[tuple[list[ast.AST], tuple[str, ...]]] = [(list(tree.body), ())]
    while pending:
        statements, scope = pending.pop()
        for node in statements:
            if isinstance(node, ast.ClassDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                spans.setdefault(".".join([*scope, node.name]), []).append((first, node.end_lineno or first))
                pending.append((list(node.body), (*scope, node.name)))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                pending.append((list(node.body), (*scope, node.name, "<locals>")))
            else:
                pending.append((list(_nested_statements(node)), scope))
    for found in spans.values():
        found.sort()
    return spans


def _nested_statements(node: ast.AST) -> Iterator[ast.AST]:
    """The statements directly inside a compound statement (if/for/while/with/try/match bodies)."""
    for _field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.stmt):
                    yield item
                elif isinstance(item, (ast.ExceptHandler, ast.match_case)):
                    yield from item.body


def _class_functions(cls: type) -> Iterator[types.FunctionType]:
    for value in vars(cls).values():
        candidates: tuple[object, ...]
        if isinstance(value, (staticmethod, classmethod)):
            candidates = (value.__func__,)
        elif isinstance(value, property):
            candidates = (value.fget, value.fset, value.fdel)
        else:
            candidates = (inspect.unwrap(value) if callable(value) else value,)
        for candidate in candidates:
            if isinstance(candidate, types.FunctionType):
                yield candidate


def _check_fresh(cls: type, filename: str, lines: list[str], first: int, last: int) -> None:
    """Raise if the methods were compiled from other text than the file's now."""
    prefix = cls.__qualname__ + "."
    for func in _class_functions(cls):
        code = func.__code__
        if code.co_filename != filename or not func.__qualname__.startswith(prefix):
            continue
        line_no = code.co_firstlineno
        if not first <= line_no <= last:
            raise StaleSourceError(
                cls.__qualname__,
                filename,
                f"{func.__name__} was compiled at line {line_no}, outside the class",
            )
        text = lines[line_no - 1].lstrip()
        if func.__name__ == "<lambda>":
            ok = "lambda" in text
        else:
            ok = text.startswith("@") or (
                text.startswith(("def ", "async def ")) and f"def {func.__name__}" in text
            )
        if not ok:
            raise StaleSourceError(
                cls.__qualname__,
                filename,
                f"line {line_no} no longer defines {func.__name__}",
            )


class SourceFinder:
    """Finds class sources, parsing each module file once while it is unchanged."""

    def __init__(self) -> None:
        # Keyed by the identity of linecache's line list: a checkcache() that
        # notices a changed file replaces the list, and so invalidates the entry.
        self._span_cache: dict[str, tuple[list[str], _Spans]] = {}
        # inspect.getsourcefile was a fifth of finding a class's source; for a
        # class it depends only on the module and the module's file.
        self._source_files: dict[tuple[str, str | None], str | None] = {}

    def _source_file(self, cls: type, module: types.ModuleType | None) -> str | None:
        """The file ``cls``'s source is in: its module's source file (looked up once per module file)."""
        key = (cls.__module__, getattr(module, "__file__", None))
        if key in self._source_files:
            return self._source_files[key]
        try:
            filename = inspect.getsourcefile(cls) if module is not None else None
        except (TypeError, OSError):  # OSError: a class typed into ``python -c`` or a REPL
            filename = None
        if filename is None:
            filename = getattr(module, "__file__", None)
        self._source_files[key] = filename
        return filename

    def _spans(self, filename: str, lines: list[str]) -> _Spans:
        cached = self._span_cache.get(filename)
        if cached is not None and cached[0] is lines:
            return cached[1]
        spans = _class_spans(ast.parse("".join(lines), filename))
        self._span_cache[filename] = (lines, spans)
        return spans

    def find(self, cls: type) -> ClassSource:
        """The dedented source of ``cls``, or a ClassSource saying why there is none."""
        module = sys.modules.get(cls.__module__)
        filename = self._source_file(cls, module)
        if not filename:
            return ClassSource("", None, 0, 0, "its module has no source file (defined by exec?)")
        linecache.checkcache(filename)
        lines = linecache.getlines(filename, module.__dict__ if module else None)
        if not lines:
            return ClassSource("", filename, 0, 0, f"{filename} cannot be read")
        try:
            spans = self._spans(filename, lines).get(cls.__qualname__, [])
        except SyntaxError:
            spans = []
        if not spans:
            return ClassSource("", filename, 0, 0, f"no class {cls.__qualname__} in {filename}")
        # Several definitions under one qualname: the running one is the one its
        # methods were compiled from; without methods, the last one wins (as at import).
        first, last = spans[-1]
        code_lines = {
            f.__code__.co_firstlineno for f in _class_functions(cls) if f.__code__.co_filename == filename
        }
        for span in spans:
            if any(span[0] <= n <= span[1] for n in code_lines):
                first, last = span
                break
        _check_fresh(cls, filename, lines, first, last)
        text = textwrap.dedent("".join(lines[first - 1 : last]))
        if not text.endswith("\n"):
            text += "\n"
        return ClassSource(text, filename, first, last)
