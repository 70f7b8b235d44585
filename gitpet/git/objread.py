"""Reading the raw content of git objects on the load path, without dulwich's layers.

dulwich's ``get_raw`` stats the store for a multi-pack index, walks its pack
cache and reads a packed object through several layers of Python; a loose
object it parses into a ``ShaFile`` and serializes back. Loading a class
reads five objects (commit, tree, meta, source, pickle), and those layers
were most of the time. :class:`RawObjectReader` reads what gitpet writes
directly: a whole object in a pack (through an ``mmap`` of the pack, found
with the pack's index) or a loose object (one file read and one
decompression). Anything else (a delta, which ``git gc`` makes, an object
in a pack that appeared since, an alternate) goes to dulwich.

Nothing is trusted here: callers hash the content again (see
:func:`gitpet.git.integrity.find_raw`).
"""

from __future__ import annotations

import binascii
import bisect
import mmap
import os
import struct
import sys
import threading
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from dulwich.errors import ApplyDeltaError
from dulwich.pack import PackFileDisappeared, apply_delta, load_pack_index

from gitpet.errors import IntegrityError
from gitpet.format.bounds import MAX_OBJECT_BYTES
from gitpet.git.dulwich_private import iter_loose_ids
from gitpet.git.mapped import PassedPages, release_pages

__all__ = ["MAX_OBJECT_BYTES", "PackedEntry", "RawObjectReader", "ReusedPacks"]


_WHOLE_TYPES = frozenset({1, 2, 3, 4})  # commit, tree, blob, tag; 6 and 7 are deltas
_LOOSE_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
_OFS_DELTA, _REF_DELTA = 6, 7
# git's deepest chain (``--depth``) is 4095: a longer one is a loop of ref deltas, or damage.
_MAX_DELTA_CHAIN = 4096
_PACK_TRAILER = 20
_LOOKUPS_BEFORE_TABLE = 1024
_SLICE = 1 << 20  # of a whole pack sent as it is
_PACK_HEADER = 12
_INDEX_V2 = b"\377tOc\0\0\0\2"
_IDS_START = 8 + 256 * 4  # magic and version, then the fan-out table
_COPY_SLICE = 64 << 10
_SEARCHED_IDS = 64  # of a pack index's sorted ids, searched for in C rather than bisected
# Compressed bytes handed to zlib at once while finding where a packed entry ends.
_INFLATE_SLICE = 4 << 20


class PackedEntry(NamedTuple):
    """An object as a pack stores it: what a sender passes on without compressing it again."""

    type_num: int
    """1 to 4 for a whole object (commit, tree, blob, tag); 7 for a delta on ``base``."""
    size: int
    """The inflated size of what is stored (of the delta, for a delta)."""
    base: bytes | None
    """The hex id of the delta's base; None for a whole object."""
    compressed: bytes
    """The zlib stream, as stored."""


class RawObjectReader:
    """``get_raw(hex sha) -> (type number, content)`` over a dulwich disk object store.

    Examples:
        >>> import tempfile
        >>> from dulwich.objects import Blob
        >>> from dulwich.repo import Repo
        >>> repo = Repo.init_bare(tempfile.mkdtemp())
        >>> blob = Blob.from_string(b"class A: pass\\n")
        >>> repo.object_store.add_object(blob)
        >>> RawObjectReader(repo.object_store).get_raw(blob.id)
        (3, b'class A: pass\\n')
    """

    def __init__(self, objects: Any) -> None:
        self._objects = objects
        self._packs: dict[str, _MappedPack] = {}
        self._orders: dict[str, _PackOrder | None] = {}  # pack path -> its entries in order (when needed)
        self._lookups_left: dict[str, int] = {}  # pack path -> searches of its index before a table pays
        self._tables: dict[str, dict[bytes, int]] = {}  # pack path -> offset of each id, once it pays
        self._pack_dir_seen: frozenset[str] | None = None  # pack directory's names at the last refresh
        self._passed = PassedPages()  # what reads have passed since the packs' pages were handed back
        # One reader serves every thread using its store: a refresh unmaps packs another thread
        # could be reading (a closed mapping would look like a damaged object).
        self._lock = threading.Lock()

    def get_raw(self, sha: bytes) -> tuple[int, bytes]:
        """The type number and content of object ``sha`` (hex); KeyError if it is not stored.

        An object claiming more than :data:`MAX_OBJECT_BYTES`, or holding other than its
        header claims, raises ValueError before more than that is inflated.
        """
        with self._lock:
            found = self._from_packs(sha) or self._from_loose(sha)
            if found is None and self._refresh_packs():
                found = self._from_packs(sha)  # in a pack that appeared since
            if found is not None:
                return found
            raw: tuple[int, bytes] = self._objects.get_raw(sha)  # deltas, alternates, damage: dulwich's
            return raw

    def holds(self, sha: bytes) -> bool:
        """Whether the store holds object ``sha`` (hex) in a pack or loose; nothing is read.

        A fraction of the cost of dulwich's ``in``.
        """
        text = sha.decode("ascii")
        with self._lock:
            if self._in_pack(sha) is not None:
                return True
            if os.path.exists(os.path.join(self._objects.path, text[:2], text[2:])):
                return True
            return self._refresh_packs() and self._in_pack(sha) is not None

    def knows_packs(self) -> bool:
        """Whether any pack was mapped at the last look (looking first if it never has)."""
        with self._lock:
            if self._pack_dir_seen is None:
                self._refresh_packs()
            return bool(self._packs)

    def in_known_packs(self, sha: bytes) -> bool:
        """Whether a pack mapped at the last look holds ``sha`` (hex): no listing, no loose file.

        For a caller to whom a miss costs only work (a fetch's check walking an object
        the remote sent again), asking once per object.
        """
        with self._lock:
            return self._in_pack(sha) is not None

    def held_among(self, shas: Iterable[bytes]) -> set[bytes]:
        """Which of ``shas`` (hex) the store holds, packed or loose, looking once.

        Packs that appeared since the last look are mapped first; loose objects are
        found by listing each fan-out directory the ids fall in, once, not by a
        file lookup per id (a fetch asks this of every object it brought).
        """
        held: set[bytes] = set()
        loose: dict[bytes, list[bytes]] = {}
        try:  # the fan-out directories there are (a store that has only packs has none)
            folders = {name.encode("ascii") for name in os.listdir(self._objects.path) if len(name) == 2}
        except FileNotFoundError:
            folders = set()
        with self._lock:
            self._refresh_packs()
            if not self._packs and not folders:  # a first fetch's store: nothing to look for
                return held
            for sha in shas:
                if self._packs and self._in_pack(sha) is not None:
                    held.add(sha)
                elif sha[:2] in folders:
                    loose.setdefault(sha[:2], []).append(sha)
        for folder, candidates in loose.items():
            try:
                names = set(os.listdir(os.path.join(self._objects.path, folder.decode("ascii"))))
            except (FileNotFoundError, NotADirectoryError):
                continue
            held.update(sha for sha in candidates if sha[2:].decode("ascii") in names)
        return held

    def packed_entry(self, sha: bytes) -> PackedEntry | None:
        """Object ``sha`` as a pack holds it; None if no pack holds it.

        The compressed stream is inflated once (and thrown away) to find where it ends
        and check it holds the size its header says; ValueError if it does not.
        """
        with self._lock:
            found = self._packed_entry(sha)
            if found is None and self._refresh_packs():
                found = self._packed_entry(sha)
            if found is not None:
                self._read_from_pack(len(found.compressed))
            return found

    def whole_packs_among(self, shas: Sequence[bytes]) -> ReusedPacks:
        """The packs every object of which is among ``shas`` (hex, each once), to send as they are.

        What a fetch of everything, or of most of what a store holds, sends (git reuses
        whole packs too): their entries are copied, not read object by object. Two packs
        holding the same object are not both taken. The receiver checks every byte as it
        would any pack.
        """
        left = set(shas)
        taken: list[tuple[str, mmap.mmap]] = []
        count = 0
        with self._lock:
            self._refresh_packs()
            # Only packs no bigger than what is sent are read (an incremental fetch sends a few
            # objects of a store of many), the biggest first: the most reused.
            fitting = [(len(mapped.index), path) for path, mapped in self._packs.items()]
            for size, path in sorted(fitting, reverse=True):
                order = self._order(path) if 0 < size <= len(left) else None
                if order is None:
                    continue
                if all(binascii.hexlify(sha) in left for sha in order.binary_ids()):
                    taken.append((path, self._packs[path].data))
                    left.difference_update(binascii.hexlify(sha) for sha in order.binary_ids())
                    count += size
        rest = [sha for sha in shas if sha in left] if taken else list(shas)
        return ReusedPacks(taken, count, rest, self._lock)

    def whole_store(self) -> ReusedPacks:
        """Every object the store holds: its packs to send as they are, its loose objects whole.

        What a first fetch of every ref sends, as ``git clone`` of a path copies the
        objects directory: no walk of the history (git's ``upload-pack`` walks it in C,
        gitpet's walk was a third of such a fetch). Objects no ref reaches go along;
        the receiver checks what the refs reach and keeps the rest until its gc. A pack
        holding an object a pack already taken holds is sent object by object.
        """
        taken: list[tuple[str, mmap.mmap]] = []
        held: set[bytes] = set()
        rest: list[bytes] = []
        count = 0
        with self._lock:
            self._refresh_packs()
            orders = [(path, self._order(path)) for path in self._packs]
            for path, order in sorted(orders, key=lambda found: -len(found[1] or ())):
                if order is None:  # a version 1 index: its objects asked for one by one
                    ids = {bytes(sha) for sha, _offset, _crc in self._packs[path].index.iterentries()}
                elif held.isdisjoint(ids := set(order.binary_ids())):
                    taken.append((path, self._packs[path].data))
                    count += len(ids)
                    held |= ids
                    continue
                rest.extend(binascii.hexlify(sha) for sha in ids - held)
                held |= ids
        rest.extend(sha for sha in iter_loose_ids(self._objects) if binascii.unhexlify(sha) not in held)
        return ReusedPacks(taken, count, rest, self._lock)

    def close(self) -> None:
        """Unmap every pack; the reader maps them again on next use."""
        with self._lock:
            for mapped in self._packs.values():
                mapped.close()
            self._packs = {}
            self._orders = {}
            self._lookups_left = {}
            self._tables = {}
            self._pack_dir_seen = None

    def _in_pack(self, sha: bytes) -> tuple[str, mmap.mmap, int] | None:
        """The mapped pack that holds ``sha`` (its path and data) and the object's offset in it."""
        if self._pack_dir_seen is None:
            self._refresh_packs()
        binary = binascii.unhexlify(sha)
        for position, (path, mapped) in enumerate(self._packs.items()):
            offset = self._offset_in(path, binary)
            if offset is None:
                continue
            if position:
                # Asked first from now on, as git does: the other objects of a version (its
                # tree and files) are in the pack its commit is in, and packs pile up.
                self._packs = {path: mapped, **self._packs}
            return path, mapped.data, offset
        return None

    def _count_lookup(self, path: str, index: Any) -> None:
        # A search of the index costs ~1.6 µs, a table of 50,000 ids ~11 ms and then ~0.3 µs a lookup:
        # once a reader has asked a pack for a quarter of what it holds (a fetch or push of much of
        # it), the table pays; a walk of one history of 10,000 versions (a fifth) searches.
        left = self._lookups_left.get(path)
        if left is None:
            left = max(_LOOKUPS_BEFORE_TABLE, len(index) // 4) if isinstance(index, _IndexLookup) else -1
        if left == 0:
            self._tables[path] = index.table()
        self._lookups_left[path] = left - 1  # a version 1 index (dulwich's) never reaches 0

    def _packed_entry(self, sha: bytes) -> PackedEntry | None:
        found = self._in_pack(sha)
        if found is None:
            return None
        path, data, offset = found
        type_num, size, position = _entry_header(data, offset)
        order = self._order(path)
        base: bytes | None = None
        if type_num == _OFS_DELTA:
            distance, position = _base_distance(data, position)
            base = None if order is None else order.id_at(offset - distance)
            if base is None:
                raise ValueError(f"a delta in pack {os.path.basename(path)} names no object as its base")
            type_num = _REF_DELTA
        elif type_num == _REF_DELTA:
            base = data[position : position + 20].hex().encode("ascii")
            position += 20
        elif type_num not in _WHOLE_TYPES:
            raise ValueError(f"packed object at offset {offset} has unknown type {type_num}")
        if order is None:  # a version 1 index: no CRCs, so inflate to find the end
            return PackedEntry(type_num, size, base, data[position : _stream_end(data, position, size)])
        # Where the next entry starts, and the CRC the index holds for the entry (as git's reuse checks it).
        end = order.end_of(offset, len(data) - _PACK_TRAILER)
        if zlib.crc32(data[offset:end]) != order.crc_at(offset):
            raise ValueError(f"packed object at offset {offset} does not match the CRC its pack index holds")
        return PackedEntry(type_num, size, base, data[position:end])

    def _order(self, path: str) -> _PackOrder | None:
        if path not in self._orders:
            try:
                # From the index as mapped with the pack: gc may have removed the file since.
                self._orders[path] = _PackOrder.read(self._packs[path].index_data)
            except ValueError:  # damaged: passed on the slow way, which names the damage
                self._orders[path] = None
        return self._orders[path]

    def _from_packs(self, sha: bytes) -> tuple[int, bytes] | None:
        found = self._in_pack(sha)
        if found is None:
            return None
        path, data, offset = found
        type_num, size, position = _entry_header(data, offset)
        if type_num in _WHOLE_TYPES:  # most objects: no deltas to apply
            content = _inflated(data, offset, position, size)
            self._read_from_pack(size)
            return type_num, content
        whole = _object_at(data, offset, lambda binary: self._offset_in(path, binary))
        if whole is not None:
            self._read_from_pack(len(whole[1]))
        return whole

    def _offset_in(self, path: str, binary: bytes) -> int | None:
        """Where pack ``path`` holds object ``binary``, or None."""
        table = self._tables.get(path)
        if table is not None:
            return table.get(binary)
        index = self._packs[path].index
        self._count_lookup(path, index)
        try:
            return int(index.object_offset(binary))
        except (KeyError, PackFileDisappeared):
            return None

    def _read_from_pack(self, length: int) -> None:
        """Count a record of ``length`` bytes read; every few MiB, hand the packs' pages back.

        A long read (sending a pack, gc, verify) would otherwise keep every page it passed.
        A page read again is mapped again from the page cache (see :mod:`gitpet.git.mapped`).
        """
        if self._passed.read(length):
            for mapped in self._packs.values():
                release_pages(mapped.data)

    def _from_loose(self, sha: bytes) -> tuple[int, bytes] | None:
        text = sha.decode("ascii")
        path = os.path.join(self._objects.path, text[:2], text[2:])
        try:
            with open(path, "rb") as handle:
                stored = handle.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        decompressor = zlib.decompressobj()
        head = decompressor.decompress(stored, 64)
        header, nul, _ = head.partition(b"\0")
        kind, _, size = header.partition(b" ")
        type_num = _LOOSE_TYPES.get(kind)
        if not nul or type_num is None or not size.isdigit():
            # Not what git writes. Not handed to dulwich, which would inflate all of it.
            raise ValueError(f"loose object {text} has no valid header")
        _check_size(int(size))
        whole = len(header) + 1 + int(size)
        # One byte more than the object: a longer one is not what its header says. (0 means no limit.)
        rest = decompressor.decompress(decompressor.unconsumed_tail, max(1, whole + 1 - len(head)))
        content = (head + rest)[len(header) + 1 :]
        if int(size) != len(content) or decompressor.unconsumed_tail:
            raise ValueError(f"loose object {text} does not hold the {int(size)} bytes its header says")
        return type_num, content

    def _refresh_packs(self) -> bool:
        """Map the packs that appeared, unmap those gc removed; return whether any changed.

        A removed pack's objects are in gc's new pack, and a mapping keeps a deleted
        file's space in use for as long as the process runs.
        """
        names = self._pack_dir_names()
        if names == self._pack_dir_seen:
            return False
        self._pack_dir_seen = names
        pack_dir = os.fspath(self._objects.pack_dir)
        # A pack counts once its index is there (a pack is renamed into place first).
        current = {
            os.path.join(pack_dir, name)
            for name in names
            if name.endswith(".pack") and name.removesuffix(".pack") + ".idx" in names
        }
        for path in self._packs.keys() - current:
            self._packs.pop(path).close()
            self._orders.pop(path, None)
            self._lookups_left.pop(path, None)
            self._tables.pop(path, None)
        for path in current - self._packs.keys():
            try:
                with open(path, "rb") as handle:
                    data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                index_path = path.removesuffix(".pack") + ".idx"
                with open(index_path, "rb") as handle:
                    index_data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                index: Any
                if index_data[:8] == _INDEX_V2:
                    index = _IndexLookup(index_data)
                else:  # version 1, as git wrote before 2007: dulwich's reader
                    index = load_pack_index(index_path, self._objects.object_format)
            except (OSError, ValueError, AssertionError, PackFileDisappeared):
                continue  # removed meanwhile (gc), or damaged: dulwich's path reports it
            self._packs[path] = _MappedPack(index, data, index_data)
        return True

    def _pack_dir_names(self) -> frozenset[str]:
        # The names, not the directory's mtime: two packs written within one
        # timestamp tick would leave the second to dulwich's slow path forever.
        try:
            return frozenset(os.listdir(self._objects.pack_dir))
        except FileNotFoundError:
            return frozenset()


class _IndexTables(NamedTuple):
    """Where the tables of a version 2 pack index start (after its fan-out), from its object count."""

    entries: int
    crcs: int
    offsets: int
    large: int
    """The table of 8-byte offsets for the entries past 2 GiB."""

    @classmethod
    def of(cls, raw: mmap.mmap) -> _IndexTables:
        """The tables of the index ``raw`` (ValueError: not a version 2 index, or cut short)."""
        if raw[:8] != _INDEX_V2 or len(raw) < _IDS_START:
            raise ValueError("not a version 2 pack index")
        (count,) = struct.unpack_from(">I", raw, 8 + 255 * 4)
        crcs = _IDS_START + 20 * count
        tables = cls(count, crcs, crcs + 4 * count, crcs + 8 * count)
        if len(raw) < tables.large + 40:  # and the two checksums
            raise ValueError("the pack index is cut short")
        return tables

    def all_offsets(self, raw: mmap.mmap) -> array[int]:
        """The offset of each entry, in the index's order (its ids' order)."""
        small = array("I")
        small.frombytes(raw[self.offsets : self.large])
        if sys.byteorder == "little":
            small.byteswap()
        if not small or not max(small) & 0x80000000:
            return small
        offsets = array("Q", small)  # entries past 2 GiB: their offsets are in the large table
        for position, offset in enumerate(small):
            if offset & 0x80000000:
                offsets[position] = self.full_offset(raw, offset)
        return offsets

    def full_offset(self, raw: mmap.mmap, offset: int) -> int:
        """An entry of the offsets table, followed into the large offsets when its top bit says so."""
        if not offset & 0x80000000:
            return offset
        at = self.large + 8 * (offset & 0x7FFFFFFF)
        if at + 8 > len(raw) - 40:
            raise ValueError("the pack index names a large offset it does not hold")
        return int(struct.unpack_from(">Q", raw, at)[0])


class _IndexLookup:
    """An object's offset from a version 2 pack index as mapped: its fan-out, then a binary search.

    dulwich's reader maps the file again and reads the fan-out one entry at a time:
    a tenth of a millisecond, a third of a first load from a large pack.
    """

    def __init__(self, data: mmap.mmap) -> None:
        self._data = data
        self._tables = _IndexTables.of(data)
        self._fanout: tuple[int, ...] = struct.unpack_from(">256I", data, 8)

    def __len__(self) -> int:
        return self._tables.entries

    def table(self) -> dict[bytes, int]:
        """The offset of each object (by binary id): a dict lookup where :meth:`object_offset` searches.

        Read from the index alone: the pack's order (:class:`_PackOrder`) is not needed.
        """
        names = self._data[_IDS_START : self._tables.crcs]  # one copy: slices of a map cost more
        ids = [names[at : at + 20] for at in range(0, len(names), 20)]
        return dict(zip(ids, self._tables.all_offsets(self._data), strict=True))

    def object_offset(self, binary: bytes) -> int:
        """Where the pack holds object ``binary``; KeyError if it does not."""
        if len(binary) != 20:
            raise KeyError(binary)
        data, first = self._data, binary[0]
        low = self._fanout[first - 1] if first else 0
        high = min(self._fanout[first], self._tables.entries)  # a damaged fan-out reads no other table
        while high - low > _SEARCHED_IDS:  # halve a large bucket first: a search's cost grows with it
            middle = (low + high) // 2
            at = _IDS_START + 20 * middle
            if data[at : at + 20] <= binary:
                low = middle
            else:
                high = middle
        # Then a search in C of the ids left (a few hundred bytes): a bisection in Python costs twice
        # as much. Every id of a fan-out bucket starts with the same byte, so the rest is searched
        # for (what a match begins with is then rare), and a match must start on an id's boundary.
        rest, end = binary[1:], _IDS_START + 20 * high
        found = data.find(rest, _IDS_START + 20 * low + 1, end)
        while found >= 0 and (found - 1 - _IDS_START) % 20:
            found = data.find(rest, found + 1, end)
        if found < 0:
            raise KeyError(binary)
        position = (found - 1 - _IDS_START) // 20
        (offset,) = struct.unpack_from(">I", data, self._tables.offsets + 4 * position)
        return self._tables.full_offset(data, offset)

    def close(self) -> None:
        """Nothing of its own: the mapping is the pack's, closed with it."""


class _MappedPack(NamedTuple):
    index: Any
    """Finds an object's offset: an :class:`_IndexLookup` (dulwich's reader for version 1)."""
    data: mmap.mmap
    index_data: mmap.mmap
    """The index file mapped: read whole (:class:`_PackOrder`) when a reader needs it."""

    def close(self) -> None:
        self.data.close()
        self.index_data.close()
        self.index.close()


class _PackOrder:
    """A pack's entries in the order the pack stores them, read from its (version 2) index.

    What passing on a packed object as it is needs without inflating it: where
    it ends (where the next entry starts), the CRC-32 the index holds for it,
    and the id of the entry an offset delta names as its base.
    """

    def __init__(self, names: bytes, offsets: array[int], crcs: array[int]) -> None:
        self._names = names
        self._offsets = offsets
        by_offset = sorted(range(len(offsets)), key=offsets.__getitem__)
        self._starts = array("Q", (offsets[position] for position in by_offset))
        self._positions = array("I", by_offset)  # arrays, not a dict: a tenth of the memory
        self._crcs = crcs

    def __len__(self) -> int:
        return len(self._offsets)

    def binary_ids(self) -> Iterator[bytes]:
        """The pack's object ids (binary), in the index's order."""
        names = self._names
        return (names[at : at + 20] for at in range(0, len(names), 20))

    @classmethod
    def read(cls, raw: mmap.mmap) -> _PackOrder | None:
        """The order of the pack whose index ``raw`` holds; None for a version 1 index."""
        if raw[:8] != _INDEX_V2:
            return None
        tables = _IndexTables.of(raw)
        crcs = array("I")
        crcs.frombytes(raw[tables.crcs : tables.offsets])
        if sys.byteorder == "little":
            crcs.byteswap()
        return cls(raw[_IDS_START : tables.crcs], tables.all_offsets(raw), crcs)

    def _position(self, offset: int) -> int | None:
        at = bisect.bisect_left(self._starts, offset)
        if at < len(self._starts) and self._starts[at] == offset:
            return self._positions[at]
        return None

    def end_of(self, offset: int, pack_end: int) -> int:
        """Where the entry at ``offset`` ends: where the next one starts, or the pack's trailer."""
        following = bisect.bisect_right(self._starts, offset)
        return self._starts[following] if following < len(self._starts) else pack_end

    def crc_at(self, offset: int) -> int:
        """The CRC-32 the index holds for the entry at ``offset`` (one starts there)."""
        position = self._position(offset)
        assert position is not None, "an offset the index gave"
        return self._crcs[position]

    def id_at(self, offset: int) -> bytes | None:
        """The hex id of the entry at ``offset``; None if no entry starts there."""
        position = self._position(offset)
        if position is None:
            return None
        return self._names[20 * position : 20 * position + 20].hex().encode("ascii")


class ReusedPacks:
    """Whole packs to send as they are (see :meth:`RawObjectReader.whole_packs_among`).

    Attributes:
        count: how many objects they hold together.
        rest: the objects asked for that none of them holds, in the order asked.
    """

    def __init__(
        self, packs: list[tuple[str, mmap.mmap]], count: int, rest: list[bytes], lock: threading.Lock
    ) -> None:
        self._packs = packs  # (path, its mapping)
        self.count = count
        self.rest = rest
        self._lock = lock  # the reader's: a refresh may unmap a pack gc removed meanwhile

    def entries(self) -> Iterator[bytes]:
        """Each pack's entries as they are (its header and checksum left out), in slices.

        An offset delta names its base by how far back it is: copied whole, a pack's
        entries keep every such distance.
        """
        for path, data in self._packs:
            with self._lock:
                _check_open(path, data)
                end = len(data) - _PACK_TRAILER
            for start in range(_PACK_HEADER, end, _SLICE):
                with self._lock:
                    _check_open(path, data)
                    piece = data[start : min(end, start + _SLICE)]
                    release_pages(data, start, start + _SLICE)
                yield piece


def _check_open(path: str, data: mmap.mmap) -> None:
    if data.closed:  # unmapped by a refresh: gc removed the pack (its objects are in another now)
        raise IntegrityError(path, "the pack was removed while it was being sent")


def _entry_header(data: mmap.mmap, offset: int) -> tuple[int, int, int]:
    """The type number and inflated size of the pack entry at ``offset``, and where its header ends."""
    byte = data[offset]
    type_num = (byte >> 4) & 0x07
    size = byte & 0x0F
    shift = 4
    position = offset + 1
    while byte & 0x80:
        byte = data[position]
        size |= (byte & 0x7F) << shift
        shift += 7
        position += 1
    _check_size(size)
    return type_num, size, position


def _base_distance(data: mmap.mmap, position: int) -> tuple[int, int]:
    """How far before it an offset delta's base starts (git's encoding), and where the number ends."""
    byte = data[position]
    distance = byte & 0x7F
    position += 1
    while byte & 0x80:
        byte = data[position]
        distance = ((distance + 1) << 7) | (byte & 0x7F)
        position += 1
    return distance, position


def _deflate_bound(size: int) -> int:
    # deflate's worst case (stored blocks: 5 bytes per 16 KiB, plus zlib's 6). Handing zlib
    # no more than this keeps it from copying the rest of the pack as unconsumed_tail.
    return size + 5 * (size // 16383 + 1) + 6


def _stream_end(data: mmap.mmap, start: int, size: int) -> int:
    """Where the zlib stream at ``start`` ends, checked to inflate to exactly ``size`` bytes."""
    limit = min(len(data), start + _deflate_bound(size))
    decompressor = zlib.decompressobj()
    inflated = 0
    position = start
    with memoryview(data) as view:
        while not decompressor.eof:
            piece = view[position : min(limit, position + _INFLATE_SLICE)]
            if not piece or inflated > size:
                break
            inflated += len(decompressor.decompress(piece, _INFLATE_SLICE))
            # (At the end of the stream zlib keeps what follows in unconsumed_tail too.)
            while decompressor.unconsumed_tail and not decompressor.eof and inflated <= size:
                inflated += len(decompressor.decompress(decompressor.unconsumed_tail, _INFLATE_SLICE))
            position += len(piece) - len(decompressor.unused_data)
    if not decompressor.eof or inflated != size:
        raise ValueError(f"packed object at offset {start} does not hold the {size} bytes its header says")
    return position


def _object_at(
    data: mmap.mmap, offset: int, offset_of: Callable[[bytes], int | None]
) -> tuple[int, bytes] | None:
    """The object at ``offset`` of a pack, its deltas applied (git gc and fast-import write them).

    ``offset_of`` finds a ref delta's base in the same pack; None when it is not there
    (the caller then asks dulwich, which also looks elsewhere). Every size is bounded
    before it is inflated; the caller hashes what is returned against the id it asked for.
    """
    deltas: list[tuple[int, int, int]] = []  # (offset, size, where its data starts), newest first
    type_num, size, position = _entry_header(data, offset)
    while type_num not in _WHOLE_TYPES:
        if len(deltas) == _MAX_DELTA_CHAIN:
            raise ValueError(f"packed object at offset {offset} is a chain of over {_MAX_DELTA_CHAIN} deltas")
        if type_num == _OFS_DELTA:
            distance, start = _base_distance(data, position)
            base = offset - distance
            if distance <= 0 or base < _PACK_HEADER:
                raise ValueError(f"packed object at offset {offset} is a delta on no entry of its pack")
        elif type_num == _REF_DELTA:
            start = position + 20
            found = offset_of(bytes(data[position:start]))
            if found is None:
                return None
            base = found
        else:
            raise ValueError(f"packed object at offset {offset} has unknown type {type_num}")
        deltas.append((offset, size, start))
        offset = base
        type_num, size, position = _entry_header(data, offset)
    content = _inflated(data, offset, position, size)
    for delta_offset, delta_size, start in reversed(deltas):
        delta = _inflated(data, delta_offset, start, delta_size)
        _check_size(_delta_target_size(delta))
        try:
            content = b"".join(apply_delta(content, delta))
        except ApplyDeltaError as err:
            raise ValueError(
                f"packed delta at offset {delta_offset} does not apply to its base: {err}"
            ) from err
    return type_num, content


def _delta_target_size(delta: bytes) -> int:
    """The size a delta says its result has (after its base's size: two of git's varints)."""
    position = 0
    for _ in range(2):
        size = shift = 0
        while True:
            if position >= len(delta):
                raise ValueError("a delta ends inside its header")
            byte = delta[position]
            position += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
    return size


def _inflated(data: mmap.mmap, offset: int, position: int, size: int) -> bytes:
    """The ``size`` bytes the zlib stream at ``position`` (of the entry at ``offset``) holds."""
    end = position + _deflate_bound(size)
    decompressor = zlib.decompressobj()
    if size <= _COPY_SLICE:  # a copy of a small slice costs less than a view of the map
        content = decompressor.decompress(data[position:end], size)
    else:
        with memoryview(data) as view:
            content = decompressor.decompress(view[position:end], size)
    if len(content) != size:
        raise ValueError(f"packed object at offset {offset} does not hold the {size} bytes its header says")
    return content


def _check_size(size: int) -> None:
    if size > MAX_OBJECT_BYTES:
        raise ValueError(f"object claims {size} bytes, more than the {MAX_OBJECT_BYTES} a read may inflate")
