"""What one repository sends another: the objects of the new commits, as pack records.

dulwich answers "what does the other side lack?" by collecting every ancestor
of every commit the other side has, and serves a packed object by scanning
its whole pack: both cost the history, not the new versions. git answers it
with ``rev-list --objects <wants> --not <haves>``: walk the commits newest
first from both ends, mark what the other side has (and every ancestor of it)
as known, and stop as soon as nothing left to walk is new. This module is that
walk (:func:`objects_to_send`), and the records of a pack that pass on what a
pack already holds compressed (:func:`pack_records` for dulwich's writers,
:func:`pack_stream` for a pack written here).

Commit times only order the walk. A clock that was wrong when a commit was
made can make the walk send an object the other side has (git has the same
trade); it never leaves out one it lacks: everything reachable from a want is
sent unless it is reachable from a have.
"""

from __future__ import annotations

import hashlib
import heapq
import stat
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from dulwich.pack import UnpackedObject

from gitpet.errors import IntegrityError
from gitpet.format.bounds import MAX_TAG_CHAIN
from gitpet.git.integrity import (
    CommitFields,
    RawReader,
    commit_fields,
    find_raw,
    read_raw,
)
from gitpet.git.objread import PackedEntry, RawObjectReader, ReusedPacks
from gitpet.git.objwrite import object_header

__all__ = ["objects_to_send", "pack_records", "pack_stream", "store_stream", "write_in_batches"]

_GITLINK = 0o160000
_WRITE_BYTES = 64 << 10  # what write_in_batches hands on at once
_TYPE_NUMBERS = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}


class _History:
    """Commits read once each, for their links only."""

    def __init__(self, objects: RawReader) -> None:
        self._objects = objects
        self._commits: dict[bytes, CommitFields] = {}

    def commit(self, sha: bytes) -> CommitFields:
        if sha not in self._commits:
            self._commits[sha] = commit_fields(sha, read_raw(self._objects, sha, b"commit", "commit"))
        return self._commits[sha]

    def peel(self, sha: bytes, tags: list[bytes] | None = None) -> tuple[bytes, bytes] | None:
        """The object a ref value names through annotated tags, and its type; None if absent.

        The annotated tags passed on the way are added to ``tags``.
        """
        for _ in range(MAX_TAG_CHAIN):
            found = find_raw(self._objects, sha)
            if found is None:
                return None
            type_name, raw = found
            if type_name != b"tag":
                return sha, type_name
            if tags is not None:
                tags.append(sha)
            if not raw.startswith(b"object ") or raw[47:48] != b"\n":
                raise IntegrityError(sha.decode("ascii"), "malformed tag: it does not start with an object")
            sha = raw[7:47]
        raise IntegrityError(sha.decode("ascii"), "tag chain is too deep")


def _new_commits(
    history: _History, wants: Iterable[bytes], haves: Iterable[bytes]
) -> tuple[list[bytes], set[bytes]]:
    """The commits reachable from ``wants`` and not from ``haves``, and the known commits they name.

    Returns the new commits (newest first as walked) and the edge: the commits
    the other side has that a new commit names as a parent.
    """
    known: dict[bytes, bool] = {}  # commit -> whether the other side has it
    walked: dict[bytes, bool] = {}  # commit -> what it was when its parents were queued
    queue: list[tuple[int, int, bytes]] = []
    new_queued = 0

    def enqueue(sha: bytes, has: bool) -> None:
        nonlocal new_queued
        known[sha] = has
        new_queued += not has
        heapq.heappush(queue, (-history.commit(sha).commit_time, len(known) + len(queue), sha))

    def mark_known(sha: bytes) -> None:
        nonlocal new_queued
        if sha not in known:
            enqueue(sha, True)
        elif not known[sha]:
            known[sha] = True
            if sha in walked:
                # Walked as new before a later path showed it known: walk it again, as known.
                heapq.heappush(queue, (-history.commit(sha).commit_time, len(known) + len(queue), sha))
            else:
                new_queued -= 1

    for sha in haves:
        mark_known(sha)
    for sha in wants:
        if sha not in known:
            enqueue(sha, False)
    while new_queued and queue:
        _, _, sha = heapq.heappop(queue)
        has = known[sha]
        if walked.get(sha) is has:
            continue  # queued twice
        if not has:
            new_queued -= 1
        walked[sha] = has
        for parent in history.commit(sha).parents:
            if has:
                mark_known(parent)
            elif parent not in known:
                enqueue(parent, False)
    new = [sha for sha, has in walked.items() if not has and not known[sha]]
    edge = {parent for sha in new for parent in history.commit(sha).parents if known.get(parent)}
    return new, edge


class _Objects:
    """Collects the ids of the objects under trees, each once, skipping what ``skip`` holds."""

    def __init__(self, objects: RawReader, skip: set[bytes]) -> None:
        self._objects = objects
        self._skip = skip
        self.found: list[bytes] = []
        self._seen: set[bytes] = set()

    def add(self, sha: bytes) -> bool:
        if sha in self._skip or sha in self._seen:
            return False
        self._seen.add(sha)
        self.found.append(sha)
        return True

    def add_tree(self, tree: bytes) -> None:
        pending = [tree]
        while pending:
            sha = pending.pop()
            if not self.add(sha):
                continue
            for mode, entry in _tree_links(sha, read_raw(self._objects, sha, b"tree", "tree")):
                if stat.S_ISDIR(mode):
                    pending.append(entry)
                elif mode != _GITLINK:
                    self.add(entry)


def _tree_links(sha: bytes, raw: bytes) -> Iterator[tuple[int, bytes]]:
    """The mode and id of each entry of a tree, read as leniently as git's pack-objects does.

    A tree that breaks git's rules (a duplicate name, a bad mode) is still sent:
    the receiving side checks what it gets and says which ref it refuses, and why.
    """
    position = 0
    while position < len(raw):
        space = raw.find(b" ", position)
        nul = raw.find(b"\0", space + 1)
        if space < 0 or nul < 0 or nul + 21 > len(raw):
            raise IntegrityError(sha.decode("ascii", "replace"), "malformed tree: entry cut short")
        try:
            mode = int(raw[position:space], 8)
        except ValueError:
            raise IntegrityError(
                sha.decode("ascii", "replace"), "malformed tree: a mode is not a number"
            ) from None
        yield mode, raw[nul + 1 : nul + 21].hex().encode("ascii")
        position = nul + 21


def objects_to_send(objects: RawReader, wants: Iterable[bytes], haves: Iterable[bytes]) -> list[bytes]:
    """The ids of every object reachable from ``wants`` and not from ``haves`` (hex ids).

    ``haves`` are what the other side's refs name; those this side does not
    hold are left out (this side cannot know what is under them). A want may
    be a commit or an annotated tag; a tree or blob wanted on its own is sent
    with what it holds.

    Raises:
        IntegrityError: an object the walk needs is missing or damaged.
    """
    history = _History(objects)
    tags: list[bytes] = []
    want_commits: list[bytes] = []
    want_others: list[tuple[bytes, bytes]] = []
    for want in wants:
        peeled = history.peel(want, tags)
        if peeled is None:
            raise IntegrityError(want.decode("ascii", "replace"), "a ref names an object that is missing")
        if peeled[1] == b"commit":
            want_commits.append(peeled[0])
        else:
            want_others.append(peeled)
    have_commits = []
    for have in haves:
        peeled = history.peel(have)  # None: the other side has something this side never saw
        if peeled is not None and peeled[1] == b"commit":
            have_commits.append(peeled[0])
    new, edge = _new_commits(history, want_commits, have_commits)
    known = _Objects(objects, set())
    for commit in edge:
        known.add_tree(history.commit(commit).tree)
    sending = _Objects(objects, set(known.found))
    for tag in tags:
        sending.add(tag)
    for commit in new:
        sending.add(commit)
    for commit in new:
        sending.add_tree(history.commit(commit).tree)
    for sha, kind in want_others:
        if kind == b"tree":
            sending.add_tree(sha)
        else:
            sending.add(sha)
    return sending.found


def pack_records(objects: RawObjectReader, ids: Sequence[bytes]) -> Iterator[UnpackedObject]:
    """One pack record per object of ``ids``, in an order where each delta follows its base.

    What a pack holds whole is passed on compressed as it is (no inflate and
    deflate of a large blob); a delta whose base is sent too stays a delta.
    Everything else (loose objects, deltas on objects not sent) is sent whole.
    For dulwich's pack writers (a push); :func:`pack_stream` writes the pack itself.
    """
    for sha, entry in _in_sending_order(objects, ids):
        binary = bytes.fromhex(sha.decode("ascii"))
        if entry is None:
            type_num, raw = _whole(objects, sha)
            yield UnpackedObject(type_num, sha=binary, decomp_chunks=[raw])
            continue
        record = UnpackedObject(entry.type_num, sha=binary, decomp_len=entry.size)
        record.comp_chunks = [_entry_header(entry), entry.compressed]
        yield record


def pack_stream(objects: RawObjectReader, ids: Sequence[bytes]) -> Iterator[bytes]:
    """The pack of ``ids`` as bytes (records as :func:`pack_records` makes them, then the checksum).

    Packs of the store all of whose objects are sent are copied as they are (a first
    pull or a new clone sends everything: most of it, or all, one gc's pack).
    """
    return _stream(objects, objects.whole_packs_among(ids))


def store_stream(objects: RawObjectReader) -> Iterator[bytes]:
    """A pack of every object the store holds (see :meth:`RawObjectReader.whole_store`)."""
    return _stream(objects, objects.whole_store())


def write_in_batches(chunks: Iterable[bytes], write: Callable[[bytes], object]) -> None:
    """Hand ``chunks`` (a pack stream's) to ``write`` joined 64 KiB at a time.

    A write (and the progress report a writer makes) per 64 KiB, not per record.
    """
    batch: list[bytes] = []
    batched = 0
    for chunk in chunks:
        batch.append(chunk)
        batched += len(chunk)
        if batched >= _WRITE_BYTES:
            write(b"".join(batch))
            batch, batched = [], 0
    if batch:
        write(b"".join(batch))


def _stream(objects: RawObjectReader, reused: ReusedPacks) -> Iterator[bytes]:
    rest = reused.rest
    header = b"PACK" + struct.pack(">II", 2, reused.count + len(rest))
    digest = hashlib.sha1(header)
    yield header
    for piece in reused.entries():
        digest.update(piece)
        yield piece
    for sha, entry in _in_sending_order(objects, rest):
        if entry is None:
            type_num, raw = _whole(objects, sha)
            chunks = (object_header(type_num, len(raw)), zlib.compress(raw))
        else:
            chunks = (_entry_header(entry), entry.compressed)
        for chunk in chunks:
            digest.update(chunk)
            yield chunk
    yield digest.digest()


def _in_sending_order(
    objects: RawObjectReader, ids: Sequence[bytes]
) -> Iterator[tuple[bytes, PackedEntry | None]]:
    """Each of ``ids`` with the packed entry to pass on (None: send it whole), each delta after its base."""
    sending = set(ids)
    sent: set[bytes] = set()
    waiting: dict[bytes, list[tuple[bytes, PackedEntry]]] = {}  # base -> deltas on it

    def send(sha: bytes, entry: PackedEntry | None) -> Iterator[tuple[bytes, PackedEntry | None]]:
        # ``entry``, then every delta that waited for it (and those that waited for them).
        ready: list[tuple[bytes, PackedEntry | None]] = [(sha, entry)]
        while ready:
            sha, entry = ready.pop()
            sent.add(sha)
            yield sha, entry
            ready.extend(waiting.pop(sha, []))

    for sha in ids:
        entry = objects.packed_entry(sha)
        if entry is None or (entry.base is not None and entry.base not in sending):
            yield from send(sha, None)
        elif entry.base is not None and entry.base not in sent:
            waiting.setdefault(entry.base, []).append((sha, entry))
        else:
            yield from send(sha, entry)
    while waiting:  # deltas on each other in a circle (a damaged pack): send one whole to break it
        delta, _entry = waiting.pop(next(iter(waiting)))[0]
        yield from send(delta, None)


def _entry_header(entry: PackedEntry) -> bytes:
    header = object_header(entry.type_num, entry.size)
    if entry.base is not None:
        header += bytes.fromhex(entry.base.decode("ascii"))
    return header


def _whole(objects: RawReader, sha: bytes) -> tuple[int, bytes]:
    found = find_raw(objects, sha)
    if found is None:
        raise IntegrityError(sha.decode("ascii"), "an object to send is missing")
    return _TYPE_NUMBERS[found[0]], found[1]
