"""A cloudpickle Pickler whose output depends only on the class's code.

cloudpickle alone is not deterministic for classes defined by value. This
subclass, without touching cloudpickle's global registries, fixes each cause:

* class tracker ids (random uuids) -> fixed-length placeholders, replaced by
  content-derived ids once the whole payload is hashed (:func:`dumps_class`);
* ``co_filename``/``co_firstlineno`` -> a canonical file name and lines
  relative to the class (methods map onto ``source.py``) or to the function;
* ``__file__``/``__path__`` copied into by-value function globals -> dropped;
* set/frozenset element order (``PYTHONHASHSEED``) -> written sorted;
* ``__firstlineno__`` (3.13) -> line 1 of ``source.py``;
* user-module objects that cloudpickle would reference by import (TypeVars,
  modules, ``functools.lru_cache`` wrappers) -> captured by value, and any
  other by-reference object from user code -> refused with a clear error.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import io
import pickle
import types
import typing
from collections import ChainMap
from dataclasses import dataclass
from typing import Any

import cloudpickle
from cloudpickle import cloudpickle as _cp

from gitpet import _rebuild
from gitpet._errors import UnpicklableClassError
from gitpet._modpolicy import ModulePolicy

__all__ = ["HEAPTYPE", "PickledClass", "canonical_filename", "dumps_class"]

_TRACKER_PREFIX = "gitpet:"
_PLACEHOLDER_FILL = "~" * 24
_TRACKER_LENGTH = len(_TRACKER_PREFIX) + 32
_DIGEST_SALT = b"gitpet-class-pickle-v1\0"
_CANON_TYPES = frozenset({set, frozenset, tuple, list, dict})
# Where a module lived and how it was loaded: not part of its behaviour.
_MODULE_STATE_DROPPED = ("__builtins__", "__file__", "__cached__", "__loader__", "__spec__", "__path__")
HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set for classes written in Python


def canonical_filename(module: str, qualname: str, source_text: str) -> str:
    """The ``co_filename`` of a stored class's methods: ``source.py`` of its version.

    It names the source text's digest so two versions never share a
    ``linecache`` entry, while staying independent of where the module lived.
    """
    digest = hashlib.sha1(source_text.encode("utf-8")).hexdigest()[:12]
    return f"gitpet://{module}.{qualname}@{digest}/source.py"


@dataclass(frozen=True)
class PickledClass:
    """The deterministic pickle of a class and what it captured by value."""

    data: bytes
    by_value_modules: tuple[str, ...]


@dataclass(frozen=True)
class _RootSpan:
    filename: str | None
    first_line: int
    last_line: int
    canonical: str


def _order_key(item: object) -> tuple[str, Any]:
    """A total order over hashable values that does not depend on hash seeds."""
    if isinstance(item, (set, frozenset)):
        return ("frozenset", tuple(sorted(_order_key(e) for e in item)))
    if isinstance(item, tuple):
        return ("tuple", tuple(_order_key(e) for e in item))
    if isinstance(item, (str, bytes, int, float)):
        return (type(item).__qualname__, item)
    return (type(item).__qualname__, repr(item))


def _fresh(value: Any) -> Any:
    """An unshared copy of a str (or of the strs in a tuple of strs).

    Whether two equal strings are one object decides whether pickle writes
    the second as a memo reference; CPython interns names when it rebuilds
    code objects, so that sharing differs after a load. Unshared copies make
    the payload independent of interning (cloudpickle #524).
    """
    if type(value) is str:
        return "".join(value)
    if type(value) is tuple and value and all(type(v) is str for v in value):
        return tuple("".join(v) for v in value)
    return value


class _SortedSet:
    """Stands in for a set while pickling: it unpickles as the set, sorted."""

    __slots__ = ("items", "kind")

    def __init__(self, kind: type, items: list[Any]) -> None:
        self.kind = kind
        self.items = items

    def reduce(self) -> tuple[type, tuple[list[Any]]]:
        return (self.kind, (self.items,))


class DeterministicPickler(cloudpickle.Pickler):  # type: ignore[misc]
    """Pickles a class by value, byte-for-byte the same for the same code."""

    def __init__(self, file: io.BytesIO, policy: ModulePolicy, root: type, span: _RootSpan) -> None:
        # The C pickler reads dispatch_table once, in __init__.
        self.dispatch_table = ChainMap(
            {types.CodeType: self._code_reduce, types.CellType: self._cell_reduce},
            cloudpickle.Pickler.dispatch_table,
        )
        super().__init__(file, protocol=pickle.DEFAULT_PROTOCOL)
        self._policy = policy
        self._root = root
        self._span = span
        self.placeholders: list[str] = []
        self._placeholder_of: dict[int, str] = {}
        self.by_value_modules: set[str] = set()
        self._code_cache: dict[int, types.CodeType] = {}
        # id -> stand-in, so values reached twice stay one object after loading.
        self._canon_memo: dict[int, Any] = {}
        self._keepalive: list[Any] = []

    # -- set order -----------------------------------------------------------
    # The C pickler writes set/frozenset without calling reducer_override, in
    # hash order. Where a class's payload holds values (class dict, function
    # globals, defaults, closure cells, code constants) sets are swapped for
    # stand-ins that unpickle as the same set, written sorted.

    def _canon(self, value: Any) -> Any:
        value_type = type(value)
        if value_type not in _CANON_TYPES:
            return value
        key = id(value)
        if key in self._canon_memo:
            return self._canon_memo[key]
        self._keepalive.append(value)
        result: Any = value
        if value_type is set or value_type is frozenset:
            items = sorted(value, key=_order_key)
            result = _SortedSet(value_type, [self._canon(e) for e in items])
        elif value_type is tuple:
            items = [self._canon(e) for e in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                result = tuple(items)
        elif value_type is list:
            items = [self._canon(e) for e in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                result = items
        elif value_type is dict:
            pairs = {k: self._canon(v) for k, v in value.items()}
            if any(pairs[k] is not v for k, v in value.items()):
                result = pairs
        self._canon_memo[key] = result
        return result

    def _canon_dict(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: self._canon(v) for k, v in values.items()}

    def _code_reduce(self, code: types.CodeType) -> Any:
        constructor, args = _cp._code_reduce(code)
        consts = code.co_consts
        return constructor, tuple(
            tuple(_fresh(c) for c in self._canon(a)) if a is consts else _fresh(a) for a in args
        )

    def _cell_reduce(self, cell: types.CellType) -> Any:
        try:
            contents = cell.cell_contents
        except ValueError:
            return _cp._make_empty_cell, ()
        return _cp._make_cell, (self._canon(contents),)

    # -- what goes by value --------------------------------------------------

    def _by_value(self, module: object) -> bool:
        return isinstance(module, str) and self._policy.is_by_value(module)

    def _placeholder(self, obj: object) -> str:
        key = id(obj)
        placeholder = self._placeholder_of.get(key)
        if placeholder is None:
            placeholder = f"{_TRACKER_PREFIX}{_PLACEHOLDER_FILL}{len(self.placeholders):08d}"
            self.placeholders.append(placeholder)
            self._placeholder_of[key] = placeholder
        return placeholder

    def reducer_override(self, obj: Any) -> Any:
        obj_type = type(obj)
        if obj_type is _SortedSet:
            return obj.reduce()
        if isinstance(obj, type):
            heap = obj.__flags__ & HEAPTYPE
            if obj is self._root or (heap and self._by_value(obj.__module__)):
                return self._class_reduce(obj)
            if heap and not _cp._should_pickle_by_reference(obj):
                return self._class_reduce(obj)
            return _cp._class_reduce(obj)
        if obj_type is types.FunctionType:
            if self._by_value(obj.__module__) or not _cp._should_pickle_by_reference(obj):
                self.by_value_modules.add(obj.__module__)
                return self._dynamic_function_reduce(obj)
            return NotImplemented
        if obj_type is types.ModuleType:
            return self._module_reduce(obj)
        if obj_type is typing.TypeVar:
            return self._typevar_reduce(obj)
        if isinstance(obj, functools._lru_cache_wrapper) and self._by_value(getattr(obj, "__module__", None)):
            params = obj.cache_parameters()
            return (_rebuild.lru_cached, (obj.__wrapped__, params["maxsize"], params["typed"]))
        if obj_type not in self.dispatch_table:
            self._refuse_user_reference(obj)
        return NotImplemented

    def _refuse_user_reference(self, obj: Any) -> None:
        """Refuse objects that would be pickled as an import of user code."""
        reduce_ex = getattr(obj, "__reduce_ex__", None)
        if reduce_ex is None:
            return
        try:
            reduced = reduce_ex(self.proto)
        except TypeError:
            return  # pickle itself will raise the precise error
        if isinstance(reduced, str):
            module = getattr(obj, "__module__", None) or _cp._whichmodule(obj, reduced)
            if self._by_value(module):
                raise UnpicklableClassError(
                    self._root.__qualname__,
                    f"{module}.{reduced} ({type(obj).__qualname__})",
                    "it pickles as an import of user code, which the loading machine "
                    "may not have; make it a plain function or class, or mark its "
                    "module by_reference if every machine installs it",
                )

    # -- classes -------------------------------------------------------------

    def _class_reduce(self, obj: type) -> Any:
        self.by_value_modules.add(obj.__module__)
        tracker = self._placeholder(obj)
        is_enum = issubclass(obj, enum.Enum)
        getstate = _cp._enum_getstate if is_enum else _cp._class_getstate
        clsdict, slotstate = getstate(obj)
        if "_abc_impl" in clsdict and isinstance(clsdict["_abc_impl"], list):
            clsdict["_abc_impl"] = sorted(clsdict["_abc_impl"], key=lambda c: (c.__module__, c.__qualname__))
        if "__firstlineno__" in clsdict:
            clsdict["__firstlineno__"] = 1
        clsdict = self._canon_dict(clsdict)
        if is_enum:
            members = {e.name: e.value for e in obj}  # type: ignore[attr-defined]
            newargs: tuple[Any, ...] = (
                obj.__bases__,
                obj.__name__,
                obj.__qualname__,
                members,
                obj.__module__,
                tracker,
                None,
            )
            return (_cp._make_skeleton_enum, newargs, (clsdict, slotstate), None, None, _cp._class_setstate)
        type_kwargs: dict[str, Any] = {}
        if "__module__" in obj.__dict__:
            type_kwargs["__module__"] = obj.__module__
        dict_descriptor = obj.__dict__.get("__dict__", None)
        if isinstance(dict_descriptor, property):
            type_kwargs["__dict__"] = dict_descriptor
        newargs = (type(obj), obj.__name__, _cp._get_bases(obj), type_kwargs, tracker, None)
        return (_cp._make_skeleton_class, newargs, (clsdict, slotstate), None, None, _cp._class_setstate)

    def _typevar_reduce(self, obj: typing.TypeVar) -> Any:
        module = getattr(obj, "__module__", None)
        if not self._by_value(module):
            return _cp._typevar_reduce(obj)
        name, bound, constraints, covariant, contravariant, _tracker = _cp._decompose_typevar(obj)
        return (
            _cp._make_typevar,
            (name, bound, constraints, covariant, contravariant, self._placeholder(obj)),
        )

    def _module_reduce(self, obj: types.ModuleType) -> Any:
        if not self._by_value(obj.__name__):
            return (_cp.subimport, (obj.__name__,))
        self.by_value_modules.add(obj.__name__)
        state = {k: v for k, v in vars(obj).items() if k not in _MODULE_STATE_DROPPED}
        return (_cp.dynamic_subimport, (obj.__name__, state))

    # -- functions -----------------------------------------------------------

    def _dynamic_function_reduce(self, func: types.FunctionType) -> Any:
        newargs = self._function_getnewargs(func)
        state, slotstate = _cp._function_getstate(func)
        slotstate["__globals__"] = {_fresh(k): self._canon(v) for k, v in slotstate["__globals__"].items()}
        slotstate["__defaults__"] = self._canon(slotstate["__defaults__"])
        slotstate["__kwdefaults__"] = self._canon(slotstate["__kwdefaults__"])
        return (_cp._make_function, newargs, (state, slotstate), None, None, _cp._function_setstate)

    def _function_getnewargs(self, func: types.FunctionType) -> Any:
        _code, base_globals, name, argdefs, closure = super()._function_getnewargs(func)
        # The module's location must not leak into the payload.
        base_globals.pop("__file__", None)
        base_globals.pop("__path__", None)
        return self._normalized_code(func), base_globals, name, argdefs, closure

    def _normalized_code(self, func: types.FunctionType) -> types.CodeType:
        code = func.__code__
        cached = self._code_cache.get(id(code))
        if cached is not None:
            return cached
        span = self._span
        first = code.co_firstlineno
        if code.co_filename == span.filename and span.first_line <= first <= span.last_line:
            filename, offset = span.canonical, span.first_line - 1
        elif code.co_filename == span.canonical:
            filename, offset = span.canonical, 0
        else:
            filename = f"gitpet://{func.__module__}.{func.__qualname__}"
            offset = first - 1
        normalized = _relocate(code, filename, offset)
        self._code_cache[id(code)] = normalized
        return normalized


def _relocate(code: types.CodeType, filename: str, offset: int) -> types.CodeType:
    consts = tuple(
        _relocate(c, filename, offset) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(
        co_filename=filename,
        co_firstlineno=max(1, code.co_firstlineno - offset),
        co_consts=consts,
    )


def dumps_class(
    cls: type,
    policy: ModulePolicy,
    *,
    source_text: str,
    filename: str | None,
    first_line: int,
    last_line: int,
) -> PickledClass:
    """Pickle ``cls`` by value, deterministically.

    Pickles once with fixed-length placeholder tracker ids, hashes that
    payload together with the source text (so versions differing only in
    comments are distinct classes), and swaps each placeholder for an id
    derived from that hash: same length, so the pickle stays valid.
    """
    span = _RootSpan(
        filename=filename,
        first_line=first_line,
        last_line=last_line,
        canonical=canonical_filename(cls.__module__, cls.__qualname__, source_text),
    )
    buffer = io.BytesIO()
    pickler = DeterministicPickler(buffer, policy, cls, span)
    try:
        pickler.dump(cls)
    except UnpicklableClassError:
        raise
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as err:
        raise UnpicklableClassError(cls.__qualname__, type(err).__name__, str(err)) from err
    data = buffer.getvalue()
    digest = hashlib.sha256(_DIGEST_SALT + source_text.encode("utf-8") + b"\0" + data).digest()
    for index, placeholder in enumerate(pickler.placeholders):
        tracker = hashlib.sha256(digest + index.to_bytes(4, "big")).hexdigest()[:32]
        final = f"{_TRACKER_PREFIX}{tracker}"
        assert len(final) == len(placeholder) == _TRACKER_LENGTH
        data = data.replace(placeholder.encode("ascii"), final.encode("ascii"))
    modules = tuple(sorted(m for m in pickler.by_value_modules if isinstance(m, str)))
    return PickledClass(data, modules)
