"""A pickler whose output depends only on the class's code and on gitpet's format.

Every reduction that decides the bytes of a class pickled by value is
gitpet's own: code objects, functions, cells, classes, enums, type
variables, modules captured by value. They rebuild through
:mod:`gitpet.rebuild`, a frozen table of names, so neither which cloudpickle
release is installed nor its private helpers can change a version id.

What would otherwise make the same code pickle differently, and how it is fixed:

* ``co_filename``/``co_firstlineno`` -> a canonical file name and lines
  relative to the class (methods map onto ``source.py``) or to the function;
* the module's ``__file__``/``__path__`` -> never captured;
* set/frozenset element order (``PYTHONHASHSEED``) -> written sorted;
* which equal strings are one object (CPython interns names when it builds
  code objects and sets attributes, so sharing differs after a load; see
  cloudpickle #524) -> every string gitpet writes is a fresh copy, so the
  pickle never refers back to an earlier string;
* class dict order after a load -> keys written sorted;
* ``__firstlineno__`` (3.13) -> relative to ``source.py``;
* no random class-tracker ids at all: a class loads once per process per
  pickle (:mod:`gitpet.codec.classcodec`), which is what the tracker was for.

Objects from user code that would otherwise be pickled as an import (a
``functools.lru_cache`` wrapper, a TypeVar, a module) are captured by value;
anything else that would be an import of user code, and gitpet's own
stateful objects other than ``gitpet.Container``, is refused with
:class:`~gitpet.UnpicklableClassError` naming it.
"""

from __future__ import annotations

import abc
import builtins
import copyreg
import dataclasses
import enum
import functools
import io
import pickle
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any, Final

import gitpet.rebuild as rebuild
from gitpet.codec.bytecode import named_instructions, opcodes
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.codec.reads import GlobalReads, class_parts
from gitpet.codec.stored_code import HEAPTYPE, canonical_filename
from gitpet.errors import UnpicklableClassError

__all__ = ["HEAPTYPE", "PICKLE_PROTOCOL", "GlobalReads", "PickledClass", "canonical_filename", "dumps_class"]

# Fixed rather than pickle.DEFAULT_PROTOCOL, which Python 3.14 raises to 5.
PICKLE_PROTOCOL: Final = 4
_CANON_TYPES = frozenset({set, frozenset, tuple, list, dict, str, bytes})
# Where a module lived and how it was loaded: not part of its behaviour.
_MODULE_STATE_DROPPED = frozenset(
    {"__builtins__", "__file__", "__cached__", "__loader__", "__spec__", "__path__"}
)
_FUNCTION_GLOBALS_KEPT = ("__package__", "__name__")
# Attributes the enum machinery rebuilds from the members themselves.
_ENUM_DERIVED = (
    "_generate_next_value_",
    "_member_names_",
    "_member_map_",
    "_member_type_",
    "_value2member_map_",
)
_ABC_CACHES = (
    "_abc_cache",
    "_abc_negative_cache",
    "_abc_negative_cache_version",
    "_abc_registry",
    "_abc_impl",
)
_GLOBAL_OPS = opcodes("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL")
# Types that ``types`` names but that cannot be pickled as ``builtins.<name>``.
_TYPES_BY_IDENTITY: Final[dict[int, str]] = {
    id(value): name
    for name, value in vars(types).items()
    if isinstance(value, type) and not name.startswith("_") and getattr(builtins, name, None) is not value
}
# dataclasses compares these markers by identity: they must load as the very same objects.
_DATACLASS_SENTINELS: Final[dict[int, str]] = {
    id(getattr(dataclasses, name)): name for name in rebuild.DATACLASS_SENTINELS if hasattr(dataclasses, name)
}
_LRU_WRAPPER = type(functools.lru_cache(maxsize=1)(lambda: None))
_UNBOUND = object()
_NOTHING_READ: Final = GlobalReads((), settled=False)


@dataclass(frozen=True)
class PickledClass:
    """The deterministic pickle of a class, what it captured by value, and what globals it read."""

    data: bytes
    by_value_modules: tuple[str, ...]
    reads: GlobalReads = _NOTHING_READ
    by_reference_modules: tuple[str, ...] = ()
    """The modules of the classes, functions and modules the pickle imports by name, sorted."""


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


def _fresh_str(value: str) -> str:
    # "".join of a str's characters builds a new object (single characters
    # and "" are CPython singletons, shared the same way before and after a load).
    return "".join(value)


def _fresh_bytes(value: bytes) -> bytes:
    return bytes(bytearray(value)) if len(value) > 1 else value


def _importable(obj: object, module_name: object, qualname: object) -> bool:
    """Whether ``import module_name`` then walking ``qualname`` finds ``obj`` itself."""
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return False
    target: object = sys.modules.get(module_name)
    if target is None:
        return False
    for part in qualname.split("."):
        if part == "<locals>":
            return False
        target = getattr(target, part, None)
        if target is None:
            return False
    return target is obj


def _global_names(code: types.CodeType, out: dict[str, None]) -> None:
    """The global names ``code`` (and the code nested in it) reads, writes or deletes, in order."""
    for _op, name in named_instructions(code, _GLOBAL_OPS):
        out[name] = None
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _global_names(const, out)


def _attribute_names(code: types.CodeType, out: set[str]) -> None:
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _attribute_names(const, out)


def _code_fields(
    code: types.CodeType, consts: tuple[Any, ...], filename: str, firstlineno: int
) -> tuple[Any, ...]:
    """The positional arguments of ``types.CodeType`` on this Python minor (a pickle is minor-specific)."""
    names = tuple(_fresh_str(n) for n in code.co_names)
    varnames = tuple(_fresh_str(n) for n in code.co_varnames)
    freevars = tuple(_fresh_str(n) for n in code.co_freevars)
    cellvars = tuple(_fresh_str(n) for n in code.co_cellvars)
    head = (
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_nlocals,
        code.co_stacksize,
        code.co_flags,
        _fresh_bytes(code.co_code),
        consts,
        names,
        varnames,
        _fresh_str(filename),
        _fresh_str(code.co_name),
    )
    if sys.version_info >= (3, 11):
        return (
            *head,
            _fresh_str(code.co_qualname),
            firstlineno,
            _fresh_bytes(code.co_linetable),
            _fresh_bytes(code.co_exceptiontable),
            freevars,
            cellvars,
        )
    return (*head, firstlineno, _fresh_bytes(code.co_linetable), freevars, cellvars)


class _SortedSet:
    """Stands in for a set while pickling: it unpickles as the set, sorted."""

    __slots__ = ("items", "kind")

    def __init__(self, kind: type, items: list[Any]) -> None:
        self.kind = kind
        self.items = items


class DeterministicPickler(pickle.Pickler):
    """Pickles a class by value, byte-for-byte the same for the same code."""

    def __init__(self, file: io.BytesIO, policy: ModulePolicy, root: type, span: _RootSpan) -> None:
        super().__init__(file, protocol=PICKLE_PROTOCOL)
        self._policy = policy
        self._root = root
        self._span = span
        self.by_value_modules: set[str] = set()
        # id(code) -> (co_filename, line offset) of every code object to be written.
        self._code_location: dict[int, tuple[str, int]] = {}
        # module name (else id of the globals) -> the namespace its functions share once loaded.
        self._namespaces: dict[object, dict[str, Any]] = {}
        # id -> stand-in, so values reached twice stay one object after loading.
        self._canon_memo: dict[int, Any] = {}
        # Everything whose id is a key above stays alive until the dump ends.
        self._keepalive: list[Any] = []
        # Each module global a function of the pickle reads, and whether all stay as pickled.
        self.reads: list[tuple[dict[str, Any], str, object]] = []
        # Modules whose objects the pickle names (imports) rather than copies.
        self.by_reference_modules: set[str] = set()
        self.classes: list[tuple[type, tuple[object, ...]]] = []
        self.settled = True

    # -- canonical values ----------------------------------------------------
    # The C pickler writes str, bytes and the builtin containers without
    # calling reducer_override. Wherever a class's payload holds values, they
    # are swapped for canonical copies first: strings unshared, sets sorted.

    def _canon(self, value: Any) -> Any:
        value_type = type(value)
        if value_type not in _CANON_TYPES:
            return value
        if value_type is str:
            return _fresh_str(value)
        if value_type is bytes:
            return _fresh_bytes(value)
        key = id(value)
        if key in self._canon_memo:
            return self._canon_memo[key]
        self._keepalive.append(value)
        result: Any
        if value_type is list:
            result = []
            self._canon_memo[key] = result  # before the items: a list may contain itself
            result.extend(self._canon(e) for e in value)
        elif value_type is dict:
            result = {}
            self._canon_memo[key] = result
            for k, v in value.items():
                result[self._canon(k)] = self._canon(v)
        elif value_type is tuple:
            result = tuple(self._canon(e) for e in value)
            self._canon_memo[key] = result
        else:  # set, frozenset
            result = _SortedSet(value_type, [self._canon(e) for e in sorted(value, key=_order_key)])
            self._canon_memo[key] = result
        self._keepalive.append(result)
        return result

    def _by_value(self, module: object) -> bool:
        return isinstance(module, str) and self._policy.is_by_value(module)

    # -- dispatch ------------------------------------------------------------

    def reducer_override(self, obj: Any) -> Any:
        obj_type = type(obj)
        if obj_type is _SortedSet:
            return (obj.kind, (obj.items,))
        if isinstance(obj, type):
            reduced = self._type_reduce(obj)
            if reduced is NotImplemented:
                self.by_reference_modules.add(obj.__module__)
            return reduced
        if obj_type is types.FunctionType:
            if self._by_value(obj.__module__) or not _importable(obj, obj.__module__, obj.__qualname__):
                return self._function_reduce(obj)
            self.by_reference_modules.add(obj.__module__)
            return NotImplemented
        if obj_type is types.BuiltinFunctionType and isinstance(obj.__module__, str):
            self.by_reference_modules.add(obj.__module__)
        if obj_type is types.CodeType:
            return self._code_reduce(obj)
        if obj_type is types.CellType:
            try:
                return (rebuild.cell, (self._canon(obj.cell_contents),))
            except ValueError:
                return (rebuild.cell, ())
        if obj_type is types.ModuleType:
            return self._module_reduce(obj)
        if obj_type is typing.TypeVar:
            module = getattr(obj, "__module__", None)
            if self._by_value(module) or not _importable(obj, module, obj.__name__):
                return (
                    rebuild.typevar,
                    (
                        _fresh_str(obj.__name__),
                        obj.__bound__,
                        self._canon(obj.__constraints__),
                        obj.__covariant__,
                        obj.__contravariant__,
                        self._canon(module),
                    ),
                )
            return NotImplemented
        if obj_type is _LRU_WRAPPER and self._by_value(getattr(obj, "__module__", None)):
            params = obj.cache_parameters()
            return (rebuild.lru_cached, (obj.__wrapped__, params["maxsize"], params["typed"]))
        if obj_type in (staticmethod, classmethod, abc.abstractclassmethod, abc.abstractstaticmethod):
            return (obj_type, (obj.__func__,))
        if obj_type is property or obj_type is abc.abstractproperty:
            return (obj_type, (obj.fget, obj.fset, obj.fdel, self._canon(obj.__doc__)))
        if obj_type is functools.cached_property:
            state = {"attrname": self._canon(obj.attrname), "__doc__": self._canon(obj.__doc__)}
            return (obj_type, (obj.func,), state)
        if obj_type is types.MethodType:
            return (types.MethodType, (obj.__func__, obj.__self__))
        if obj_type is types.MappingProxyType:
            return (types.MappingProxyType, (self._canon(dict(obj)),))
        if obj_type in (types.GetSetDescriptorType, types.MemberDescriptorType):
            return (getattr, (obj.__objclass__, _fresh_str(obj.__name__)))
        sentinel = _DATACLASS_SENTINELS.get(id(obj))
        if sentinel is not None:
            return (rebuild.dataclass_sentinel, (sentinel,))
        if obj_type.__module__.partition(".")[0] == "gitpet":
            return self._gitpet_object_reduce(obj)
        return self._generic_reduce(obj)

    def _generic_reduce(self, obj: Any) -> Any:
        """Any other object, reduced as pickle would, with its arguments and state made canonical."""
        if type(obj) in copyreg.dispatch_table:
            return NotImplemented
        reduce_ex = getattr(obj, "__reduce_ex__", None)
        if reduce_ex is None:
            return NotImplemented
        try:
            reduced = reduce_ex(PICKLE_PROTOCOL)
        except Exception:  # noqa: BLE001 - pickle itself raises the precise error
            return NotImplemented
        if isinstance(reduced, str):
            module = getattr(obj, "__module__", None) or pickle.whichmodule(obj, reduced)  # type: ignore[attr-defined]
            if self._by_value(module):
                raise UnpicklableClassError(
                    self._root.__qualname__,
                    f"{module}.{reduced} ({type(obj).__qualname__})",
                    "it pickles as an import of user code, which the loading machine "
                    "may not have; make it a plain function or class, or mark its "
                    "module by_reference if every machine installs it",
                )
            return NotImplemented
        if not isinstance(reduced, tuple) or not 2 <= len(reduced) <= 6:
            return NotImplemented
        parts = list(reduced) + [None] * (6 - len(reduced))
        func, args, state, list_items, dict_items, setter = parts
        return (
            func,
            self._canon(args),
            self._canon(state),
            None if list_items is None else iter(self._canon(list(list_items))),
            None if dict_items is None else iter(self._canon(list(dict_items))),
            setter,
        )

    def _gitpet_object_reduce(self, obj: Any) -> Any:
        """gitpet's own objects travel by reference (``gitpet.Container``) or not at all."""
        reduced = obj.__reduce_ex__(PICKLE_PROTOCOL) if hasattr(obj, "__reduce_ex__") else None
        if isinstance(reduced, str) and _importable(obj, getattr(obj, "__module__", None), reduced):
            return NotImplemented
        raise UnpicklableClassError(
            self._root.__qualname__,
            f"a {type(obj).__qualname__} object",
            "gitpet's own stateful objects are not captured into a class (the copy would go "
            "stale); refer to gitpet.Container, or create the object inside the method",
        )

    # -- types ---------------------------------------------------------------

    def _type_reduce(self, cls: type) -> Any:
        heap = cls.__flags__ & HEAPTYPE
        if cls is self._root or (heap and self._by_value(cls.__module__)):
            return self._class_reduce(cls)
        if _importable(cls, cls.__module__, cls.__qualname__):
            return NotImplemented
        if heap:
            return self._class_reduce(cls)
        name = _TYPES_BY_IDENTITY.get(id(cls))
        if name is not None:
            return (rebuild.builtin_type, (name,))
        return NotImplemented  # NoneType and friends: pickle knows them

    def _class_state(self, cls: type) -> dict[str, Any]:
        """The class's own attributes, sorted by name, without what Python derives by itself.

        Every own attribute is kept, also one that is the very object a base
        holds: which values are one object (small ints, interned strings)
        changes after a load, so dropping those would change the id.
        """
        own = cls.__dict__
        state = {_fresh_str(k): own[k] for k in sorted(own)}
        for derived in ("__weakref__", "__dict__", "__module__", "__slots__"):
            state.pop(derived, None)
        slots = own.get("__slots__")
        if slots is not None:
            for slot in (slots,) if isinstance(slots, str) else slots:
                state.pop(slot, None)
        if isinstance(cls, abc.ABCMeta):
            for cache in _ABC_CACHES:
                state.pop(cache, None)
            registered = [ref() for ref in abc._get_dump(cls)[0]]  # type: ignore[attr-defined]
            if registered:
                state["_abc_impl"] = sorted(
                    (c for c in registered if c is not None), key=lambda c: (c.__module__, c.__qualname__)
                )
        if "__firstlineno__" in state:
            state["__firstlineno__"] = self._relative_firstlineno(cls)
        return state

    def _relative_firstlineno(self, cls: type) -> int:
        """``__firstlineno__`` (3.13) as a line of ``source.py``; 1 for classes outside it."""
        span = self._span
        line: int = cls.__firstlineno__  # type: ignore[attr-defined]
        if cls is not self._root or span.filename is None:
            return 1
        if span.filename == span.canonical:
            return line  # loaded from the store: already a line of source.py
        return line - span.first_line + 1 if span.first_line <= line <= span.last_line else 1

    def _class_reduce(self, cls: type) -> Any:
        self.by_value_modules.add(cls.__module__)
        state = self._class_state(cls)
        self.classes.append((cls, class_parts(cls)))
        self.settled = self.settled and not any(
            _may_change_in_place(value) for key, value in state.items() if not key.startswith("__")
        )
        namespace: dict[str, Any] = {
            "__module__": _fresh_str(cls.__module__),
            "__qualname__": _fresh_str(cls.__qualname__),
        }
        slots = cls.__dict__.get("__slots__")
        if slots is not None:
            namespace["__slots__"] = self._canon(slots)
        dict_descriptor = cls.__dict__.get("__dict__")
        if isinstance(dict_descriptor, property):
            namespace["__dict__"] = dict_descriptor
        bases = cls.__dict__.get("__orig_bases__", cls.__bases__)
        name = _fresh_str(cls.__name__)
        if issubclass(cls, enum.Enum):
            members = list(cls.__members__.items())
            for derived in (*_ENUM_DERIVED, *(member for member, _ in members)):
                state.pop(derived, None)
            member_values = [(_fresh_str(member), self._canon(value._value_)) for member, value in members]
            newargs: tuple[Any, ...] = (type(cls), name, bases, namespace, member_values)
            return (rebuild.enum_skeleton, newargs, self._canon(state), None, None, rebuild.set_class_state)
        newargs = (type(cls), name, bases, namespace)
        return (rebuild.class_skeleton, newargs, self._canon(state), None, None, rebuild.set_class_state)

    def _module_reduce(self, obj: types.ModuleType) -> Any:
        if not self._by_value(obj.__name__):
            self.by_reference_modules.add(obj.__name__)
            return (rebuild.import_module, (_fresh_str(obj.__name__),))
        self.by_value_modules.add(obj.__name__)
        state = {k: v for k, v in sorted(vars(obj).items()) if k not in _MODULE_STATE_DROPPED}
        return (rebuild.module, (_fresh_str(obj.__name__), self._canon(state)))

    # -- functions -----------------------------------------------------------

    def _function_reduce(self, func: types.FunctionType) -> Any:
        self.by_value_modules.add(func.__module__)
        code = func.__code__
        self._locate(func)
        used: dict[str, None] = {}
        _global_names(code, used)
        module_globals = func.__globals__
        globals_used = {
            _fresh_str(name): self._canon(module_globals[name])
            for name in sorted(used)
            if name in module_globals and name != "__builtins__"
        }
        for name in used:
            value = module_globals.get(name, _UNBOUND)
            self.reads.append((module_globals, name, value))
            self.settled = self.settled and not _may_change_in_place(value)
        submodules = self._submodules(code, globals_used.values())
        attributes: dict[str, Any] = {
            "__qualname__": _fresh_str(func.__qualname__),
            "__module__": self._canon(func.__module__),
            "__doc__": self._canon(func.__doc__),
            "__annotations__": self._canon(func.__annotations__),
            "__defaults__": self._canon(func.__defaults__),
            "__kwdefaults__": self._canon(func.__kwdefaults__),
        }
        type_params = getattr(func, "__type_params__", ())
        if type_params:
            attributes["__type_params__"] = type_params
        state = {
            "attributes": attributes,
            "globals": globals_used,
            "closure": func.__closure__,
            "dict": self._canon(func.__dict__),
            "submodules": submodules,
        }
        closure = None
        if func.__closure__ is not None:
            closure = tuple(types.CellType() for _ in func.__closure__)
            self._keepalive.append(closure)
        newargs = (code, self._namespace(module_globals), _fresh_str(func.__name__), closure)
        return (rebuild.function, newargs, state, None, None, rebuild.set_function_state)

    def _namespace(self, module_globals: dict[str, Any]) -> dict[str, Any]:
        """The globals dict a module's functions share once loaded: its name, never its location.

        Functions of one module share one, even when their globals are different dicts
        (a dataclass's generated methods take the imported module's, while the class was
        built from its text in a namespace of its own).
        """
        name = module_globals.get("__name__")
        key: object = name if isinstance(name, str) else id(module_globals)
        namespace = self._namespaces.get(key)
        if namespace is None:
            namespace = {
                _fresh_str(k): self._canon(module_globals[k])
                for k in _FUNCTION_GLOBALS_KEPT
                if k in module_globals
            }
            self._namespaces[key] = namespace
        return namespace

    def _submodules(self, code: types.CodeType, values: Any) -> list[types.ModuleType]:
        """Imported submodules the code reaches as attributes (``os.path``): imported again on load."""
        modules = [v for v in values if type(v) is types.ModuleType]
        if not modules:
            return []
        names: set[str] = set()
        _attribute_names(code, names)
        found: dict[str, types.ModuleType] = {}
        pending = [m.__name__ for m in modules]
        while pending:
            prefix = pending.pop()
            for name in names:
                candidate = f"{prefix}.{name}"
                module = sys.modules.get(candidate)
                if module is not None and candidate not in found:
                    found[candidate] = module
                    pending.append(candidate)
        return [found[name] for name in sorted(found)]

    def _locate(self, func: types.FunctionType) -> None:
        """Decide the file name and line offset of the function's code and of the code nested in it."""
        code = func.__code__
        if id(code) in self._code_location:
            return
        span = self._span
        first = code.co_firstlineno
        if code.co_filename == span.filename and span.first_line <= first <= span.last_line:
            location = (span.canonical, span.first_line - 1)
        elif code.co_filename == span.canonical:
            location = (span.canonical, 0)
        else:
            location = (f"gitpet://{func.__module__}.{func.__qualname__}", first - 1)
        self._place(code, location)

    def _place(self, code: types.CodeType, location: tuple[str, int]) -> None:
        self._code_location.setdefault(id(code), location)
        self._keepalive.append(code)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                self._place(const, location)

    def _code_reduce(self, code: types.CodeType) -> Any:
        filename, offset = self._code_location.get(id(code), ("gitpet://code", code.co_firstlineno - 1))
        consts = tuple(self._canon(c) for c in code.co_consts)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                self._place(const, (filename, offset))
        firstlineno = max(1, code.co_firstlineno - offset)
        return (rebuild.code, _code_fields(code, consts, filename, firstlineno))


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

    ``filename`` and the lines are where the class's source text is, so its
    methods' code maps onto ``source.py`` whose digest names the code's file:
    two versions differing only in comments pickle differently and load as
    two classes.

    Examples:
        >>> class Point:
        ...     def norm(self):
        ...         return 0
        >>> args = dict(source_text="class Point: ...\\n", filename=None, first_line=0, last_line=0)
        >>> dumps_class(Point, ModulePolicy(), **args) == dumps_class(Point, ModulePolicy(), **args)
        True
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
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError) as err:
        raise UnpicklableClassError(cls.__qualname__, type(err).__name__, str(err)) from err
    modules = tuple(sorted(m for m in pickler.by_value_modules if isinstance(m, str)))
    reads = GlobalReads(tuple(pickler.reads), pickler.settled, tuple(pickler.classes))
    by_reference = tuple(sorted(m for m in pickler.by_reference_modules if isinstance(m, str)))
    return PickledClass(buffer.getvalue(), modules, reads, by_reference)


# Types whose values never change once made (beside tuples and frozensets of them).
_IMMUTABLE_TYPES = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    range,
    type(Ellipsis),
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.ModuleType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.GetSetDescriptorType,
    types.MemberDescriptorType,
    types.GenericAlias,
    property,
    staticmethod,
    classmethod,
    enum.Enum,
    typing.TypeVar,
)
# Modules whose objects are definitions and values, not state (typing's special forms, ...).
_IMMUTABLE_MODULES = frozenset(
    {"typing", "typing_extensions", "decimal", "datetime", "fractions", "re", "uuid"}
)


def _may_change_in_place(value: object, depth: int = 0) -> bool:
    """Whether ``value`` can change without being rebound (a list, an array, an instance)."""
    if isinstance(value, _IMMUTABLE_TYPES) or value is _UNBOUND:
        return False
    if type(value) in (tuple, frozenset) and depth < 8:
        return any(_may_change_in_place(item, depth + 1) for item in value)  # type: ignore[attr-defined]
    return type(value).__module__.partition(".")[0] not in _IMMUTABLE_MODULES
