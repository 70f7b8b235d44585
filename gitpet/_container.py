"""The container: one store, its manager, and the two factories (labchain's ``Container``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from gitpet._errors import GitpetError
from gitpet._factory import BaseFactory, PetFactory
from gitpet._manager import PetClassManager
from gitpet._modpolicy import ModulePolicy
from gitpet._names import check_class_name
from gitpet._store import GitStore
from gitpet._trust import TrustPolicy

__all__ = ["Container", "PetContainer"]

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
            (default :meth:`TrustPolicy.refuse`; see docs/reliability.md).

    Example:
        >>> import tempfile
        >>> container = PetContainer(tempfile.mkdtemp() + "/store")
        >>> @container.bind(persist=True)
        ... class Clip:
        ...     def __call__(self, x):
        ...         return min(x, 1.0)
        >>> "Clip" in container.ppif
        True
    """

    def __init__(
        self,
        store: GitStore | str | os.PathLike[str] | None = None,
        remote: str | None = None,
        *,
        policy: ModulePolicy | None = None,
        trust: TrustPolicy | None = None,
    ) -> None:
        self._store_arg = store
        self._policy = policy
        self._trust = trust
        self._pif = BaseFactory()
        self._remote = remote
        self._pcm: PetClassManager | None = None
        self._ppif: PetFactory | None = None

    def __repr__(self) -> str:
        where = self._pcm.store if self._pcm else self._store_arg or "default store"
        return f"PetContainer({where!r})"

    def configure(
        self,
        store: GitStore | str | os.PathLike[str] | None = None,
        remote: str | None = None,
        trust: TrustPolicy | None = None,
    ) -> None:
        """Use another store, remote and trust policy (registrations are kept).

        ``store=None`` means the default store; ``remote=None`` means no
        remote; ``trust=None`` means :meth:`TrustPolicy.refuse` for versions
        this machine does not vouch for.
        """
        self._store_arg = store
        self._remote = remote
        self._trust = trust
        if self._pcm is not None:
            self._pcm = None
            if self._ppif is not None:
                self._ppif.use_manager(self.pcm)

    @property
    def pcm(self) -> PetClassManager:
        if self._pcm is None:
            self._pcm = PetClassManager(
                self._store_arg, policy=self._policy, remote=self._remote, trust=self._trust
            )
        return self._pcm

    @property
    def remote(self) -> str | None:
        """The remote missing classes are fetched from (share with ``store.push(remote)``)."""
        return self._remote

    @property
    def store(self) -> GitStore:
        return self.pcm.store

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

    def bind(
        self, persist: bool = False, auto_push: bool = False, name: str | None = None
    ) -> Callable[[C], C]:
        """Class decorator: register in ``pif``, or with ``persist=True`` in ``ppif``.

        ``auto_push=True`` also pushes the class right away. The class itself
        is returned unchanged.
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
            else:
                self.pif[registered] = cls
            return cls

        return register


Container = PetContainer()
"""The default container, over ``$GITPET_STORE`` or ``./.gitpet``."""
