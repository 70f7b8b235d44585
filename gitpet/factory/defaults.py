"""Which factory a plugin dumps with when it is given none: the default container's ``ppif``.

Plugins sit below the container (the container saves pipelines of plugins),
so the container module provides the default when it creates ``Container``,
and plugins only ask for it.
"""

from __future__ import annotations

from collections.abc import Callable

from gitpet.factory.factory import BaseFactory

__all__ = ["DEFAULT_FACTORY", "DefaultFactory"]


class DefaultFactory:
    """The factory used when none is given, read at each use (``Container.ppif`` may be replaced).

    Examples:
        >>> default = DefaultFactory()
        >>> factory = BaseFactory()
        >>> default.provide(lambda: factory)
        >>> default.get() is factory
        True
    """

    def __init__(self) -> None:
        self._source: Callable[[], BaseFactory] | None = None

    def provide(self, source: Callable[[], BaseFactory]) -> None:
        """Use what ``source`` returns, at each use, as the default factory."""
        self._source = source

    def get(self) -> BaseFactory:
        """The default factory now."""
        if self._source is None:
            raise LookupError("no default factory: gitpet.factory.container provides one when imported")
        return self._source()


DEFAULT_FACTORY = DefaultFactory()
"""The default factory of this process: ``Container.ppif``."""
