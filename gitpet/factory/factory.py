"""Factories: a plain class registry, and the persistent one (labchain's PetFactory)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TypeVar, overload

from gitpet.arguments import check_seconds
from gitpet.codec.classcodec import loaded_version
from gitpet.errors import (
    ClassNotFoundError,
    InvalidArgumentError,
    InvalidNameError,
    RemoteError,
    UnsupportedClassError,
    VersionNotFoundError,
)
from gitpet.factory.manager import PetClassManager
from gitpet.format.names import (
    check_class_name,
    check_class_names,
    check_pins,
    check_tag_name,
    parse_version_spec,
)
from gitpet.records import PushResult

__all__ = ["BaseFactory", "PetFactory"]

T = TypeVar("T")


class BaseFactory:
    """A registry of classes by name (labchain's ``BaseFactory``).

    Examples:
        >>> factory = BaseFactory()
        >>> factory["Dict"] = dict
        >>> factory["Dict"] is dict
        True
        >>> factory.get("Missing") is None
        True
    """

    def __init__(self) -> None:
        self._foundry: dict[str, type] = {}

    def __setitem__(self, name: str, cls: type) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidNameError(name, "a registered name is a non-empty str")
        if not isinstance(cls, type):
            raise UnsupportedClassError(cls, "only classes can be registered")
        self._foundry[name] = cls

    def __getitem__(self, name: str) -> type:
        if not isinstance(name, str):
            raise InvalidNameError(name, f"must be a str, not {type(name).__name__}")
        try:
            return self._foundry[name]
        except (KeyError, TypeError) as err:
            raise ClassNotFoundError(str(name), "this factory") from err

    @overload
    def get(self, name: str) -> type | None: ...
    @overload
    def get(self, name: str, default: T) -> type | T: ...

    def get(self, name: str, default: object = None) -> object:
        """The class registered as ``name``, or ``default``.

        Examples:
            >>> from gitpet import BaseFactory
            >>> factory = BaseFactory()
            >>> class Model:
            ...     pass
            >>> factory["Model"] = Model
            >>> factory.get("Model") is Model, factory.get("Missing"), factory.get("Missing", int)
            (True, None, <class 'int'>)
        """
        try:
            return self[name]
        except ClassNotFoundError:
            return default

    def __getattr__(self, name: str) -> type:
        # labchain's factories give a class as an attribute too (``factory.MyFilter``); a miss is
        # the AttributeError (ClassNotFoundError) labchain raised. Private and dunder names are
        # never classes: probes such as copy's ``__deepcopy__`` must not look anything up.
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._foundry

    def __iter__(self) -> Iterator[tuple[str, type]]:
        """``(name, class)`` pairs of the classes registered here, as labchain's ``BaseFactory``.

        Examples:
            >>> from gitpet import BaseFactory
            >>> factory = BaseFactory()
            >>> factory["Dict"] = dict
            >>> list(factory), factory.Dict is dict
            ([('Dict', <class 'dict'>)], True)
        """
        return iter(list(self._foundry.items()))

    def __len__(self) -> int:
        return len(self._foundry)

    @property
    def classes(self) -> Mapping[str, type]:
        """Read-only view of the registered classes.

        Examples:
            >>> from gitpet import BaseFactory
            >>> factory = BaseFactory()
            >>> class Model:
            ...     pass
            >>> factory["Model"] = Model
            >>> dict(factory.classes) == {"Model": Model}
            True
        """
        return MappingProxyType(self._foundry)

    def name_of(self, cls: type) -> str | None:
        """The name ``cls`` is registered under here, if any.

        Examples:
            >>> from gitpet import BaseFactory
            >>> factory = BaseFactory()
            >>> class Model:
            ...     pass
            >>> factory["Model"] = Model
            >>> factory.name_of(Model), factory.name_of(int)
            ('Model', None)
        """
        for name, registered in self._foundry.items():
            if registered is cls:
                return name
        return None


class PetFactory(BaseFactory):
    """A factory whose classes are versioned in a git store.

    ``factory[name]`` looks in memory, then the store's latest version, then
    (when the manager has a remote) the remote, then the fallback factory;
    the latest version it loaded stays what ``factory[name]`` gives (a newer
    version pushed or fetched since is not seen) until :meth:`refresh`, or,
    with ``ttl``, until it is older than ``ttl`` seconds. Pinned lookups
    (``get_version``, ``build_from_dump``) are exact and never go stale;
    ``get_version`` loads an exact version without registering it;
    ``push_all`` pushes every registered class in one batch; ``tag`` names a
    version and ``rollback`` makes an older one the latest again.

    Args:
        class_manager: the :class:`PetClassManager` that reads and writes.
        fallback_factory: consulted for names the store does not know
            (framework classes); ``None`` for none.
        ttl: seconds an unpinned lookup keeps the latest version it loaded
            from the store before looking again (fetching the class again
            when the manager has a remote); ``None``: until :meth:`refresh`.

    Examples:
        >>> import tempfile
        >>> factory = PetFactory(PetClassManager(tempfile.mkdtemp() + "/s"), BaseFactory())
        >>> class Scale:
        ...     def __call__(self, x):
        ...         return 3 * x
        >>> factory["Scale"] = Scale
        >>> [r.created for r in factory.push_all()]
        [True]
        >>> factory.get_version("Scale", factory.version_control["Scale"]) is Scale
        True
    """

    def __init__(
        self,
        class_manager: PetClassManager,
        fallback_factory: BaseFactory | None = None,
        *,
        ttl: float | None = None,
    ) -> None:
        super().__init__()
        self._manager = class_manager
        self._fallback_factory = fallback_factory
        self._version_control: dict[str, str] = {}
        self._ttl = None if ttl is None else check_seconds(ttl, "ttl")
        # name -> when its latest version was loaded from the store (user registrations: absent)
        self._loaded_at: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def manager(self) -> PetClassManager:
        """The class manager this factory pushes to and pulls from."""
        return self._manager

    def use_manager(self, class_manager: PetClassManager) -> None:
        """Point this factory at another store; registrations are kept.

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> factory = PetFactory(pcm, BaseFactory())
            >>> factory["Model"] = Model
            >>> other = PetClassManager(tempfile.mkdtemp() + "/other")
            >>> factory.use_manager(other)
            >>> factory.manager is other
            True
        """
        self._manager = class_manager

    @property
    def version_control(self) -> Mapping[str, str]:
        """Read-only view: registered name -> version id."""
        return MappingProxyType(self._version_control)

    def __setitem__(self, name: str, cls: type) -> None:
        check_class_name(name)
        version = self._manager.get_class_hash(cls, name)
        super().__setitem__(name, cls)
        self._version_control[name] = version
        self._loaded_at.pop(name, None)  # registered here: never refreshed from the store

    def __getitem__(self, name: str) -> type:
        if not isinstance(name, str):
            raise InvalidNameError(name, f"must be a str, not {type(name).__name__}")
        if name in self._foundry and not self._expired(name):
            return self._foundry[name]
        fallback = self._fallback_factory.get(name) if self._fallback_factory is not None else None
        try:
            cls = self._from_store(name)
        except RemoteError:
            # The remote is unreachable: a framework class still resolves.
            if fallback is None:
                raise
            return fallback
        if cls is not None:
            return cls
        if fallback is not None:
            return fallback
        where = f"memory, {self._manager.store}"
        if self._manager.remote is not None:
            where += f", remote {self._manager.remote}"
        raise ClassNotFoundError(str(name), where + " or the fallback factory")

    def _expired(self, name: str) -> bool:
        loaded_at = self._loaded_at.get(name)
        return self._ttl is not None and loaded_at is not None and time.monotonic() - loaded_at >= self._ttl

    def _from_store(self, name: str) -> type | None:
        try:
            check_class_name(name)
        except InvalidNameError:
            return None  # cannot be a stored class; may still be a framework class
        if name in self._loaded_at:  # looking again (ttl): what the remote has now, if there is one
            self._manager.fetch_class(name)
        try:
            cls = self._manager.pull(name)
        except ClassNotFoundError:
            return None
        self._register_loaded(name, cls)
        with self._lock:
            self._loaded_at[name] = time.monotonic()
        return cls

    def _register_loaded(self, name: str, cls: type) -> None:
        self._foundry[name] = cls
        info = loaded_version(cls)
        self._version_control[name] = info.version_id if info else self._manager.get_class_hash(cls, name)

    def refresh(self, names: Iterable[str] | None = None) -> list[str]:
        """Forget the latest versions loaded from the store, so that ``factory[name]`` looks again.

        ``names``: those classes only (default: every class loaded from the store). Classes
        registered here (``factory[name] = cls``, ``bind``) stay. With a remote, the
        forgotten classes are fetched again, in one round trip. Returns the names forgotten.

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> version = pcm.push(Model)
            >>> factory = PetFactory(pcm, BaseFactory())
            >>> first = factory["Model"]
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> _ = pcm.push(Model)
            >>> factory["Model"] is first, factory.refresh(), hasattr(factory["Model"], "fit")
            (True, ['Model'], True)
        """
        with self._lock:
            wanted = set(self._loaded_at) if names is None else set(check_class_names(names))
            forgotten = sorted(wanted & set(self._loaded_at))
            for name in forgotten:
                del self._loaded_at[name]
                self._foundry.pop(name, None)
                self._version_control.pop(name, None)
        self._manager.prefetch_classes(forgotten)
        return forgotten

    def _registered_as(self, name: str, version: str) -> bool:
        """Whether a class registered here (not loaded from the store) is that version."""
        registered = self._foundry.get(name)
        if registered is None or name in self._loaded_at:
            return False
        return self.hash_of(registered, name).startswith(version)

    def prefetch(self, pins: Iterable[tuple[str, str]]) -> list[str]:
        """Fetch every class a pin names that this store lacks, in one round trip; return their names.

        ``pins``: ``(class name, version)`` pairs, as a pipeline dump holds them. A pin a class
        registered here answers needs nothing. Without a remote, nothing is fetched.

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> version = pcm.push(Model)
            >>> PetFactory(pcm, BaseFactory()).prefetch([("Model", version)])
            []
        """
        needed = [
            (name, version) for name, version in check_pins(pins) if not self._registered_as(name, version)
        ]
        return self._manager.prefetch(needed)

    def get_version(self, name: str, version: str | None = None, *, code_hash: str | None = None) -> type:
        """The version of ``name`` that ``version`` (labchain: ``code_hash``) names.

        ``version`` is an id or a commit of the class's history, a unique 7+ hex
        prefix of either, a tag, or ``~N`` / ``@~N`` (N versions before the latest in the store).

        It is not registered as the latest. A registered class whose id matches
        is returned as is (it may not have been pushed yet). With a remote, a
        version unknown here is fetched.

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> factory = PetFactory(pcm, BaseFactory())
            >>> factory["Model"] = Model
            >>> _ = factory.push_all()
            >>> first = factory.version_control["Model"]
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> factory["Model"] = Model
            >>> _ = factory.push_all()
            >>> hasattr(factory.get_version("Model", first[:7]), "fit"), hasattr(factory["Model"], "fit")
            (False, True)
        """
        check_class_name(name)
        if version is None and code_hash is None:
            raise InvalidArgumentError("version", None, "get_version needs a version (or code_hash=)")
        if version is not None and code_hash is not None and version != code_hash:
            raise InvalidArgumentError("code_hash", code_hash, f"names another version than {version!r}")
        version = version if version is not None else code_hash
        assert version is not None
        spec = parse_version_spec(name, version)
        registered = self._foundry.get(name)
        if (
            spec.prefix is not None
            and registered is not None
            and self.hash_of(registered, name).startswith(spec.prefix)
        ):
            return registered
        return self._manager.pull(name, version)

    def tag(self, name: str, tag: str, version: str | None = None, *, force: bool = False) -> str:
        """Name a version of ``name`` ``tag`` (``refs/tags/<name>/<tag>``); return its id.

        ``version`` defaults to the version registered here, else the store's
        latest; it must be in the store (push first). Moving an existing tag
        needs ``force=True``.

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> factory = PetFactory(pcm, BaseFactory())
            >>> factory["Model"] = Model
            >>> _ = factory.push_all()
            >>> factory.tag("Model", "v1") == factory.version_control["Model"]
            True
            >>> factory.get_version("Model", "v1").__name__     # the stored version, loaded
            'Model'
        """
        check_class_name(name)
        check_tag_name(tag)
        if version is None and name in self._foundry:
            registered = self.hash_of(self._foundry[name], name)
            try:
                return self._manager.store.tag(name, tag, registered, force=force)
            except VersionNotFoundError as err:
                raise VersionNotFoundError(
                    name, registered, "the registered class is not in the store yet; push_all() first"
                ) from err
        return self._manager.store.tag(name, tag, version, force=force)

    def rollback(self, name: str, version: str) -> type:
        """Make an older version of ``name`` the latest again and register it here.

        The store gets a new commit on top whose tree is the old version, so
        history keeps everything. Returns the (loaded) class.

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> factory = PetFactory(pcm, BaseFactory())
            >>> factory["Model"] = Model
            >>> _ = factory.push_all()
            >>> first = factory.version_control["Model"]
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> factory["Model"] = Model
            >>> _ = factory.push_all()
            >>> old = factory.rollback("Model", first)
            >>> factory.version_control["Model"] == first, hasattr(factory["Model"], "fit")
            (True, False)
        """
        self._manager.rollback(name, version)
        cls = self._manager.pull(name)
        self._register_loaded(name, cls)
        return cls

    def hash_of(self, cls: type, name: str | None = None) -> str:
        """Current version id of ``cls`` as registered here (recomputed if it changed).

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> factory = PetFactory(pcm, BaseFactory())
            >>> factory["Model"] = Model
            >>> factory.hash_of(Model) == factory.version_control["Model"]
            True
        """
        info = loaded_version(cls)
        registered_name = name or self.name_of(cls) or (info.name if info else cls.__name__)
        if info is not None and info.name == registered_name:
            return info.version_id
        version = self._manager.get_class_hash(cls, registered_name)
        if registered_name in self._version_control:
            self._version_control[registered_name] = version
        return version

    def push_all(
        self, *, message: str | None = None, moved: bool | Iterable[str] = False
    ) -> list[PushResult]:
        """Push every registered class in one batch; unchanged ones write nothing.

        ``message`` goes in every new version's commit; ``moved`` as for
        :meth:`PetClassManager.push_many`.

        Examples:
            >>> from gitpet import BaseFactory, PetFactory
            >>> factory = PetFactory(pcm, BaseFactory())
            >>> factory["Model"] = Model
            >>> [(r.name, r.created) for r in factory.push_all()]
            [('Model', True)]
            >>> [(r.name, r.created) for r in factory.push_all()]     # nothing changed: nothing written
            [('Model', False)]
        """
        results = self._manager.push_many(self._foundry.items(), message=message, moved=moved)
        for result in results:
            self._version_control[result.name] = result.id
        return results
