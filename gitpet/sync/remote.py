"""Talking to git remotes: connections, and their errors.

Everything dulwich can raise while talking to a remote becomes a
:class:`RemoteError` naming the remote; a ref update the other side refused is
never an exception from dulwich (it is in ``ref_status``) and is reported here
per ref.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

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
from dulwich.repo import Repo

from gitpet.errors import GitpetError, RemoteError
from gitpet.sync.locations import describe_location, is_url

__all__ = ["DEFAULT_RETRY_FOR", "connect", "open_path_remote", "remote_errors"]

# How long a push keeps reconciling with others pushing at once, by default (seconds).
DEFAULT_RETRY_FOR = 60.0


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


@contextmanager
def open_path_remote(path: str, where: str) -> Iterator[Repo]:
    """The repository at ``path`` (a remote named ``where``), closed after; sha1 ids only."""
    with closing(Repo(path)) as remote:
        if remote.object_format.name != "sha1":
            raise RemoteError(where, f"it uses {remote.object_format.name} ids; gitpet uses sha1")
        yield remote
