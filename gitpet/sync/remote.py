"""Talking to git remotes: locations, connections, errors, and what a sync reports.

Everything dulwich can raise while talking to a remote becomes a
:class:`RemoteError` naming the remote; a ref update the other side refused is
never an exception from dulwich (it is in ``ref_status``) and is reported here
per ref.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dulwich.client import (
    GitClient,
    HTTPProxyUnauthorized,
    HTTPUnauthorized,
    InvalidWants,
    StrangeHostname,
    TransportNotAllowed,
    get_transport_and_path,
)
from dulwich.errors import GitProtocolError, NotGitRepository

from gitpet.errors import GitpetError, RemoteError

__all__ = [
    "DEFAULT_RETRY_FOR",
    "RefUpdate",
    "SyncReport",
    "connect",
    "is_url",
    "normalize_location",
    "remote_errors",
]

Status = Literal["created", "fast-forward", "rebased", "up-to-date", "ahead", "forced", "rejected"]

_UNCHANGED = frozenset({"up-to-date", "ahead"})

# How long a push keeps reconciling with others pushing at once, by default (seconds).
DEFAULT_RETRY_FOR = 60.0


@dataclass(frozen=True)
class RefUpdate:
    """What a push or fetch did to one ref.

    ``status`` is one of:

    - ``created``: the ref did not exist on the receiving side;
    - ``fast-forward``: the receiving side only lacked newer versions;
    - ``rebased``: both sides had versions the other lacked; the receiving
      side's versions were kept and ours were added on top, so it holds all;
    - ``up-to-date``: nothing to do;
    - ``ahead``: (fetch) this store has versions the remote lacks; unchanged;
    - ``forced``: a tag was moved because ``force_tags=True``;
    - ``rejected``: not updated; ``detail`` says why.

    ``old`` and ``new`` are the commit ids on the receiving side.

    Examples:
        >>> _ = pcm.push(Model)
        >>> remote = GitStore(tempfile.mkdtemp() + "/remote")
        >>> remote.init()  # an empty bare repository, as a new server-side repository is
        True
        >>> [update] = store.push(str(remote.path)).updates
        >>> update.ref, update.status, update.old, update.new == store.latest_commit("Model")
        ('refs/heads/Model', 'created', None, True)
    """

    ref: str
    status: Status
    old: str | None = None
    new: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        change = f"{(self.old or 'none')[:12]} -> {(self.new or 'none')[:12]}"
        text = f"{self.status:<12} {self.ref}"
        if self.status not in _UNCHANGED:
            text += f"  ({change})"
        return text + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class SyncReport:
    """Per-ref outcome of :meth:`GitStore.push` or :meth:`GitStore.fetch`.

    Examples:
        >>> _ = pcm.push(Model)
        >>> remote = GitStore(tempfile.mkdtemp() + "/remote")
        >>> remote.init()  # an empty bare repository, as a new server-side repository is
        True
        >>> report = store.push(str(remote.path))
        >>> report.direction, [(u.ref, u.status) for u in report.changed]
        ('push', [('refs/heads/Model', 'created')])
        >>> store.push(str(remote.path)).changed
        ()
    """

    remote: str
    direction: Literal["push", "fetch"]
    updates: tuple[RefUpdate, ...]
    attempts: int = 1
    """How many times a push sent its refs (more than one: it reconciled with racing pushers)."""

    @property
    def changed(self) -> tuple[RefUpdate, ...]:
        """Updates that moved or created a ref."""
        return tuple(u for u in self.updates if u.status not in _UNCHANGED and u.status != "rejected")

    @property
    def rejected(self) -> tuple[RefUpdate, ...]:
        return tuple(u for u in self.updates if u.status == "rejected")

    def status_of(self, ref: str) -> Status | None:
        """The status of ``ref`` (full name, e.g. ``refs/heads/MyFilter``), if it was considered.

        Examples:
            >>> version = pcm.push(Model)
            >>> remote = GitStore(tempfile.mkdtemp() + "/remote")
            >>> remote.init()
            True
            >>> report = store.push(str(remote.path))
            >>> report.status_of("refs/heads/Model"), report.status_of("refs/heads/Other")
            ('created', None)
        """
        for update in self.updates:
            if update.ref == ref:
                return update.status
        return None

    def __str__(self) -> str:
        lines = [
            f"{self.direction} {self.remote}: {len(self.changed)} changed, {len(self.rejected)} rejected"
            + (f" ({self.attempts} attempts)" if self.attempts > 1 else "")
        ]
        lines.extend(f"  {update}" for update in self.updates)
        return "\n".join(lines)


def is_url(location: str) -> bool:
    """Whether ``location`` is a URL or ``host:path`` rather than a local path.

    Examples:
        >>> [is_url(x) for x in ("git://h/r", "user@host:r.git", "../shared/store", "/srv/store")]
        [True, True, False, False]
    """
    if "://" in location:
        return True
    colon = location.find(":")
    slash = location.find("/")
    # git's rule: scp-like syntax has a colon before any slash.
    return colon > 0 and (slash == -1 or colon < slash) and not (len(location) > 1 and location[1] == ":")


def normalize_location(location: str) -> str:
    """A URL unchanged; a local path made absolute (so it means the same from anywhere)."""
    if is_url(location):
        return location
    return os.path.abspath(os.path.expanduser(location))


def describe_location(location: str) -> str:
    """The location without any password it may carry, for messages."""
    scheme, sep, rest = location.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        credentials, _, host = rest.partition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else location
    return location


@contextmanager
def remote_errors(location: str) -> Iterator[None]:
    """Turn what dulwich and the network raise into :class:`RemoteError`."""
    where = describe_location(location)
    try:
        yield
    except GitpetError:
        raise  # already says what went wrong (RemoteError is a ConnectionError, StoreWriteError an OSError)
    except NotGitRepository as err:
        raise RemoteError(where, "no git repository there" + (f" ({err})" if str(err) else "")) from err
    except (HTTPUnauthorized, HTTPProxyUnauthorized) as err:
        raise RemoteError(where, f"authentication failed ({err})") from err
    except (GitProtocolError, InvalidWants, StrangeHostname, TransportNotAllowed) as err:
        raise RemoteError(where, f"git protocol error: {err}") from err
    except OSError as err:
        raise RemoteError(where, f"cannot connect: {err.strerror or err}") from err
    except KeyError as err:
        # A local repository served by dulwich itself lacks an object its refs need.
        missing = err.args[0] if err.args else b"?"
        shown = missing.decode("ascii", "replace") if isinstance(missing, bytes) else str(missing)
        raise RemoteError(
            where, f"the remote lacks object {shown}: its history is incomplete or shallow"
        ) from err


def connect(location: str) -> tuple[GitClient, str]:
    """A dulwich client and the path on the remote for ``location`` (already normalized)."""
    if not is_url(location) and not Path(location).exists():
        raise RemoteError(describe_location(location), "no such directory")
    with remote_errors(location):
        try:
            return get_transport_and_path(location)
        except ValueError as err:
            raise RemoteError(describe_location(location), f"not a git URL or path: {err}") from err
