"""A bounded cache for values that never go stale (git objects never change)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["BoundedCache"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class BoundedCache(dict[_K, _V]):
    """A dict that forgets its oldest entries past ``limit`` units (immutable values only).

    ``size`` gives each value's units (default 1: ``limit`` counts entries).

    Examples:
        >>> cache = BoundedCache(2)
        >>> cache["a"], cache["b"], cache["c"] = 1, 2, 3
        >>> sorted(cache)
        ['b', 'c']
    """

    def __init__(self, limit: int, size: Callable[[_V], int] | None = None) -> None:
        super().__init__()
        self._limit = limit
        self._size = size
        self._used = 0
        self._lock = threading.Lock()  # threads sharing a store insert concurrently

    def __setitem__(self, key: _K, value: _V) -> None:
        with self._lock:
            old = self.get(key)
            if old is not None:
                self._used -= self._units(old)
            super().__setitem__(key, value)
            self._used += self._units(value)
            while self._used > self._limit and len(self) > 1:
                oldest = next(iter(self))
                self._used -= self._units(self.pop(oldest))

    def take(self, key: _K) -> _V | None:
        """Remove and return the entry of ``key`` (None if there is none).

        Examples:
            >>> cache = BoundedCache(2)
            >>> cache["a"] = 1
            >>> cache.take("a"), cache.take("a"), len(cache)
            (1, None, 0)
        """
        with self._lock:
            value = super().pop(key, None)
            if value is not None:
                self._used -= self._units(value)
            return value

    def _units(self, value: _V) -> int:
        return 1 if self._size is None else self._size(value)
