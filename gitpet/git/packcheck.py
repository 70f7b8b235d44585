"""What a pack a remote sends may cost, checked entry by entry before any delta is applied.

A pack is a few kilobytes on the wire but can claim objects of any size: a
delta needs a handful of bytes to say "copy that 64 KiB base 32,768 times",
and a chain of deltas doubles at each step. Applying such deltas exhausts
memory. :func:`scan_pack` walks the pack's entries once, in constant memory
(each entry is inflated in slices, never held whole unless it is small), and
refuses it at the first entry over a documented bound, before a single delta
is applied:

- every object, and every delta's result, is at most :data:`MAX_OBJECT_BYTES`
  (the bound gitpet applies to every object it reads);
- all of them together are at most :data:`MAX_PACK_INFLATED_BYTES`;
- a delta chain inside the pack is at most :data:`MAX_DELTA_DEPTH` long;
- each entry inflates to exactly the size it declares.

The same walk is the first half of indexing the pack
(:mod:`gitpet.git.indexpack`): it hashes every whole object as it inflates
it, so that no object stored whole is inflated twice.
"""

from __future__ import annotations

import bisect
import hashlib
import mmap
import struct
import zlib
from array import array
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple, Protocol

from gitpet.format.bounds import MAX_OBJECT_BYTES

__all__ = [
    "MAX_DELTA_DEPTH",
    "MAX_OBJECT_BYTES",
    "MAX_PACK_INFLATED_BYTES",
    "OFS_DELTA",
    "REF_DELTA",
    "PACK_TRAILER_BYTES",
    "ScannedEntry",
    "check_pack",
    "inflate_entry",
    "scan_pack",
]

MAX_PACK_INFLATED_BYTES = 4 << 30
"""All objects of one fetched pack, inflated and with deltas applied (4 GiB)."""
MAX_DELTA_DEPTH = 1000
"""The longest delta chain accepted inside a fetched pack (git writes at most 50 by default)."""

OFS_DELTA, REF_DELTA = 6, 7
PACK_TRAILER_BYTES = 20
_TYPE_NAMES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
_KINDS = {1, 2, 3, 4, OFS_DELTA, REF_DELTA}
_INPUT_CHUNK = 1 << 14
# Whole objects up to this size are handed back inflated (a later delta likely needs them).
_KEEP_BYTES = 1 << 20


class _EntryError(ValueError):
    """What is wrong with one entry; the scan names the entry (named only then: it costs)."""


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


class ScannedEntry(NamedTuple):
    """One entry of a pack as the scan found it: where it is, what it is, and for a whole object its id."""

    start: int
    """Where the entry's header starts (its offset, as an index names it)."""
    kind: int
    """1 to 4 for a whole object (commit, tree, blob, tag); :data:`OFS_DELTA` or :data:`REF_DELTA`."""
    size: int
    """What the stored data inflates to (the delta itself, for a delta)."""
    data_start: int
    """Where the zlib stream starts."""
    end: int
    """Where the entry ends (the next one starts)."""
    base: int | bytes | None
    """A delta's base: an earlier entry's start (offset delta) or a binary id (ref delta)."""
    result_size: int
    """What the object inflates to once a delta is applied (``size`` for a whole object)."""
    sha: bytes | None
    """The binary id of a whole object (hashed as it was inflated); None for a delta."""
    content: bytes | None
    """A whole object's content if it is small, else None (read it again with :func:`inflate_entry`)."""


def check_pack(pack: BinaryIO) -> int:
    """Check the pack in ``pack`` (a real file) against the bounds; return its object count.

    Raises ValueError naming the first entry that breaks a bound or the format.
    """
    pack.seek(0, 2)
    if pack.tell() == 0:
        return 0
    with mmap.mmap(pack.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return sum(1 for _ in scan_pack(data))


def scan_pack(data: mmap.mmap | bytes) -> Iterator[ScannedEntry]:
    """Each entry of the pack in ``data``, checked against the bounds as it is reached.

    The trailer (the checksum of everything before it) is not checked here.

    Raises ValueError naming the first entry that breaks a bound or the format.
    """
    end = len(data) - PACK_TRAILER_BYTES
    if end < 12 or data[:4] != b"PACK":
        raise ValueError("not a git pack")
    version, count = (int(value) for value in struct.unpack(">II", data[4:12]))
    if version not in (2, 3):
        raise ValueError(f"pack version {version} is not one git writes")
    chains = _Chains()
    total = 0
    offset = 12
    for index in range(count):
        if offset >= end:
            raise ValueError(f"the pack ends after {index} of the {count} objects it announces")
        try:
            entry = _scan_entry(data, offset, end, chains)
        except _EntryError as err:
            raise ValueError(f"object {index} (at byte {offset}) {err}") from None
        total += entry.result_size
        if total > MAX_PACK_INFLATED_BYTES:
            raise ValueError(f"the pack's objects come to more than {MAX_PACK_INFLATED_BYTES} bytes")
        offset = entry.end
        yield entry
    if offset != end:
        raise ValueError(f"{end - offset} bytes after the last object of the pack")


class _Chains:
    """The delta chain depth of each entry scanned so far, by where it starts.

    In arrays, searched by bisection (entries are scanned in order): a dict of them
    was a tenth of a whole fetch's memory.
    """

    def __init__(self) -> None:
        self._starts = array("Q")
        self._depths = array("H")  # MAX_DELTA_DEPTH fits

    def add(self, start: int, depth: int) -> None:
        self._starts.append(start)
        self._depths.append(depth)

    def depth_at(self, start: int) -> int | None:
        """The depth of the entry starting at ``start``; None if no entry scanned so far starts there."""
        at = bisect.bisect_left(self._starts, start)
        if at < len(self._starts) and self._starts[at] == start:
            return self._depths[at]
        return None


def _scan_entry(data: mmap.mmap | bytes, start: int, end: int, chains: _Chains) -> ScannedEntry:
    """The entry at ``start``, checked (``chains``: the chain depth of each entry so far, updated)."""
    offset = start
    kind, size, offset = _entry_header(data, offset, end)
    if kind not in _KINDS:
        raise _EntryError(f"has unknown type {kind}")
    if size > MAX_OBJECT_BYTES:
        raise _EntryError(f"claims {size} bytes, over {MAX_OBJECT_BYTES}")
    depth = 0
    base: int | bytes | None = None
    if kind == OFS_DELTA:
        distance, offset = _ofs_distance(data, offset, end)
        base = start - distance
        base_depth = chains.depth_at(base)
        if base_depth is None:
            raise _EntryError("is a delta on a base that is not an object of the pack")
        depth = base_depth + 1
    elif kind == REF_DELTA:
        if offset + 20 > end:
            raise ValueError("the pack is cut short inside an object header")
        base = bytes(data[offset : offset + 20])
        offset += 20
        depth = 1  # the base is outside the pack, or in it: the indexer counts the whole chain
    if depth > MAX_DELTA_DEPTH:
        raise _EntryError(f"is {depth} deltas deep, over {MAX_DELTA_DEPTH}")
    data_start = offset
    sha = content = None
    if kind in (OFS_DELTA, REF_DELTA):
        head, offset = _inflate(data, offset, end, size, None)
        head = head or b""
        _source, at = _delta_size(head, 0)
        result, _ = _delta_size(head, at)
        if result > MAX_OBJECT_BYTES:
            raise _EntryError(f"is a delta making {result} bytes, over {MAX_OBJECT_BYTES}")
    else:
        digest = hashlib.sha1(_TYPE_NAMES[kind] + b" %d\0" % size)
        content, offset = _inflate(data, offset, end, size, digest)
        sha = digest.digest()
        result = size
    chains.add(start, depth)
    return ScannedEntry(start, kind, size, data_start, offset, base, result, sha, content)


def inflate_entry(data: mmap.mmap | bytes, entry: ScannedEntry) -> bytes:
    """The inflated data of an entry :func:`scan_pack` found (already checked to be ``entry.size``)."""
    with memoryview(data) as view:
        return zlib.decompress(view[entry.data_start : entry.end], bufsize=max(entry.size, 1))


def _entry_header(data: mmap.mmap | bytes, offset: int, end: int) -> tuple[int, int, int]:
    # (Read byte by byte without a call per byte: this runs once per object of a fetch.)
    if offset >= end:
        raise ValueError("the pack is cut short inside an object header")
    byte = data[offset]
    kind, size, shift = (byte >> 4) & 7, byte & 0x0F, 4
    offset += 1
    while byte & 0x80:
        if offset >= end:
            raise ValueError("the pack is cut short inside an object header")
        byte = data[offset]
        size |= (byte & 0x7F) << shift
        shift += 7
        offset += 1
        if shift > 70:
            raise ValueError("an object size that does not end")
    return kind, size, offset


def _ofs_distance(data: mmap.mmap | bytes, offset: int, end: int) -> tuple[int, int]:
    byte = _byte(data, offset, end)
    distance = byte & 0x7F
    offset += 1
    while byte & 0x80:
        byte = _byte(data, offset, end)
        distance = ((distance + 1) << 7) | (byte & 0x7F)
        offset += 1
        if distance > end:
            break  # further bytes only make it larger: the base check refuses it
    return distance, offset


def _byte(data: mmap.mmap | bytes, offset: int, end: int) -> int:
    if offset >= end:
        raise ValueError("the pack is cut short inside an object header")
    return data[offset]


def _deflate_bound(size: int) -> int:
    # deflate's worst case (stored blocks: 5 bytes per 16 KiB, plus zlib's 6): what a
    # stream of ``size`` bytes takes as zlib writes it.
    return size + 5 * (size // 16383 + 1) + 6


def _inflate(
    data: mmap.mmap | bytes,
    offset: int,
    end: int,
    size: int,
    digest: _Digest | None,
) -> tuple[bytes | None, int]:
    """Inflate one entry, checking it holds exactly ``size`` bytes; return what to keep and where it ends.

    With ``digest`` (a whole object), every inflated byte is hashed into it and the content
    is returned if it is at most :data:`_KEEP_BYTES`; without (a delta), its first 32 bytes
    (the delta's header) are.
    """
    if size <= _KEEP_BYTES:
        # One call for what zlib writes (a copy of a small slice costs less than a view of
        # the map); a stream padded beyond its bound goes the slow way.
        stream = zlib.decompressobj()
        fed = min(offset + _deflate_bound(size), end)
        try:
            out = stream.decompress(data[offset:fed], size + 1)
        except zlib.error as err:
            raise _EntryError(f"is not valid zlib data: {err}") from None
        if stream.eof:
            if len(out) != size:
                raise _EntryError(_size_mismatch(size, len(out)))
            if digest is not None:
                digest.update(out)
                return out, fed - len(stream.unused_data)
            return out[:32], fed - len(stream.unused_data)
        if len(out) > size:
            raise _EntryError(f"inflates beyond the {size} bytes it claims")
    with memoryview(data) as view:
        return _inflate_slices(view, offset, end, size, digest)


def _inflate_slices(
    view: memoryview, offset: int, end: int, size: int, digest: _Digest | None
) -> tuple[bytes | None, int]:
    stream = zlib.decompressobj()
    produced = 0
    kept: list[bytes] = []
    fed = offset
    while not stream.eof:
        if fed >= end:
            raise _EntryError("is cut short")
        chunk = view[fed : min(fed + _INPUT_CHUNK, end)]
        fed += len(chunk)
        try:
            # deflate inflates at most ~1032:1, so one input chunk makes at most ~17 MB
            out = stream.decompress(chunk)
        except zlib.error as err:
            raise _EntryError(f"is not valid zlib data: {err}") from None
        produced += len(out)
        if produced > size:
            raise _EntryError(f"inflates beyond the {size} bytes it claims")
        if digest is not None:
            digest.update(out)
            if size <= _KEEP_BYTES:
                kept.append(out)
        elif produced - len(out) < 32:
            kept.append(out[: 32 - (produced - len(out))])
    if produced != size:
        raise _EntryError(_size_mismatch(size, produced))
    if digest is not None and size > _KEEP_BYTES:
        return None, fed - len(stream.unused_data)
    return b"".join(kept), fed - len(stream.unused_data)


def _size_mismatch(size: int, produced: int) -> str:
    if produced > size:
        return f"inflates beyond the {size} bytes it claims"
    return f"inflates to {produced} bytes, not the {size} it claims"


def _delta_size(head: bytes, at: int) -> tuple[int, int]:
    size = shift = 0
    while True:
        if at >= len(head):
            raise ValueError("a delta too short for its header")
        byte = head[at]
        size |= (byte & 0x7F) << shift
        shift += 7
        at += 1
        if not byte & 0x80:
            return size, at
