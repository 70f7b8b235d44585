"""How a store works, fixed once when it is made: :class:`StoreConfig`.

Arguments win; what is not given comes from the environment (``GITPET_STORE``,
``GITPET_SIGNING_KEY``; and for the default container of a process, such as a
worker's: ``GITPET_REMOTE``, ``GITPET_REMOTE_TRUSTED``, see
:class:`WorkerConfig`), read here and nowhere else. The commit identity
is the exception: when no ``author`` is given it is read from the environment
and git config at the first write, as git does (see :mod:`gitpet.git.identity`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gitpet.arguments import check_bool, check_identity, check_path, check_seconds
from gitpet.errors import InvalidArgumentError, InvalidNameError

__all__ = [
    "DEFAULT_STORE_DIR",
    "REMOTE_ENV",
    "REMOTE_TRUSTED_ENV",
    "SIGNING_KEY_ENV",
    "STORE_ENV",
    "StoreConfig",
    "WorkerConfig",
    "default_store_path",
]

STORE_ENV = "GITPET_STORE"
SIGNING_KEY_ENV = "GITPET_SIGNING_KEY"
REMOTE_ENV = "GITPET_REMOTE"
REMOTE_TRUSTED_ENV = "GITPET_REMOTE_TRUSTED"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
DEFAULT_STORE_DIR = ".gitpet"


def default_store_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$GITPET_STORE`` if set, else ``./.gitpet`` (resolved now)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(STORE_ENV) or DEFAULT_STORE_DIR).absolute()


@dataclass(frozen=True)
class StoreConfig:
    """How a :class:`GitStore` works, fixed when it is made (see :meth:`from_arguments`).

    ``author`` is the checked identity line given (None: read from the environment and git
    config at the first write); ``signing_key`` the SSH key commits are signed with, if any.

    Examples:
        >>> config = StoreConfig.from_arguments("models.gitpet", lock_timeout=5, environ={})
        >>> config.path.name, config.lock_timeout, config.fsync, config.signing_key
        ('models.gitpet', 5.0, False, None)
        >>> GitStore(config.path, lock_timeout=5).config == StoreConfig.from_arguments(
        ...     config.path, lock_timeout=5)
        True
    """

    path: Path
    author: bytes | None
    lock_timeout: float
    stale_lock_after: float
    signing_key: Path | None
    fsync: bool

    @classmethod
    def from_arguments(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        author: str | None = None,
        lock_timeout: float = 30.0,
        stale_lock_after: float = 10.0,
        signing_key: str | os.PathLike[str] | None = None,
        fsync: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> StoreConfig:
        """Check the arguments and fill in what is not given from ``environ`` (default: the process's).

        Raises:
            InvalidArgumentError: an argument has a wrong type or an impossible value.
            InvalidNameError: the store path holds a NUL byte, or the author is not a git identity.

        Examples:
            >>> StoreConfig.from_arguments(environ={"GITPET_STORE": "/data/models"}).path
            PosixPath('/data/models')
        """
        environ = os.environ if environ is None else environ
        if path is not None and not isinstance(path, (str, os.PathLike)):
            kind = type(path).__name__
            raise InvalidArgumentError("store path", path, f"must be a str or a path, not {kind}")
        where = Path(path).absolute() if path is not None else default_store_path(environ)
        if "\0" in str(where):
            raise InvalidNameError(str(where), "contains a NUL byte", "store path")
        key = signing_key if signing_key is not None else environ.get(SIGNING_KEY_ENV)
        return cls(
            path=where,
            author=check_identity(author, "author") if author is not None else None,
            lock_timeout=check_seconds(lock_timeout, "lock_timeout"),
            stale_lock_after=check_seconds(stale_lock_after, "stale_lock_after"),
            signing_key=_expanded(check_path(key, "signing_key"), "signing_key") if key else None,
            fsync=check_bool(fsync, "fsync"),
        )


def _expanded(path: Path, what: str) -> Path:
    try:
        return path.expanduser().absolute()
    except RuntimeError:  # "~user" for a user that does not exist
        raise InvalidArgumentError(what, str(path), "names the home of an unknown user") from None


@dataclass(frozen=True)
class WorkerConfig:
    """Where a process's default container loads classes from: a store, a remote, and its trust.

    What a worker needs to load the versions a pipeline pins, with no gitpet code run on
    it: the environment variables ``GITPET_STORE`` (the store; default ``./.gitpet``),
    ``GITPET_REMOTE`` (a git URL or path the missing versions are fetched from; none:
    never fetch) and ``GITPET_REMOTE_TRUSTED`` (``1``/``true``/``yes``: versions fetched
    from that remote are vouched for on arrival, as from a remote marked trusted; default no).

    Examples:
        >>> env = {"GITPET_STORE": "/scratch/gitpet", "GITPET_REMOTE": "git://models/team.git",
        ...        "GITPET_REMOTE_TRUSTED": "yes"}
        >>> WorkerConfig.from_arguments(environ=env)
        WorkerConfig(store=PosixPath('/scratch/gitpet'), remote='git://models/team.git', trust_remote=True)
        >>> WorkerConfig.from_arguments(remote="/srv/team.git", environ=env).remote
        '/srv/team.git'
    """

    store: Path
    remote: str | None
    trust_remote: bool

    @classmethod
    def from_arguments(
        cls,
        store: str | os.PathLike[str] | None = None,
        remote: str | None = None,
        trust_remote: bool | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> WorkerConfig:
        """Arguments win; what is None comes from ``environ`` (default: the process's).

        Raises:
            InvalidArgumentError: an argument has a wrong type, or ``GITPET_REMOTE_TRUSTED``
                is not a yes or a no.

        Examples:
            >>> WorkerConfig.from_arguments("/scratch/s", environ={"GITPET_REMOTE_TRUSTED": "maybe"})
            ...  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            gitpet.InvalidArgumentError: invalid $GITPET_REMOTE_TRUSTED 'maybe': must be 1, true, yes ...
        """
        environ = os.environ if environ is None else environ
        if store is not None and not isinstance(store, (str, os.PathLike)):
            raise InvalidArgumentError("store", store, f"must be a str or a path, not {type(store).__name__}")
        if remote is not None and not isinstance(remote, str):
            raise InvalidArgumentError("remote", remote, f"must be a str, not {type(remote).__name__}")
        if trust_remote is None:
            trust_remote = _yes_or_no(environ.get(REMOTE_TRUSTED_ENV, ""), REMOTE_TRUSTED_ENV)
        return cls(
            store=Path(store).absolute() if store is not None else default_store_path(environ),
            remote=remote if remote is not None else environ.get(REMOTE_ENV) or None,
            trust_remote=check_bool(trust_remote, "trust_remote"),
        )


def _yes_or_no(text: str, what: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidArgumentError(f"${what}", text, "must be 1, true, yes or on, or 0, false, no, off or empty")
