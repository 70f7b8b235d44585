"""A pack a remote sent, indexed in one pass over it, as git's ``index-pack`` does.

dulwich's ``add_thin_pack`` completes a pack, indexes it and verifies it,
inflating every object three times over: on a whole fetch of 10,000 versions
it was half the time. :class:`IndexedPack` inflates each entry once while
checking its bounds (:func:`gitpet.git.packcheck.scan_pack`), hashing whole
objects as they inflate, then applies each delta to its base, bases first,
so that a base is usually still in memory for its deltas. Everything it
reads is checked: the pack's checksum, every delta's sizes, the depth of
every chain (offset and ref deltas alike), and that no object appears twice.

A pack sent over the network is *thin*: its ref deltas may name bases the
receiving store already holds. Those bases are read from the store (hashed
again) and, when the pack is kept, appended to it whole, which makes the pack
self-contained as git requires of a pack on disk (``index-pack --fix-thin``).
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import itertools
import mmap
import operator
import os
import struct
import sys
import tempfile
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from typing import BinaryIO

from dulwich.errors import ApplyDeltaError
from dulwich.pack import apply_delta

from gitpet.git.idtable import IdDict, IdNumbering, IdTable
from gitpet.git.integrity import RawReader, find_raw
from gitpet.git.mapped import RELEASE_BEHIND, PassedPages, ReadInOrder, release_pages
from gitpet.git.objwrite import object_header, write_pack_index
from gitpet.git.packcheck import (
    MAX_DELTA_DEPTH,
    OFS_DELTA,
    PACK_TRAILER_BYTES,
    ScannedEntry,
    inflate_entry,
    scan_pack,
)

__all__ = ["IndexedPack"]

_TYPE_NAMES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
_TYPE_NUMBERS = {name: number for number, name in _TYPE_NAMES.items()}
_BLOB = 3
_WHOLE = -1  # parent of an object stored whole
_IN_STORE = -2  # parent of a delta whose base the store holds (a thin pack's)
# Inflated objects kept for the deltas that follow them (git's delta base cache is 96 MiB).
_CACHE_BYTES = 8 << 20
_CACHE_ONE_AT_MOST = 8 << 20
# Without reads to follow (gc checking its own pack, whose chains are single files' histories),
# only the deltas need bases kept: a quarter of the cache did, and gc's peak was 5 MiB lower.
_CACHE_BYTES_FOR_DELTAS = 2 << 20
# ... and a delta is applied right after its base was (depth first), so a few objects are enough:
# 2 MiB of small objects was 6,000 entries of an OrderedDict, another MiB.
_CACHE_ENTRIES_FOR_DELTAS = 64


class IndexedPack:
    """A received pack whose objects are all known by id: read them, then keep the pack with its index.

    Raises ValueError (from the constructor) naming what breaks a bound or the
    format: an entry, a delta that does not apply, a base neither the pack nor
    ``store`` holds, a chain deeper than :data:`MAX_DELTA_DEPTH`, an object the
    pack holds twice, or a checksum that does not match.
    """

    def __init__(self, path: str, store: RawReader, *, keep_for_reading: bool = True) -> None:
        """Index the pack at ``path``; a thin pack's bases come from ``store``.

        ``keep_for_reading``: keep the commits, trees and tags inflated (within a bound)
        for reads that follow; False when only the ids are wanted.
        """
        self._path = path
        self._store = store
        self._keep_for_reading = keep_for_reading
        self._cache_bytes = _CACHE_BYTES if keep_for_reading else _CACHE_BYTES_FOR_DELTAS
        self._cache_entries = sys.maxsize if keep_for_reading else _CACHE_ENTRIES_FOR_DELTAS
        with open(path, "rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._index()
        except BaseException:
            self.close()
            raise

    def __contains__(self, sha: object) -> bool:
        """Whether the pack holds object ``sha`` (a hex id)."""
        if not isinstance(sha, bytes) or len(sha) != 40:
            return False
        try:
            return bytes.fromhex(sha.decode("ascii")) in self._ids
        except ValueError:  # not an id (a hostile remote's ref can name anything)
            return False

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> IdNumbering:
        """The binary id of every object of the pack (still there once the pack is closed)."""
        return self._ids

    def get_raw(self, sha: bytes) -> tuple[int, bytes]:
        """The type number and content of object ``sha`` (hex); KeyError if the pack does not hold it."""
        try:
            binary = bytes.fromhex(sha.decode("ascii"))
        except ValueError:
            raise KeyError(sha) from None
        return self.read_binary(binary)

    def read_binary(self, binary: bytes) -> tuple[int, bytes]:
        """:meth:`get_raw` of a binary id."""
        index = self._entry_numbered(binary)
        return self._types[index], self._content(index)

    def type_num(self, sha: bytes) -> int:
        """The type number (1 to 4) of object ``sha`` (hex); KeyError if the pack does not hold it."""
        return self._types[self._entry_numbered(bytes.fromhex(sha.decode("ascii")))]

    def _entry_numbered(self, binary: bytes) -> int:
        """The entry number of object ``binary``; KeyError if the pack does not hold it."""
        number = self._ids.number(binary)
        if number < 0:
            raise KeyError(binary.hex())
        return self._entry_of[number]

    def keep(self, pack_dir: str, *, fsync: bool) -> str:
        """Complete the pack with the store's bases it names, index it, and move both into ``pack_dir``.

        Returns the kept pack's path without ``.pack``. The pack goes first: a
        reader uses a pack only once its index is there.
        """
        self._cache.clear()  # nothing is read from the pack once it is kept
        ids, offsets, crcs = self._index_columns()
        _unmap(self._data)
        with open(self._path, "r+b") as pack:
            checksum = self._completed(pack, ids, offsets, crcs)
            _finish(pack, fsync)
        fd, temp_index = tempfile.mkstemp(dir=os.path.dirname(self._path), prefix="tmp_idx_")
        try:
            with os.fdopen(fd, "wb") as index:
                write_pack_index(index, ids, offsets, crcs, checksum)
                _finish(index, fsync)
            base = os.path.join(pack_dir, f"pack-{checksum.hex()}")
            if not os.path.exists(base + ".idx"):  # else the store holds this very pack already
                os.replace(self._path, base + ".pack")
                os.replace(temp_index, base + ".idx")
            return base
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp_index)

    def index_matches(self, index_path: str) -> bool:
        """Whether the index at ``index_path`` is the one this pack has (for a pack written here)."""
        crcs = self._entry_crcs
        trailer = self._data[len(self._data) - PACK_TRAILER_BYTES :]
        with open(index_path, "rb") as index:
            compared = _ComparedWith(index)  # part by part: neither index is held whole
            # The ids and offsets as they are held (copies of them were gc's peak).
            write_pack_index(compared, _EntryIds(self), self._entries.starts, crcs, trailer)
            return compared.same and index.read(1) == b""

    def close(self) -> None:
        """Unmap the pack (its file stays where it is)."""
        self._cache.clear()
        _unmap(self._data)

    # -- indexing ----------------------------------------------------------------------------------

    def _index(self) -> None:
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._passed = PassedPages()  # reads for deltas, which jump about the pack
        self._entries = _Entries()
        # Each object's id, numbered as identified (a delta's once it is applied), and the
        # entry numbers both ways: dicts and lists of ids were most of a fetch's and gc's peak.
        self._ids: IdNumbering = IdDict() if self._keep_for_reading else IdTable()
        self._entry_of = array("I")  # id's number -> entry number
        self._in_store: list[bytes] = []  # the bases a thin pack named, as binary ids
        deltas, delta_bases = array("I"), array("i")  # each offset delta, and its base entry (-1: none)
        children_of: dict[bytes, list[int]] = {}  # binary id of a base -> its ref deltas
        data = self._data
        # Each entry's CRC while its bytes are at hand: a second pass over the pack cost
        # 23 ms of a fetch of 50,000 objects.
        self._entry_crcs = array("I")  # of each entry as stored: what an index lists
        # Bound to locals: this loop runs once per object (50,000 for 10,000 versions), and
        # what an entry does not need is set for all of them after it.
        reached, crc_of, add_crc = ReadInOrder(data).reached, zlib.crc32, self._entry_crcs.append
        add_entry, numbered = self._entries.append, self._ids.add
        add_entry_of, entry_of = self._entry_of.append, self._entry_of
        remembered = self._keep_for_reading
        for number, entry in enumerate(scan_pack(data)):
            reached(entry.start)
            add_crc(crc_of(data[entry.start : entry.end]))
            add_entry(entry)  # (its content only in the bounded cache)
            if entry.sha is not None:
                if numbered(entry.sha) != len(entry_of):
                    raise ValueError(f"{_where(number, entry)} is object {entry.sha.hex()} again")
                add_entry_of(number)
                if remembered and entry.content is not None and entry.kind != _BLOB:
                    # What the fetch's check reads next. A blob is read again only if it is
                    # a delta's base (and deltas are applied once the whole pack is scanned).
                    self._remember(number, entry.content)
            elif entry.kind == OFS_DELTA:
                assert isinstance(entry.base, int)  # scan_pack gives an offset delta its base's offset
                deltas.append(number)
                delta_bases.append(self._entries.number_at(entry.base))  # (-1: no entry there)
            else:
                assert isinstance(entry.base, bytes)
                children_of.setdefault(entry.base, []).append(number)
        count = len(self._entries)
        self._types = array("B", self._entries.kinds)  # a delta's becomes its base's once applied
        self._parent = array("i", [_WHOLE]) * count
        self._depth = array("H", bytes(2 * count))
        self._id_number = array("i", [-1]) * count  # entry number -> id's number (-1 until identified)
        for identified, number in enumerate(entry_of):
            self._id_number[number] = identified
        self._check_trailer()
        release_pages(self._data)
        children_at = _OffsetDeltas(count, deltas, delta_bases)
        del deltas, delta_bases
        # Where chains of deltas start: the whole entries offset deltas name, and those ref deltas
        # name by id (not a call per entry: 50,000 of them cost ~20 ms). A delta's own deltas are
        # applied once it is; a base the pack does not hold is looked for in the store below.
        stored = self._entries.kinds  # (not _types: a delta's changes as it is applied)
        roots: Iterable[int] = (n for n in children_at.bases() if stored[n] < OFS_DELTA)
        if children_of:
            numbers = (self._ids.number(base) for base in children_of)  # -1: not a whole entry's id
            roots = sorted({*roots, *(entry_of[known] for known in numbers if known >= 0)})
        resolved = False
        for number in roots:
            self._resolve_below(number, children_at, children_of)
            resolved = True
        if resolved:
            release_pages(self._data)
        for base in list(children_of):
            found = find_raw(self._store, base.hex().encode("ascii")) if base in children_of else None
            if found is not None:
                self._in_store.append(base)
                self._resolve_on_stored(base, _TYPE_NUMBERS[found[0]], found[1], children_at, children_of)
        if len(self._entry_of) < len(self._entries):  # a delta whose base was never found
            number = self._id_number.index(-1)
            entry = self._entries.at(number)
            named = entry.base.hex() if isinstance(entry.base, bytes) else f"the entry at byte {entry.base}"
            raise ValueError(
                f"{_where(number, entry)} is a delta on {named}, which neither the pack nor the store holds"
            )

    def _resolve_below(
        self, root: int, children_at: _OffsetDeltas, children_of: dict[bytes, list[int]]
    ) -> None:
        """Apply every delta that has ``root`` (an entry with a known id) below it, depth first."""
        todo = [root]
        while todo:
            number = todo.pop()
            kids = children_at.of(number)
            if children_of:  # (ref deltas: rare but in thin packs)
                kids = [*kids, *children_of.pop(self._sha(number), [])]
            if kids:
                base = self._content(number)
                for kid in kids:
                    self._apply(kid, number, self._types[number], base)
                todo.extend(reversed(kids))

    def _resolve_on_stored(
        self,
        base_id: bytes,
        type_num: int,
        base: bytes,
        children_at: _OffsetDeltas,
        children_of: dict[bytes, list[int]],
    ) -> None:
        kids = children_of.pop(base_id, [])
        for kid in kids:
            self._apply(kid, _IN_STORE, type_num, base)
        for kid in kids:
            self._resolve_below(kid, children_at, children_of)

    def _apply(self, number: int, parent: int, type_num: int, base: bytes) -> None:
        entry = self._entries.at(number)
        depth = 1 if parent == _IN_STORE else self._depth[parent] + 1
        if depth > MAX_DELTA_DEPTH:
            raise ValueError(f"{_where(number, entry)} is {depth} deltas deep, over {MAX_DELTA_DEPTH}")
        try:
            content = b"".join(apply_delta(base, self._inflate(entry)))
        except (ApplyDeltaError, ValueError, IndexError) as err:
            raise ValueError(f"{_where(number, entry)} is a delta that does not apply: {err}") from None
        if len(content) != entry.result_size:
            raise ValueError(f"{_where(number, entry)} is a delta that does not make the size it claims")
        self._types[number] = type_num
        self._parent[number] = parent
        self._depth[number] = depth
        header = _TYPE_NAMES[type_num] + b" %d\0" % len(content)
        self._identify(number, hashlib.sha1(header + content).digest())
        self._remember(number, content)

    def _identify(self, number: int, sha: bytes) -> None:
        numbered = self._ids.add(sha)
        if numbered != len(self._entry_of):
            raise ValueError(f"{_where(number, self._entries.at(number))} is object {sha.hex()} again")
        self._entry_of.append(number)
        self._id_number[number] = numbered

    def entry_id(self, number: int) -> bytes:
        """The binary id of the object entry ``number`` holds (IndexError past the last)."""
        if not 0 <= number < len(self._entries):
            raise IndexError(number)
        return self._sha(number)

    def _sha(self, number: int) -> bytes:
        """The binary id of entry ``number`` (empty until it is identified)."""
        numbered = self._id_number[number]
        return self._ids.id(numbered) if numbered >= 0 else b""

    def _check_trailer(self) -> None:
        end = len(self._data) - PACK_TRAILER_BYTES
        digest = hashlib.sha1()
        hashed = ReadInOrder(self._data)
        with memoryview(self._data) as view:
            for start in range(0, end, RELEASE_BEHIND):
                digest.update(view[start : min(end, start + RELEASE_BEHIND)])
                hashed.reached(start + RELEASE_BEHIND)
        if digest.digest() != self._data[end:]:
            raise ValueError("the pack's checksum does not match its content")

    # -- reading -----------------------------------------------------------------------------------

    def _inflate(self, entry: ScannedEntry) -> bytes:
        """:func:`inflate_entry`, handing back the pack's pages every few MiB read."""
        if self._passed.read(entry.end - entry.start):
            release_pages(self._data)
        return inflate_entry(self._data, entry)

    def _content(self, number: int) -> bytes:
        """The inflated object of entry ``number`` (resolved): from the cache, or rebuilt down its chain."""
        chain = []
        current = number
        while True:
            cached = self._cache.get(current)
            if cached is not None:
                self._cache.move_to_end(current)
                content = cached
                break
            parent = self._parent[current]
            if parent == _WHOLE:
                content = self._inflate(self._entries.at(current))
                self._remember(current, content)
                break
            chain.append(current)
            if parent == _IN_STORE:
                base = self._entries.at(current).base
                assert isinstance(base, bytes)
                content = self._stored(base)[1]
                break
            current = parent
        for link in reversed(chain):
            content = b"".join(apply_delta(content, self._inflate(self._entries.at(link))))
            self._remember(link, content)
        return content

    def _stored(self, sha: bytes) -> tuple[int, bytes]:
        found = find_raw(self._store, sha.hex().encode("ascii"))
        if found is None:  # gone from the store while the pack was read (a concurrent gc)
            raise ValueError(f"the store no longer holds {sha.hex()}, a base the pack needs")
        return _TYPE_NUMBERS[found[0]], found[1]

    def _remember(self, number: int, content: bytes) -> None:
        if len(content) > _CACHE_ONE_AT_MOST or number in self._cache:
            return
        self._cache[number] = content
        self._cached_bytes += len(content)
        while self._cached_bytes > self._cache_bytes or len(self._cache) > self._cache_entries:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= len(dropped)

    # -- keeping -----------------------------------------------------------------------------------

    def _index_columns(self) -> tuple[list[bytes], array[int], array[int]]:
        """The binary id, offset and CRC-32 (of the stored entry) of each object of the pack."""
        numbered = list(self._ids)  # (every entry is identified once the pack is indexed)
        ids = [numbered[number] for number in self._id_number]
        # Copies: a thin pack's bases are added to them.
        return ids, array("Q", self._entries.starts), array("I", self._entry_crcs)

    def _completed(self, pack: BinaryIO, ids: list[bytes], offsets: array[int], crcs: array[int]) -> bytes:
        """Append the store's bases a thin pack names (whole), fix the count; return the checksum."""
        pack.seek(0, 2)
        end = pack.tell() - PACK_TRAILER_BYTES
        if not self._in_store:
            pack.seek(end)
            checksum: bytes = pack.read(PACK_TRAILER_BYTES)
            return checksum
        pack.seek(end)
        for base in self._in_store:
            type_num, content = self._stored(base)
            record = object_header(type_num, len(content)) + zlib.compress(content)
            ids.append(base)
            offsets.append(end)
            crcs.append(zlib.crc32(record))
            pack.write(record)
            end += len(record)
        pack.truncate(end)
        pack.seek(8)
        pack.write(struct.pack(">I", len(ids)))
        pack.seek(0)
        digest = hashlib.sha1()
        while chunk := pack.read(1 << 20):
            digest.update(chunk)
        checksum = digest.digest()
        pack.write(checksum)
        return checksum


class _Entries:
    """Where each entry of the pack is, in arrays: 26 bytes an entry, not a tuple's few hundred.

    An entry ends where the next starts (a pack's entries follow each other); sizes fit
    four bytes (:data:`MAX_OBJECT_BYTES` bounds every one the scan lets through).
    """

    def __init__(self) -> None:
        self._starts, self._offset_bases = array("Q"), array("Q")
        self._header_lengths, self._kinds = array("B"), array("B")
        self._sizes, self._results = array("I"), array("I")
        self._last_end = 0
        self._ref_bases: dict[int, bytes] = {}  # entry number -> a ref delta's base (binary id)

    def __len__(self) -> int:
        return len(self._kinds)

    def append(self, entry: ScannedEntry) -> None:
        base = entry.base
        if isinstance(base, bytes):
            self._ref_bases[len(self._kinds)] = base
        self._starts.append(entry.start)
        self._header_lengths.append(entry.data_start - entry.start)
        self._last_end = entry.end
        self._sizes.append(entry.size)
        self._results.append(entry.result_size)
        self._offset_bases.append(base if isinstance(base, int) else 0)
        self._kinds.append(entry.kind)

    @property
    def kinds(self) -> array[int]:
        """Each entry's kind as stored (1 to 4, or a delta's): the array itself, not to be changed."""
        return self._kinds

    @property
    def starts(self) -> array[int]:
        """Where each entry starts (the array itself: not to be changed)."""
        return self._starts

    def start(self, number: int) -> int:
        return self._starts[number]

    def number_at(self, offset: int) -> int:
        """The number of the entry that starts at byte ``offset``, or -1 if none does."""
        number = bisect.bisect_left(self._starts, offset)
        return number if number < len(self._starts) and self._starts[number] == offset else -1

    def span(self, number: int) -> tuple[int, int]:
        """Where entry ``number`` starts and ends."""
        following = number + 1
        return self._starts[number], (
            self._starts[following] if following < len(self._starts) else self._last_end
        )

    def at(self, number: int) -> ScannedEntry:
        """Entry ``number`` as the scan found it (without its id or content)."""
        start, end = self.span(number)
        size, result, base = self._sizes[number], self._results[number], self._offset_bases[number]
        kind = self._kinds[number]
        named: int | bytes | None = self._ref_bases.get(number) or (base if kind == OFS_DELTA else None)
        data_start = start + self._header_lengths[number]
        return ScannedEntry(start, kind, size, data_start, end, named, result, None, None)


class _EntryIds:
    """The binary id of each entry of an indexed pack, in the pack's order, read where they are held."""

    def __init__(self, pack: IndexedPack) -> None:
        self._pack = pack

    def __len__(self) -> int:
        return len(self._pack)

    def __getitem__(self, position: int, /) -> bytes:
        return self._pack.entry_id(position)


class _OffsetDeltas:
    """The offset deltas on each entry, from each delta's base entry: arrays, not a dict of lists.

    A dict from a base's offset to a list of its deltas held about 140 bytes a delta (4 MiB
    for a pack of 10,000 versions); this holds 12. Built with a loop over the deltas only:
    what runs once per entry of the pack runs in C (a pack without deltas costs ~1 ms, not 10).
    """

    def __init__(self, entries: int, deltas: array[int], bases: array[int]) -> None:
        """``deltas[i]`` is an offset delta on entry ``bases[i]`` (-1: none), both in the pack's order."""
        counts = array("I", bytes(4 * entries))
        for base in bases:
            if base >= 0:
                counts[base] += 1
        # entry -> where its deltas start in _deltas (and the next entry's, where they end)
        self._first = array("I", itertools.accumulate(counts, initial=0))
        self._deltas = array("I", bytes(4 * self._first[-1]))
        placed = counts  # reused: where the next delta on each base goes
        placed[:] = self._first[:-1]
        for number, base in zip(deltas, bases, strict=True):
            if base >= 0:
                self._deltas[placed[base]] = number
                placed[base] += 1

    def __bool__(self) -> bool:
        return bool(self._deltas)

    def bases(self) -> Iterator[int]:
        """The entries with offset deltas on them, in the pack's order (nothing held: gc's peak)."""
        first = self._first
        if not self._deltas:
            return iter(())
        return itertools.compress(itertools.count(), map(operator.ne, first[:-1], first[1:]))

    def of(self, base: int) -> Sequence[int]:
        """The offset deltas on entry ``base``, in the pack's order."""
        first, end = self._first[base], self._first[base + 1]
        return self._deltas[first:end] if end > first else ()


class _ComparedWith:
    """A file to write to that only compares what is written with what ``file`` holds next."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.same = True

    def write(self, data: bytes | bytearray | array[int]) -> int:
        expected = memoryview(data).cast("B")
        self.same = self.same and self._file.read(len(expected)) == expected
        return len(expected)


def _where(number: int, entry: ScannedEntry) -> str:
    return f"object {number} (at byte {entry.start})"


def _finish(file: BinaryIO, fsync: bool) -> None:
    file.flush()
    if fsync:
        os.fsync(file.fileno())


def _unmap(data: mmap.mmap) -> None:
    """Unmap the pack, even while a slice of it is still viewed.

    Such a view (left in a reference cycle until the next collection) makes closing the map
    raise ``BufferError``: collect, and try once more. A map still in use is left to close
    when its last view goes; the file moves and is removed by name all the same (seen on a
    Dask driver fetching while worker threads started).
    """
    if data.closed:
        return
    try:
        data.close()
    except BufferError:
        gc.collect()
        with suppress(BufferError):
            data.close()
