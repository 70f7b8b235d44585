"""A push into a repository at a path, received there as a fetch is received here.

dulwich's local push adds the pack with the remote's object store, which asks
each pack the remote holds for its name (the sha1 of all its ids) to see
whether the new one is there already: with 10,000 versions in 8 packs, 37 of
the 45 ms a push of one new version took. Here the pack goes through the
remote's quarantine (:mod:`gitpet.git.incoming`): indexed in one pass,
what each ref would name checked to be whole, then renamed into place; then
each ref is moved by compare-and-swap, as dulwich's local push does. What it
costs is what is sent.
"""

from __future__ import annotations

from collections.abc import Callable

from dulwich.objects import ZERO_SHA, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitpet.errors import RemoteError
from gitpet.git.incoming import quarantine
from gitpet.git.objread import RawObjectReader
from gitpet.git.outgoing import objects_to_send, pack_stream, write_in_batches
from gitpet.progress import Progress
from gitpet.sync.remote import open_path_remote

__all__ = ["push_to_path"]

UpdateRefs = Callable[[dict[Ref, ObjectID]], dict[Ref, ObjectID]]


def push_to_path(
    path: str,
    where: str,
    update_refs: UpdateRefs,
    local_objects: RawObjectReader,
    meter: Progress,
    *,
    fsync: bool,
) -> dict[bytes, str | None]:
    """Push to the repository at ``path``; each ref moved with None, or with why it was not.

    ``update_refs`` is given the remote's refs and names the refs to move and where to.
    ``fsync`` syncs the pack and its index before they enter the remote's objects.

    Raises:
        RemoteError: the remote uses other than sha1 ids, or a ref it would move
            would name an incomplete history (nothing of the push is kept).
    """
    with open_path_remote(path, where) as remote:
        old_refs = remote.get_refs()
        new_refs = update_refs(dict(old_refs))
        have = {bytes(sha) for sha in old_refs.values() if sha is not None and sha != ZERO_SHA}
        want = sorted({bytes(sha) for sha in new_refs.values() if sha not in have and sha != ZERO_SHA})
        if want:
            _send_pack(remote, where, local_objects, want, sorted(have), new_refs, meter, fsync)
        statuses: dict[bytes, str | None] = {}
        for ref, new in new_refs.items():
            old = old_refs.get(ref) or ZERO_SHA
            if new == ZERO_SHA:
                removed = remote.refs.remove_if_equals(ref, old)
                statuses[bytes(ref)] = None if removed else "unable to remove"
            else:
                moved = remote.refs.set_if_equals(ref, old, new)
                statuses[bytes(ref)] = None if moved else f"unable to set {bytes(ref)!r} to {bytes(new)!r}"
        return statuses


def _send_pack(
    remote: Repo,
    where: str,
    local_objects: RawObjectReader,
    want: list[bytes],
    have: list[bytes],
    new_refs: dict[Ref, ObjectID],
    meter: Progress,
    fsync: bool,
) -> None:
    """Write the pack of what the remote lacks into it, after the checks a fetch makes."""
    meter.stage("counting objects", unit="")
    ids = objects_to_send(local_objects, want, have)
    meter.stage("sending", unit="bytes")
    remote_objects = RawObjectReader(remote.object_store)
    try:
        with quarantine(remote.object_store, remote_objects, fsync=fsync) as incoming:

            def write(data: bytes) -> None:
                incoming.write(data)
                meter.advance(len(data))

            write_in_batches(pack_stream(local_objects, ids), write)
            meter.stage("checking what the remote received", unit="")
            try:
                incoming.unpack()
            except ValueError as err:
                raise RemoteError(where, f"refused the pack this store made: {err}") from None
            problems = [
                f"{bytes(ref).decode('utf-8', 'replace')}: {problem}"
                for ref, sha in sorted(new_refs.items())
                if sha != ZERO_SHA and (problem := incoming.problem_with(bytes(ref), bytes(sha))) is not None
            ]
            if problems:  # the remote lacks what it claims to have, or this store sent too little
                raise RemoteError(
                    where, "the push would leave its history incomplete: " + "; ".join(problems)
                )
            incoming.admit()
    finally:
        remote_objects.close()
