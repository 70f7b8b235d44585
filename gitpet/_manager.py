"""PetClassManager: push classes to a store and pull them back (labchain's API)."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable

from gitpet._codec import ClassCodec, check_versionable
from gitpet._modpolicy import ModulePolicy
from gitpet._names import check_class_name
from gitpet._objects import VersionTree
from gitpet._store import GitStore, PushResult, VersionInfo

__all__ = ["PetClassManager"]

_Fingerprint = tuple[tuple[str, int], ...]


def _registered_name(cls: object, name: str | None) -> str:
    """``name``, or the class's ``__name__`` when none is given; checked either way."""
    return check_class_name(check_versionable(cls).__name__ if name is None else name)


def _fingerprint(cls: type) -> _Fingerprint:
    # Identity of every class attribute and base: rebinding a method or an
    # attribute after registration changes it, so the cached id is recomputed.
    return tuple((k, id(v)) for k, v in vars(cls).items()) + tuple(("__base__", id(b)) for b in cls.__bases__)


class PetClassManager:
    """Pushes classes to a :class:`GitStore` and loads them back.

    Args:
        store: a :class:`GitStore`, or a path for one; default the default store.
        policy: which modules are captured by value (:class:`ModulePolicy`).

    Example:
        >>> import tempfile
        >>> pcm = PetClassManager(tempfile.mkdtemp() + "/store")
        >>> class Doubler:
        ...     def __call__(self, x):
        ...         return 2 * x
        >>> version = pcm.push(Doubler)
        >>> pcm.push(Doubler) == version          # unchanged: nothing written
        True
        >>> pcm.pull("Doubler")()(21)
        42
    """

    def __init__(
        self,
        store: GitStore | str | os.PathLike[str] | None = None,
        *,
        policy: ModulePolicy | None = None,
    ) -> None:
        self._store = store if isinstance(store, GitStore) else GitStore(store)
        self._codec = ClassCodec(policy)
        self._lock = threading.Lock()
        self._encoded: weakref.WeakKeyDictionary[type, dict[str, tuple[_Fingerprint, VersionTree]]] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"PetClassManager({self._store!r})"

    @property
    def store(self) -> GitStore:
        return self._store

    @property
    def codec(self) -> ClassCodec:
        return self._codec

    def encode(self, cls: type, name: str | None = None) -> VersionTree:
        """The version tree ``cls`` would be stored as (cached while unchanged)."""
        name = _registered_name(cls, name)
        if not isinstance(cls, type):
            return self._codec.encode(cls, name)  # raises UnsupportedClassError
        fingerprint = _fingerprint(cls)
        with self._lock:
            cached = self._encoded.get(cls, {}).get(name)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        version = self._codec.encode(cls, name)
        with self._lock:
            self._encoded.setdefault(cls, {})[name] = (fingerprint, version)
        return version

    def get_class_hash(self, cls: type, name: str | None = None) -> str:
        """The version id ``cls`` gets when pushed as ``name`` (default ``__name__``)."""
        return self.encode(cls, name).id

    def push(self, cls: type, name: str | None = None) -> str:
        """Make ``cls`` the latest version of ``name``; a no-op if it already is."""
        return self.push_many([(_registered_name(cls, name), cls)])[0].id

    def push_many(self, items: Iterable[tuple[str, type]]) -> list[PushResult]:
        """Push several classes in one batch (one pack, one pass over refs)."""
        versions = [(name, self.encode(cls, name)) for name, cls in items]
        return self._store.write_versions(versions)

    def pull(self, name: str, version: str | None = None) -> type:
        """Load ``name``: its latest version, or an exact version id / prefix."""
        return self._codec.decode(self._store.read_version(name, version))

    def versions(self, name: str) -> list[VersionInfo]:
        """Version history of ``name``, newest first."""
        return self._store.versions(name)

    def names(self) -> list[str]:
        """Classes in the store."""
        return self._store.names()
