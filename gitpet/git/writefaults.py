"""A store write the file system refuses (disk full, read-only, no permission) is a gitpet error.

Every writer in gitpet writes whole files by rename, or whole lines it reads
back only when whole, so a failed write leaves nothing half-written: the
error only has to say so, as :class:`~gitpet.StoreWriteError`, instead of
escaping as a bare ``OSError`` from deep inside dulwich.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from gitpet.errors import GitpetError, StoreWriteError

__all__ = ["store_writes", "writes_store"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")
Method = Callable[Concatenate[S, P], R]


@contextmanager
def store_writes(store: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``store`` into :class:`StoreWriteError`."""
    try:
        yield
    except GitpetError:
        raise  # already says what went wrong (StoreBusyError and RemoteError are OSErrors too)
    except OSError as err:
        raise StoreWriteError(str(store), err) from err


def writes_store(store_path: str) -> Callable[[Method[S, P, R]], Method[S, P, R]]:
    """Mark a method that writes into a store: see :func:`store_writes`.

    ``store_path`` names the attribute that holds the store's path (``"path"``,
    ``"store.path"``).
    """
    where = operator.attrgetter(store_path)

    def decorate(method: Method[S, P, R]) -> Method[S, P, R]:
        @functools.wraps(method)
        def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            with store_writes(where(self)):
                return method(self, *args, **kwargs)

        return wrapper

    return decorate
