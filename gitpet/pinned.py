"""The functions a pickled instance of a loaded class calls: a frozen table, like :mod:`gitpet.rebuild`.

A class gitpet loaded is not importable by its module and name (its module
may not exist in this process, or hold another version), so the standard
pickle cannot name it. gitpet registers, for each class it loads, a reducer
(:func:`copyreg.pickle`) that pickles an instance as *version V of class N,
plus its state*; unpickling calls a function below, which asks this
process's resolver for that exact version (the class already loaded here, or
loaded from the store and remote the process is configured with), then makes
the instance as the standard pickle would have.

Pickles of instances are written by users (``joblib.dump``, a process pool,
a Dask result), so, as for stored versions, these names never move, change
their signature or meaning; a new need gets a new name.

Examples:
    >>> "gitpet.pinned.new_instance" in PINNED_NAMES
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

__all__ = [
    "PINNED_NAMES",
    "RESOLVER",
    "PinnedClassResolver",
    "called_class",
    "new_instance",
    "new_instance_ex",
    "pinned_class",
]


class PinnedClassResolver:
    """How this process finds version ``version`` of class ``name`` when a pickle names it.

    The factory layer provides it (the default container: its store, remote and trust);
    until then, unpickling an instance of a loaded class says what is missing.

    Examples:
        >>> resolver = PinnedClassResolver()
        >>> resolver.provide(lambda name, version: int)
        >>> resolver.resolve("Model", "0" * 40)
        <class 'int'>
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resolve: Callable[[str, str], type] | None = None

    def provide(self, resolve: Callable[[str, str], type]) -> None:
        """Resolve pinned classes with ``resolve(name, version)`` from now on."""
        with self._lock:
            self._resolve = resolve

    def resolve(self, name: str, version: str) -> type:
        """Version ``version`` of class ``name``, as this process loads it."""
        with self._lock:
            resolve = self._resolve
        if resolve is None:
            raise LookupError(
                f"cannot load version {version[:12]} of {name}: import gitpet first (nothing provides "
                "a store to load it from)"
            )
        return resolve(name, version)


RESOLVER: Final = PinnedClassResolver()
"""The resolver of this process (the default container provides it when ``gitpet`` is imported)."""


def pinned_class(name: str, version: str) -> type:
    """Version ``version`` of class ``name`` (a class pickled by its version).

    Examples:
        >>> version = pcm.push(Model)
        >>> pinned_class("Model", version) is pcm.pull("Model", version)
        True
    """
    return RESOLVER.resolve(name, version)


def new_instance(name: str, version: str, *args: Any) -> Any:
    """``cls.__new__(cls, *args)`` for the pinned class, as ``copyreg.__newobj__`` does."""
    cls = pinned_class(name, version)
    return cls.__new__(cls, *args)


def new_instance_ex(name: str, version: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    """``cls.__new__(cls, *args, **kwargs)`` for the pinned class, as ``copyreg.__newobj_ex__`` does."""
    cls = pinned_class(name, version)
    return cls.__new__(cls, *args, **kwargs)


def called_class(name: str, version: str, args: Sequence[Any]) -> Any:
    """``cls(*args)`` for the pinned class: an instance whose ``__reduce__`` names its own class."""
    return pinned_class(name, version)(*args)


PINNED_NAMES: Final = frozenset(
    f"gitpet.pinned.{name}" for name in ("pinned_class", "new_instance", "new_instance_ex", "called_class")
)
"""Every name a pickled instance of a loaded class may reference (never shrinks)."""
