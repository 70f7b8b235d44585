"""Finding a class's source text, and noticing when it is stale."""

from __future__ import annotations
import __future__

import ast
import functools
import inspect
import linecache
import operator
import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass, field

from gitpet.errors import StaleSourceError

__all__ = ["ClassSource", "SourceFinder", "missing_source_text"]


@dataclass(frozen=True)
class ClassSource:
    """Where a class's source is: ``text`` is dedented, lines 1-based in file.

    ``indent``: the columns dedenting took away (a nested class's code keeps them).
    """

    text: str
    filename: str | None
    first_line: int
    last_line: int
    missing_reason: str | None = None
    indent: int = 0


def missing_source_text(module: str, qualname: str, reason: str) -> str:
    """The ``source.py`` stored for a class whose source text cannot be found, saying why."""
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


_CodeIndex = dict[tuple[str, int], list[types.CodeType]]
_FUTURE_FLAGS = functools.reduce(
    operator.or_, (getattr(__future__, name).compiler_flag for name in __future__.all_feature_names), 0
)


def _index_code(code: types.CodeType, index: _CodeIndex) -> None:
    index.setdefault((code.co_name, code.co_firstlineno), []).append(code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _index_code(const, index)


@dataclass
class _ParsedFile:
    """One module file as linecache holds it now: its class spans, and its code once compiled."""

    lines: list[str]
    tree: ast.Module
    spans: _Spans
    _code: dict[int, _CodeIndex] = field(default_factory=dict)

    def code_index(self, filename: str, future_flags: int) -> _CodeIndex:
        """Every code object the file's text compiles to, by (name, first line).

        ``future_flags``: the ``__future__`` features the running code was
        compiled with beyond the file's own (exec'd code and doctests inherit
        their caller's).
        """
        index = self._code.get(future_flags)
        if index is None:
            index = {}
            _index_code(compile(self.tree, filename, "exec", flags=future_flags, dont_inherit=True), index)
            self._code[future_flags] = index
        return index


def _check_fresh(
    cls: type, filename: str, parsed: _ParsedFile, span_qualname: str, first: int, last: int
) -> None:
    """Raise unless the class's methods are exactly what the file's text compiles to now.

    A module edited after it was imported still shows its new text; storing
    that text beside the old running code would make ``source.py`` lie. Each
    method's code object is compared with the code compiled from the file:
    bytecode, constants, names and line table must all be equal.
    """
    prefix = span_qualname + "."
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
        compiled = parsed.code_index(filename, code.co_flags & _FUTURE_FLAGS).get((code.co_name, line_no), [])
        if not any(candidate == code for candidate in compiled):
            raise StaleSourceError(
                cls.__qualname__,
                filename,
                f"{func.__name__} (line {line_no}) is not what the file's text compiles to now",
            )


def _enclosing_span(spans: _Spans, lines: set[int]) -> tuple[str, tuple[int, int]] | None:
    """The innermost class in the file that holds all these lines (a class renamed after definition)."""
    best: tuple[str, tuple[int, int]] | None = None
    for qualname, found in spans.items():
        for first, last in found:
            if all(first <= n <= last for n in lines) and (best is None or first >= best[1][0]):
                best = (qualname, (first, last))
    return best


class SourceFinder:
    """Finds class sources, parsing each module file once while it is unchanged."""

    def __init__(self) -> None:
        # Keyed by the identity of linecache's line list: a checkcache() that
        # notices a changed file replaces the list, and so invalidates the entry.
        self._parsed_files: dict[str, _ParsedFile] = {}
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

    def _parsed(self, filename: str, lines: list[str]) -> _ParsedFile:
        cached = self._parsed_files.get(filename)
        if cached is not None and cached.lines is lines:
            return cached
        tree = ast.parse("".join(lines), filename)
        parsed = _ParsedFile(lines, tree, _class_spans(tree))
        self._parsed_files[filename] = parsed
        return parsed

    def function_text(self, func: types.FunctionType) -> str | None:
        """The dedented text of a top-level function of its module's file, or None if there is none.

        Read from the module file parsed once (``inspect.getsource`` tokenizes the
        whole file again for every function).
        """
        module = sys.modules.get(func.__module__)
        filename = func.__code__.co_filename
        if module is None or getattr(module, "__file__", None) is None:
            return None
        linecache.checkcache(filename)
        lines = linecache.getlines(filename, module.__dict__)
        if not lines:
            return None
        try:
            parsed = self._parsed(filename, lines)
        except (SyntaxError, ValueError):
            return None
        for node in parsed.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func.__name__:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if first == func.__code__.co_firstlineno:
                    text = textwrap.dedent("".join(lines[first - 1 : node.end_lineno]))
                    return text if text.endswith("\n") else text + "\n"
        return None

    def find(self, cls: type) -> ClassSource:
        """The dedented source of ``cls``, or a ClassSource saying why there is none.

        Looks in the module's source file, then in the files its methods
        were compiled from that :mod:`linecache` holds: IPython and Jupyter
        keep every cell there, so a class defined in a notebook has its
        cell's text. The reasons never name a path: they go into
        ``source.py``, and a version id must not depend on where a file is.
        """
        module = sys.modules.get(cls.__module__)
        module_file = self._source_file(cls, module)
        candidates = [module_file] if module_file else []
        for code_file in sorted({f.__code__.co_filename for f in _class_functions(cls)}):
            if code_file not in candidates:
                candidates.append(code_file)
        reasons = [] if module_file else ["its module has no source file (defined by exec?)"]
        for filename in candidates:
            module_globals = module.__dict__ if module and filename == module_file else None
            found = self._find_in(cls, filename, module_globals)
            if isinstance(found, ClassSource):
                return found
            reasons.append(found)
        return ClassSource("", None, 0, 0, reasons[0])

    def _find_in(
        self, cls: type, filename: str, module_globals: dict[str, object] | None
    ) -> ClassSource | str:
        linecache.checkcache(filename)
        lines = linecache.getlines(filename, module_globals)
        if not lines:
            return "its source file cannot be read"
        try:
            parsed = self._parsed(filename, lines)
        except (SyntaxError, ValueError):
            return "its source file does not parse"
        code_lines = {
            f.__code__.co_firstlineno for f in _class_functions(cls) if f.__code__.co_filename == filename
        }
        span_qualname = cls.__qualname__
        spans = parsed.spans.get(span_qualname, [])
        if not spans:
            enclosing = _enclosing_span(parsed.spans, code_lines) if code_lines else None
            if enclosing is None:
                return f"no class {cls.__qualname__} in its source file"
            span_qualname, span = enclosing
            spans = [span]
        # Several definitions under one qualname: the running one is the one its
        # methods were compiled from; without methods, the last one wins (as at import).
        first, last = spans[-1]
        for span in spans:
            if any(span[0] <= n <= span[1] for n in code_lines):
                first, last = span
                break
        _check_fresh(cls, filename, parsed, span_qualname, first, last)
        text = textwrap.dedent("".join(lines[first - 1 : last]))
        if not text.endswith("\n"):
            text += "\n"
        head = lines[first - 1]
        return ClassSource(text, filename, first, last, indent=len(head) - len(head.lstrip(" \t")))
