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

import mmap
import os
import threading
import zlib
from typing import Any

from dulwich.pack import PackFileDisappeared, load_pack_index

from gitpet.format.bounds import MAX_OBJECT_BYTES

__all__ = ["MAX_OBJECT_BYTES", "RawObjectReader"]


_WHOLE_TYPES = frozenset({1, 2, 3, 4})  # commit, tree, blob, tag; 6 and 7 are deltas
_LOOSE_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}


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
        self._packs: dict[str, tuple[Any, mmap.mmap]] = {}  # pack path -> (its index, its data mapped)
        self._pack_dir_seen: frozenset[str] | None = None  # pack directory's names at the last refresh
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

    def close(self) -> None:
        """Unmap every pack; the reader maps them again on next use."""
        with self._lock:
            for index, data in self._packs.values():
                data.close()
                index.close()
            self._packs = {}
            self._pack_dir_seen = None

    def _from_packs(self, sha: bytes) -> tuple[int, bytes] | None:
        if self._pack_dir_seen is None:
            self._refresh_packs()
        binary = bytes.fromhex(sha.decode("ascii"))
        for index, data in self._packs.values():
            try:
                offset = index.object_offset(binary)
            except (KeyError, PackFileDisappeared):
                continue
            return _whole_object_at(data, offset)
        return None

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
            index, data = self._packs.pop(path)
            data.close()
            index.close()
        for path in current - self._packs.keys():
            try:
                with open(path, "rb") as handle:
                    data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                index = load_pack_index(path.removesuffix(".pack") + ".idx", self._objects.object_format)
            except (OSError, ValueError, AssertionError, PackFileDisappeared):
                continue  # removed meanwhile (gc), or damaged: dulwich's path reports it
            self._packs[path] = (index, data)
        return True

    def _pack_dir_names(self) -> frozenset[str]:
        # The names, not the directory's mtime: two packs written within one
        # timestamp tick would leave the second to dulwich's slow path forever.
        try:
            return frozenset(os.listdir(self._objects.pack_dir))
        except FileNotFoundError:
            return frozenset()


def _whole_object_at(data: mmap.mmap, offset: int) -> tuple[int, bytes] | None:
    """The object at ``offset`` of a pack, if it is stored whole (not as a delta)."""
    byte = data[offset]
    type_num = (byte >> 4) & 0x07
    if type_num not in _WHOLE_TYPES:
        return None
    size = byte & 0x0F
    shift = 4
    position = offset + 1
    while byte & 0x80:
        byte = data[position]
        size |= (byte & 0x7F) << shift
        shift += 7
        position += 1
    _check_size(size)
    # Bound the input by deflate's worst case (stored blocks: 5 bytes per 16 KiB, plus
    # zlib's 6): given the rest of the pack, zlib copies all of it as unconsumed_tail.
    end = position + size + 5 * (size // 16383 + 1) + 6
    decompressor = zlib.decompressobj()
    with memoryview(data) as view:
        content = decompressor.decompress(view[position:end], size)
    if len(content) != size:
        raise ValueError(f"packed object at offset {offset} does not hold the {size} bytes its header says")
    return type_num, content


def _check_size(size: int) -> None:
    if size > MAX_OBJECT_BYTES:
        raise ValueError(f"object claims {size} bytes, more than the {MAX_OBJECT_BYTES} a read may inflate")
