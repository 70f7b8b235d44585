"""What a fetch tells the remote it already has, so that the remote sends only what is new.

dulwich's fetch offers the remote every commit this store holds, one ``have``
line each (10,000 lines for a class of 10,000 versions), and when the remote is
a path it computes what to send by collecting every ancestor of those: both
cost the whole history. A gitpet fetch needs far less. The remote's new
versions sit on top of a version this store has, most often the tip of the
same ref, so that is offered first; a remote that has diverged (both sides
added versions) sits on an older one, so a few older commits follow, each
twice as far back as the last (git's "skipping" negotiation). What is offered
in vain costs some bytes sent again, never a version lost.

A remote that is a path is served here directly: the walk that stops at what
this store has (:func:`gitpet.git.outgoing.objects_to_send`) on the remote's
objects, written into the fetch's quarantine as one pack. A fetch of every ref
of the remote into a store that has none of their history is sent the
remote's whole store without a walk, as ``git clone`` of a path copies it
(unless the remote borrows objects through ``objects/info/alternates``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice

from dulwich.objects import ObjectID
from dulwich.refs import Ref

from gitpet.errors import IntegrityError, RemoteError
from gitpet.git.history import first_parent_chain
from gitpet.git.integrity import RawReader
from gitpet.git.objread import RawObjectReader
from gitpet.git.outgoing import objects_to_send, pack_stream, store_stream, write_in_batches
from gitpet.sync.remote import open_path_remote

__all__ = ["HaveList", "fetch_from_path", "offered"]

# How far back (in first-parent commits) the last older commit offered to a remote lies.
_FARTHEST_OFFER = 64

DetermineWants = Callable[[Mapping[Ref, ObjectID | None]], list[ObjectID]]


def offered(objects: RawReader, tips: Sequence[bytes]) -> Iterator[bytes]:
    """The commits to offer as ``have``: each tip, then older commits 1, 2, 4 … 64 back from it."""
    yield from tips
    for tip in tips:
        older = islice(first_parent_chain(objects, tip), 1, _FARTHEST_OFFER + 1)
        for steps, commit in enumerate(older, start=1):
            if steps & (steps - 1) == 0:  # a power of two
                yield commit.id


class HaveList:
    """dulwich's graph walker for a fetch: :func:`offered` for the tips ``tips()`` names.

    ``tips`` is called when the first ``have`` is needed, after the wants are
    known: the local tips of the refs the remote has moved.
    """

    def __init__(self, objects: RawReader, tips: Callable[[], Sequence[bytes]]) -> None:
        self._objects = objects
        self._tips = tips
        self._offers: Iterator[bytes] | None = None
        self._given: set[bytes] = set()
        self.shallow: set[bytes] = set()

    def __next__(self) -> ObjectID | None:
        if self._offers is None:
            self._offers = offered(self._objects, self._tips())
        for sha in self._offers:
            if sha not in self._given:
                self._given.add(sha)
                return ObjectID(sha)
        return None

    next = __next__

    def ack(self, sha: bytes) -> None:
        """The remote has ``sha``: nothing to do, the list is short already."""

    def nak(self) -> None:
        """The remote has none of what was offered so far."""


def fetch_from_path(
    path: str,
    where: str,
    determine_wants: DetermineWants,
    local_objects: RawReader,
    tips: Callable[[], Sequence[bytes]],
    write: Callable[[bytes], int],
) -> None:
    """Fetch from the repository at ``path``: the pack of what this store lacks, into ``write``.

    ``determine_wants`` is given the remote's refs; ``tips()`` then names this
    store's tips of the refs the remote moved. For each, the newest commit of
    its history the remote holds is what the remote is known to have.

    Raises:
        RemoteError: the remote is damaged or uses other than sha1 ids.
    """
    with open_path_remote(path, where) as remote:
        refs = remote.get_refs()
        wants = determine_wants(refs)
        if not wants:
            return
        objects = RawObjectReader(remote.object_store)
        try:
            haves = [have for tip in tips() if (have := _newest_held(local_objects, objects, tip))]
            everything = {sha for sha in refs.values() if sha is not None} <= set(wants)
            if not haves and everything and not remote.object_store.alternates:
                # Every ref wanted, nothing here to build on: the whole store, unwalked. (A store
                # borrowing objects from another, git clone --shared, holds only part of them.)
                chunks = store_stream(objects)
            else:
                chunks = pack_stream(
                    objects, objects_to_send(objects, [bytes(want) for want in wants], haves)
                )
            write_in_batches(chunks, write)
        except IntegrityError as err:
            why = f"{err.what}: {err.detail}"
            raise RemoteError(where, f"its history is incomplete or shallow, or damaged ({why})") from err
        finally:
            objects.close()


def _newest_held(local: RawReader, remote: RawObjectReader, tip: bytes) -> bytes | None:
    """The newest commit of ``tip``'s first-parent history that ``remote`` holds, if any."""
    for commit in first_parent_chain(local, tip):
        if remote.holds(commit.id):
            return commit.id
    return None
