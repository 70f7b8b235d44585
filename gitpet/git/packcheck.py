"""What a pack a remote sends may cost, checked before anything unpacks it.

A pack is a few kilobytes on the wire but can claim objects of any size: a
delta needs a handful of bytes to say "copy that 64 KiB base 32,768 times",
and a chain of deltas doubles at each step. Unpacking such a pack (dulwich
resolves every delta to name the objects) exhausts memory. This module walks
the pack's entries once, in constant memory, and refuses it at the first
entry over a documented bound, before dulwich sees it:

- every object, and every delta's result, is at most :data:`MAX_OBJECT_BYTES`
  (the bound gitpet applies to every object it reads);
- all of them together are at most :data:`MAX_PACK_INFLATED_BYTES`;
- a delta chain inside the pack is at most :data:`MAX_DELTA_DEPTH` long;
- each entry inflates to exactly the size it declares.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from typing import BinaryIO

from gitpet.format.bounds import MAX_OBJECT_BYTES

__all__ = ["MAX_DELTA_DEPTH", "MAX_OBJECT_BYTES", "MAX_PACK_INFLATED_BYTES", "check_pack"]

MAX_PACK_INFLATED_BYTES = 4 << 30
"""All objects of one fetched pack, inflated and with deltas applied (4 GiB)."""
MAX_DELTA_DEPTH = 1000
"""The longest delta chain accepted inside a fetched pack (git writes at most 50 by default)."""

_OFS_DELTA, _REF_DELTA = 6, 7
_KINDS = {1, 2, 3, 4, _OFS_DELTA, _REF_DELTA}
_INPUT_CHUNK = 1 << 14
_TRAILER = 20


def check_pack(pack: BinaryIO) -> int:
    """Check the pack in ``pack`` (a real file) against the bounds; return its object count.

    Raises ValueError naming the first entry that breaks a bound or the format.
    """
    pack.seek(0, 2)
    if pack.tell() == 0:
        return 0
    with mmap.mmap(pack.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _check(data)


def _check(data: mmap.mmap) -> int:
    end = len(data) - _TRAILER
    if end < 12 or data[:4] != b"PACK":
        raise ValueError("not a git pack")
    version, count = (int(value) for value in struct.unpack(">II", data[4:12]))
    if version not in (2, 3):
        raise ValueError(f"pack version {version} is not one git writes")
    depth_at: dict[int, int] = {}
    total = 0
    offset = 12
    for index in range(count):
        if offset >= end:
            raise ValueError(f"the pack ends after {index} of the {count} objects it announces")
        start = offset
        where = f"object {index} (at byte {start})"
        kind, size, offset = _entry_header(data, offset, end)
        if kind not in _KINDS:
            raise ValueError(f"{where} has unknown type {kind}")
        if size > MAX_OBJECT_BYTES:
            raise ValueError(f"{where} claims {size} bytes, over {MAX_OBJECT_BYTES}")
        depth = 0
        if kind == _OFS_DELTA:
            distance, offset = _ofs_distance(data, offset, end)
            base = start - distance
            if base not in depth_at:
                raise ValueError(f"{where} is a delta on a base that is not an object of the pack")
            depth = depth_at[base] + 1
        elif kind == _REF_DELTA:
            offset += 20  # the base's id: outside the pack, or in it (counted as a chain of one)
            depth = 1
        if depth > MAX_DELTA_DEPTH:
            raise ValueError(f"{where} is {depth} deltas deep, over {MAX_DELTA_DEPTH}")
        head, offset = _inflate(data, offset, end, size, where, kind in (_OFS_DELTA, _REF_DELTA))
        result = size
        if kind in (_OFS_DELTA, _REF_DELTA):
            _source, at = _delta_size(head, 0)
            result, _ = _delta_size(head, at)
            if result > MAX_OBJECT_BYTES:
                raise ValueError(f"{where} is a delta making {result} bytes, over {MAX_OBJECT_BYTES}")
        total += result
        if total > MAX_PACK_INFLATED_BYTES:
            raise ValueError(f"the pack's objects come to more than {MAX_PACK_INFLATED_BYTES} bytes")
        depth_at[start] = depth
    if offset != end:
        raise ValueError(f"{end - offset} bytes after the last object of the pack")
    return count


def _entry_header(data: mmap.mmap, offset: int, end: int) -> tuple[int, int, int]:
    byte = _byte(data, offset, end)
    kind, size, shift = (byte >> 4) & 7, byte & 0x0F, 4
    offset += 1
    while byte & 0x80:
        byte = _byte(data, offset, end)
        size |= (byte & 0x7F) << shift
        shift += 7
        offset += 1
        if shift > 70:
            raise ValueError("an object size that does not end")
    return kind, size, offset


def _ofs_distance(data: mmap.mmap, offset: int, end: int) -> tuple[int, int]:
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


def _byte(data: mmap.mmap, offset: int, end: int) -> int:
    if offset >= end:
        raise ValueError("the pack is cut short inside an object header")
    return data[offset]


def _inflate(
    data: mmap.mmap, offset: int, end: int, size: int, where: str, keep_head: bool
) -> tuple[bytes, int]:
    """Inflate one entry without holding it.

    Returns its first bytes (a delta's header) and where the next entry starts.
    """
    stream = zlib.decompressobj()
    produced = 0
    head = b""
    fed = offset
    while not stream.eof:
        if fed >= end:
            raise ValueError(f"{where} is cut short")
        chunk = data[fed : min(fed + _INPUT_CHUNK, end)]
        fed += len(chunk)
        try:
            # deflate inflates at most ~1032:1, so one input chunk makes at most ~17 MB
            out = stream.decompress(chunk)
        except zlib.error as err:
            raise ValueError(f"{where} is not valid zlib data: {err}") from None
        produced += len(out)
        if keep_head and len(head) < 32:
            head += out[: 32 - len(head)]
        if produced > size:
            raise ValueError(f"{where} inflates beyond the {size} bytes it claims")
    if produced != size:
        raise ValueError(f"{where} inflates to {produced} bytes, not the {size} it claims")
    return head, fed - len(stream.unused_data)


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
