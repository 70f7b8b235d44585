"""The functions a stored ``class.pkl`` calls to rebuild a class: a frozen table.

A version written by gitpet's format 2 references, besides the standard
library and the packages the class itself imports, only the names below.
They are part of the storage format, like ``meta.json``'s keys: their module
path, names and signatures never change, so every stored version loads with
every later gitpet. A new need gets a new name; an old name is never moved,
renamed or given another meaning. ``tests/golden`` holds stored versions that
prove it (every global a golden pickle names must be in :data:`STORED_NAMES`).

Nothing here is meant to be called by hand; the functions are documented so
that ``git show <version>:class.pkl | python -m pickletools`` reads plainly.

Examples:
    >>> "gitpet.rebuild.class_skeleton" in STORED_NAMES
    True
    >>> cell(3).cell_contents
    3
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import importlib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

__all__ = [
    "STORED_NAMES",
    "builtin_type",
    "cell",
    "class_skeleton",
    "code",
    "dataclass_sentinel",
    "enum_skeleton",
    "function",
    "import_module",
    "lru_cached",
    "module",
    "set_class_state",
    "set_function_state",
    "typevar",
]

_ABC_REGISTRY = "_abc_impl"


def code(*fields: Any) -> types.CodeType:
    """A code object from the positional fields of ``types.CodeType`` on this Python minor."""
    return types.CodeType(*fields)


def cell(*contents: Any) -> types.CellType:
    """A closure cell holding ``contents[0]``, or an empty cell when called with nothing."""
    return types.CellType(*contents)


def function(
    code: types.CodeType, namespace: dict[str, Any], name: str, closure: tuple[types.CellType, ...] | None
) -> types.FunctionType:
    """A function over ``namespace``, its module's globals (shared by the functions of one module)."""
    namespace.setdefault("__builtins__", builtins)
    return types.FunctionType(code, namespace, name, None, closure)


def set_function_state(func: types.FunctionType, state: Mapping[str, Any]) -> types.FunctionType:
    """Fill in a function made by :func:`function` once everything it refers to exists.

    ``state`` holds its attributes (``__qualname__``, ``__defaults__``, ...),
    the globals it uses, its closure's contents and its ``__dict__``.
    """
    func.__globals__.update(state["globals"])
    contents = state["closure"]
    if contents is not None and func.__closure__ is not None:
        for target, source in zip(func.__closure__, contents, strict=True):
            try:
                target.cell_contents = source.cell_contents
            except ValueError:  # an empty cell stays empty
                continue
    for attribute, value in state["attributes"].items():
        setattr(func, attribute, value)
    func.__dict__.update(state["dict"])
    return func


def class_skeleton(metaclass: type, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
    """An empty class, filled in by :func:`set_class_state` (its attributes may refer to it)."""
    return types.new_class(name, bases, {"metaclass": metaclass}, lambda ns: ns.update(namespace))


def enum_skeleton(
    metaclass: type,
    name: str,
    bases: tuple[type, ...],
    namespace: dict[str, Any],
    members: Sequence[tuple[str, Any]],
) -> type:
    """An enum class with its members in definition order, filled in by :func:`set_class_state`."""
    classdict = metaclass.__prepare__(name, bases)
    for key, value in namespace.items():
        classdict[key] = value
    for member, value in members:
        classdict[member] = value
    result: type = metaclass(name, bases, classdict)
    return result


def set_class_state(cls: type, state: Mapping[str, Any]) -> type:
    """Set a class's attributes; ``_abc_impl`` lists subclasses registered with an ABC."""
    for attribute, value in state.items():
        if attribute != _ABC_REGISTRY and attribute != "__firstlineno__":
            setattr(cls, attribute, value)
    if "__firstlineno__" in state:
        # Python 3.13 drops __firstlineno__ when __module__ is set: set it last.
        cls.__firstlineno__ = state["__firstlineno__"]  # type: ignore[attr-defined]
    for subclass in state.get(_ABC_REGISTRY, ()):
        cls.register(subclass)  # type: ignore[attr-defined]
    return cls


def typevar(
    name: str, bound: Any, constraints: tuple[Any, ...], covariant: bool, contravariant: bool, module: str
) -> Any:
    """A ``typing.TypeVar`` that a class's code defined in its own module."""
    result = typing.TypeVar(  # type: ignore[misc]  # the name is data here
        name, *constraints, bound=bound, covariant=covariant, contravariant=contravariant
    )
    result.__module__ = module
    return result


def import_module(name: str) -> types.ModuleType:
    """An installed module, imported by name (submodules included)."""
    return importlib.import_module(name)


def module(name: str, namespace: Mapping[str, Any]) -> types.ModuleType:
    """A user module captured by value: a fresh module object, never put in ``sys.modules``."""
    result = types.ModuleType(name)
    result.__dict__.update(namespace)
    result.__dict__["__builtins__"] = builtins
    return result


def builtin_type(name: str) -> type:
    """A type that ``types`` names but ``builtins`` does not (``CodeType``, ``MappingProxyType``, ...)."""
    result = getattr(types, name)
    if not isinstance(result, type):
        raise TypeError(f"types.{name} is not a type")
    return result


DATACLASS_SENTINELS: Final = (
    "_FIELD",
    "_FIELD_CLASSVAR",
    "_FIELD_INITVAR",
    "MISSING",
    "KW_ONLY",
    "_HAS_DEFAULT_FACTORY",
)
"""The markers of :mod:`dataclasses` that it compares by identity (``f.default is MISSING``)."""


def dataclass_sentinel(name: str) -> object:
    """One of :data:`DATACLASS_SENTINELS`, by name: it must load as the very same object."""
    if name not in DATACLASS_SENTINELS:
        raise ValueError(f"not a dataclasses marker: {name!r}")
    return getattr(dataclasses, name)


def lru_cached(func: Callable[..., Any], maxsize: int | None, typed: bool) -> Callable[..., Any]:
    """Re-apply ``functools.lru_cache`` to a function captured by value."""
    return functools.lru_cache(maxsize=maxsize, typed=typed)(func)


# Every gitpet and cloudpickle name a stored pickle may reference. Format 2
# uses the gitpet.rebuild and public gitpet names; the rest are what format-1
# versions (gitpet 0.1) reference, kept importable for as long as format 1 loads.
_FORMAT_2_NAMES = tuple(f"gitpet.rebuild.{name}" for name in __all__ if name != "STORED_NAMES")
_PUBLIC_NAMES = (
    "gitpet.BasePlugin",
    "gitpet.Container",
    "gitpet.PetContainer",
    "gitpet.loaded_version",
)
_FORMAT_1_NAMES = (
    "gitpet._rebuild.lru_cached",
    "gitpet._plugin.BasePlugin",
    # A method that used Container captured a copy of it (the bug format 2 fixes).
    "gitpet._container.PetContainer",
    "gitpet._factory.BaseFactory",
    "cloudpickle.cloudpickle._builtin_type",
    "cloudpickle.cloudpickle._class_setstate",
    "cloudpickle.cloudpickle._function_setstate",
    "cloudpickle.cloudpickle._make_cell",
    "cloudpickle.cloudpickle._make_empty_cell",
    "cloudpickle.cloudpickle._make_function",
    "cloudpickle.cloudpickle._make_skeleton_class",
    "cloudpickle.cloudpickle._make_skeleton_enum",
    "cloudpickle.cloudpickle._make_typevar",
    "cloudpickle.cloudpickle._get_dataclass_field_type_sentinel",
    "cloudpickle.cloudpickle.dynamic_subimport",
    "cloudpickle.cloudpickle.subimport",
)
STORED_NAMES: Final[frozenset[str]] = frozenset(_FORMAT_2_NAMES + _PUBLIC_NAMES + _FORMAT_1_NAMES)
"""``module.qualname`` of every gitpet or cloudpickle object a stored pickle may name.

Besides these, a pickle names standard-library objects, the installed
packages the class uses, and gitpet's public names that user code refers to
(``gitpet.<Name>`` for every name in ``gitpet.__all__``, which all stay
importable; format-1 versions name the same classes as
``gitpet._errors.<Name>``, kept too).
"""
