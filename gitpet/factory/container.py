"""The container: one store, its manager, and the two factories (labchain's ``Container``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, SupportsIndex, TypeVar

from gitpet.codec.classcodec import loaded_class
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.config import WorkerConfig
from gitpet.errors import (
    GitpetError,
    InvalidArgumentError,
    InvalidDumpError,
    UnsupportedClassError,
    VersionNotFoundError,
)
from gitpet.factory.defaults import DEFAULT_FACTORY
from gitpet.factory.factory import BaseFactory, PetFactory
from gitpet.factory.manager import PetClassManager
from gitpet.factory.plugin import BasePlugin, dump_with_classes
from gitpet.format.dumps import normalize_dump
from gitpet.format.names import check_class_name
from gitpet.gitstore import GitStore
from gitpet.pinned import RESOLVER as PINNED_RESOLVER
from gitpet.trust.trustlist import TrustPolicy

__all__ = ["Container", "PetContainer", "setup"]

C = TypeVar("C", bound=type)


class PetContainer:
    """A store, a :class:`PetClassManager`, ``pif`` (plain) and ``ppif`` (persistent).

    :data:`gitpet.Container` is the ready default instance; build your own
    for a second store. Nothing touches the disk until a class is pushed or
    loaded.

    Args:
        store: a :class:`GitStore` or a path; default ``$GITPET_STORE`` or ``./.gitpet``.
        remote: a git remote (a name configured on the store, a URL or a
            path): a class missing from the store is fetched from it when
            asked for (``ppif[name]``, ``get_version``). ``None``: never.
        policy: which modules are captured by value.
        trust: what to do with versions this machine does not vouch for
            (default :meth:`TrustPolicy.refuse`; see docs/trust.md).
        trust_remote: vouch for the versions fetched from ``remote`` on arrival,
            as for a remote marked trusted.

    Examples:
        >>> import tempfile
        >>> container = PetContainer(tempfile.mkdtemp() + "/store")
        >>> @container.bind(persist=True)
        ... class Clip:
        ...     def __call__(self, x):
        ...         return min(x, 1.0)
        >>> "Clip" in container.ppif
        True
    """

    # A misspelt or foreign attribute (labchain's ``Container.storage`` is a property here) is
    # an AttributeError, never a stray attribute silently ignored.
    __slots__ = ("_pcm", "_pif", "_policy", "_ppif", "_remote", "_store_arg", "_trust", "_trust_remote")

    def __init__(
        self,
        store: GitStore | str | os.PathLike[str] | None = None,
        remote: str | None = None,
        *,
        policy: ModulePolicy | None = None,
        trust: TrustPolicy | None = None,
        trust_remote: bool = False,
    ) -> None:
        self._store_arg = store
        self._policy = policy
        self._trust = trust
        self._trust_remote = trust_remote
        self._pif = BaseFactory()
        self._remote = remote
        self._pcm: PetClassManager | None = None
        self._ppif: PetFactory | None = None

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        # The default container is a process-wide singleton: a pickle (a class
        # captured by value, a function Dask ships) names it rather than copying
        # its registrations and store, which would go stale on the other side.
        if self is Container:
            return "Container"
        return super().__reduce_ex__(protocol)

    def __setstate__(self, state: dict[str, Any] | tuple[Any, dict[str, Any] | None]) -> None:
        # Versions stored before the container had __slots__ carry its state as a
        # plain __dict__; both that and the (None, slots) pair of today load.
        # An attribute an older release did not have keeps its default.
        attributes = (state[1] or {}) if isinstance(state, tuple) else state
        PetContainer.__init__(self)
        for name in self.__slots__:
            if name in attributes:
                object.__setattr__(self, name, attributes[name])

    def __repr__(self) -> str:
        where = self._pcm.store if self._pcm else self._store_arg or "default store"
        return f"PetContainer({where!r})"

    def configure(
        self,
        store: GitStore | str | os.PathLike[str] | None = None,
        remote: str | None = None,
        trust: TrustPolicy | None = None,
        *,
        trust_remote: bool = False,
    ) -> None:
        """Use another store, remote and trust policy (registrations are kept).

        ``store=None`` means the default store; ``remote=None`` means no
        remote; ``trust=None`` means :meth:`TrustPolicy.refuse` for versions
        this machine does not vouch for; ``trust_remote`` vouches for what is
        fetched from ``remote``. Versions loaded from the store before are
        looked up again (:meth:`PetFactory.refresh`).

        Examples:
            >>> from gitpet import BasePlugin, PetContainer
            >>> container = PetContainer(store)
            >>> container.configure(store=tempfile.mkdtemp() + "/elsewhere")
            >>> container.store.path.name
            'elsewhere'
        """
        self._store_arg = store
        self._remote = remote
        self._trust = trust
        self._trust_remote = trust_remote
        if self._pcm is not None:
            self._pcm = None
            if self._ppif is not None:
                self._ppif.use_manager(self.pcm)
                self._ppif.refresh()

    @property
    def pcm(self) -> PetClassManager:
        """The class manager over this container's store (made on first use)."""
        if self._pcm is None:
            self._pcm = PetClassManager(
                self._store_arg,
                policy=self._policy,
                remote=self._remote,
                trust=self._trust,
                trust_remote=self._trust_remote,
            )
        return self._pcm

    @property
    def remote(self) -> str | None:
        """The remote missing classes are fetched from (share with ``store.push(remote)``)."""
        return self._remote

    @property
    def store(self) -> GitStore:
        """The store of :attr:`pcm`."""
        return self.pcm.store

    @property
    def storage(self) -> GitStore:
        """The store (labchain's name): assign a :class:`GitStore` or a path to use another.

        Assigning keeps the remote, trust and registrations, as :meth:`configure` with the
        same remote and trust would.

        Examples:
            >>> from gitpet import GitStore, PetContainer
            >>> container = PetContainer(store)
            >>> container.storage = GitStore(tempfile.mkdtemp() + "/elsewhere")
            >>> container.store.path.name
            'elsewhere'
        """
        return self.store

    @storage.setter
    def storage(self, store: GitStore | str | os.PathLike[str]) -> None:
        if not isinstance(store, (GitStore, str, os.PathLike)):
            raise InvalidArgumentError(
                "storage",
                store,
                "must be a GitStore or a path (gitpet keeps versions in a git repository, not a "
                "labchain storage; see docs/migrating.md)",
            )
        self.configure(store=store, remote=self._remote, trust=self._trust, trust_remote=self._trust_remote)

    @property
    def pif(self) -> BaseFactory:
        """Plain factory: framework classes, not versioned."""
        return self._pif

    @property
    def ppif(self) -> PetFactory:
        """Persistent factory: versioned classes, falling back to :attr:`pif`."""
        if self._ppif is None:
            self._ppif = PetFactory(self.pcm, self._pif)
        return self._ppif

    def save_pipeline(self, name: str, plugin: BasePlugin, message: str | None = None) -> str:
        """Save ``plugin`` (and every plugin nested in its params) as a snapshot of pipeline ``name``.

        The snapshot (a commit on ``refs/heads/pipelines/<name>``) holds the
        dump as ``pipeline.json`` and pins the exact version of every
        versioned class in it; classes not pushed yet are pushed first.
        Returns the snapshot id; saving an unchanged pipeline writes nothing.
        A component whose class is neither persistent nor registered as a
        framework class (``bind()``) is refused: it could not be rebuilt.

        Examples:
            >>> from gitpet import BasePlugin, PetContainer
            >>> container = PetContainer(store)
            >>> @container.bind(persist=True)
            ... class Scale(BasePlugin):
            ...     def __init__(self, k=1):
            ...         super().__init__(k=k)
            >>> snapshot = container.save_pipeline("train", Scale(3), "first")
            >>> container.save_pipeline("train", Scale(3)) == snapshot     # unchanged: nothing written
            True
        """
        history = self.store.pipeline(name)  # the name is checked before anything is read
        if not isinstance(plugin, BasePlugin):
            raise InvalidDumpError("plugin", f"expected a BasePlugin, got {type(plugin).__name__}")
        dump, components = dump_with_classes(plugin, self.ppif)
        normalize_dump(dump, _unchanged_version)  # refuse a dump JSON cannot hold before pushing anything
        to_push: dict[tuple[str, str], type] = {}
        checked: set[tuple[str, type, str | None]] = set()
        for component_name, cls, version in components:
            if (component_name, cls, version) in checked:
                continue  # a pipeline often uses one class many times
            checked.add((component_name, cls, version))
            if version is None:
                if self._pif.get(component_name) is not cls:
                    raise UnsupportedClassError(
                        cls,
                        f"component {component_name!r} of pipeline {name!r} is neither persistent "
                        "(bind(persist=True)) nor a framework class (bind()): it could not be rebuilt",
                    )
            elif not self.store.has_version(component_name, version):
                to_push.setdefault((component_name, version), cls)
        if to_push:
            # The version registered here goes last, so it is the one left latest.
            order = sorted(to_push, key=lambda key: self.ppif.version_control.get(key[0]) == key[1])
            self.pcm.push_many([(key[0], to_push[key]) for key in order])
        return history.save(dump, message).id

    def load_pipeline(self, name: str, version: str | None = None) -> Any:
        """Rebuild a saved pipeline with exactly the class versions its snapshot pins.

        ``version``: a snapshot id, a unique prefix (7+ hex), a tag or ``~N``;
        default the newest snapshot. With a remote, a missing pipeline or
        snapshot is fetched. Framework classes resolve by name through
        :attr:`pif`; pinned versions load under the trust policy.

        Examples:
            >>> from gitpet import BasePlugin, PetContainer
            >>> container = PetContainer(store)
            >>> @container.bind(persist=True)
            ... class Scale(BasePlugin):
            ...     def __init__(self, k=1):
            ...         super().__init__(k=k)
            ...         self.k = k
            >>> snapshot = container.save_pipeline("train", Scale(3))
            >>> container.load_pipeline("train", snapshot[:8]).k
            3
        """
        snapshot = self.pcm.snapshot(name, version)
        try:
            return BasePlugin.build_from_dump(snapshot.dump, self.ppif)
        except VersionNotFoundError as err:
            raise VersionNotFoundError(
                err.name,
                err.version,
                f"pinned by snapshot {snapshot.id[:12]} of pipeline {name!r}, but not in store "
                f"{self.store.path}" + (f" ({err.detail})" if err.detail else ""),
            ) from err

    def bind(
        self, persist: bool = False, auto_push: bool = False, name: str | None = None
    ) -> Callable[[C], C]:
        """Class decorator: register in ``pif``, and with ``persist=True`` in ``ppif`` too.

        As labchain's, ``persist=True`` registers the class in both factories: ``pif`` gives
        it by name, ``ppif`` versions it. ``auto_push=True`` also pushes the class right
        away. The class itself is returned unchanged.

        Examples:
            >>> from gitpet import BasePlugin, PetContainer
            >>> container = PetContainer(store)
            >>> @container.bind()
            ... class Framework:               # resolved by name, never versioned
            ...     pass
            >>> @container.bind(persist=True)
            ... class Mine:                    # versioned in the store
            ...     pass
            >>> container.pif["Framework"] is Framework, "Mine" in container.ppif.version_control
            (True, True)
            >>> container.pif["Mine"] is Mine
            True
        """
        if auto_push and not persist:
            raise GitpetError("bind(auto_push=True) needs persist=True")

        def register(cls: C) -> C:
            registered = name or cls.__name__
            if persist:
                check_class_name(registered)
                self.ppif[registered] = cls
                if auto_push:
                    self.pcm.push(cls, registered)
            self.pif[registered] = cls
            return cls

        return register


def _unchanged_version(path: str, name: str, version: str) -> str:
    return version


_ENVIRONMENT = WorkerConfig.from_arguments()
Container = PetContainer(remote=_ENVIRONMENT.remote, trust_remote=_ENVIRONMENT.trust_remote)
"""The default container, over ``$GITPET_STORE`` or ``./.gitpet``, fetching from ``$GITPET_REMOTE``."""

# A plugin given no factory dumps with the default container's (see gitpet.factory.defaults).
DEFAULT_FACTORY.provide(lambda: Container.ppif)


def _pinned_class(name: str, version: str) -> type:
    """A class an unpickled instance names: as loaded here already, else from the default container."""
    return loaded_class(name, version) or Container.ppif.get_version(name, version)


def setup(
    store: str | os.PathLike[str] | None = None,
    remote: str | None = None,
    trust_remote: bool | None = None,
) -> PetContainer:
    """Configure this process's default container, for a worker: return :data:`Container`.

    Arguments win; what is None comes from the environment (``GITPET_STORE``,
    ``GITPET_REMOTE``, ``GITPET_REMOTE_TRUSTED``; see :class:`gitpet.config.WorkerConfig`).
    A worker started with those variables needs no call at all; this is for a pool
    initializer (``ProcessPoolExecutor(initializer=gitpet.setup, initargs=(...))``) and
    the engine integrations (:mod:`gitpet.integrations`). Registrations are kept.

    Examples:
        >>> import gitpet
        >>> before = (gitpet.Container.store.path, gitpet.Container.remote)
        >>> gitpet.setup(store=tempfile.mkdtemp() + "/worker", remote="/srv/team.git").remote
        '/srv/team.git'
        >>> gitpet.Container.configure(store=before[0], remote=before[1])
    """
    config = WorkerConfig.from_arguments(store, remote, trust_remote)
    Container.configure(store=config.store, remote=config.remote, trust_remote=config.trust_remote)
    return Container


# An instance of a loaded class unpickles through the default container (see gitpet.pinned).
PINNED_RESOLVER.provide(_pinned_class)
