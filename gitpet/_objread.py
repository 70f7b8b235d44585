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
:func:`gitpet._integrity.find_raw`).
"""

from __future__ import annotations

import mmap
import os
import zlib
from typing import Any

from dulwich.pack import PackFileDisappeared

__all__ = ["RawObjectReader"]

_WHOLE_TYPES = frozenset({1, 2, 3, 4})  # commit, tree, blob, tag; 6 and 7 are deltas
_LOOSE_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}


class RawObjectReader:
    """``get_raw(hex sha) -> (type number, content)`` over a dulwich disk object store.

    Example:
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
        self._packs: list[tuple[Any, mmap.mmap]] = []
        self._pack_names: set[str] = set()
        self._pack_dir_seen: int | None = None

    def get_raw(self, sha: bytes) -> tuple[int, bytes]:
        """The type number and content of object ``sha`` (hex); KeyError if it is not stored."""
        found = self._from_packs(sha) or self._from_loose(sha)
        if found is not None:
            return found
        raw: tuple[int, bytes] = self._objects.get_raw(sha)  # deltas, new packs, alternates
        self._refresh_packs()
        return raw

    def _pack_dir_changed(self) -> bool:
        try:
            seen: int | None = os.stat(self._objects.pack_dir).st_mtime_ns
        except FileNotFoundError:
            seen = None
        changed = seen != self._pack_dir_seen
        self._pack_dir_seen = seen
        return changed

    def close(self) -> None:
        for _index, data in self._packs:
            data.close()
        self._packs = []
        self._pack_names = set()

    def _from_packs(self, sha: bytes) -> tuple[int, bytes] | None:
        if self._pack_dir_seen is None:
            self._refresh_packs()
        binary = bytes.fromhex(sha.decode("ascii"))
        for index, data in self._packs:
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
        data = zlib.decompress(stored)
        header, _, content = data.partition(b"\0")
        kind, _, size = header.partition(b" ")
        type_num = _LOOSE_TYPES.get(kind)
        if type_num is None or not size.isdigit() or int(size) != len(content):
            return None  # not what git writes: let dulwich read it and say what is wrong
        return type_num, content

    def _refresh_packs(self) -> None:
        if not self._pack_dir_changed():
            return
        for pack in self._objects.packs:
            path = pack._data_path
            if path in self._pack_names:
                continue
            try:
                with open(path, "rb") as handle:
                    data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                index = pack.index
            except (OSError, ValueError, PackFileDisappeared):
                continue  # removed meanwhile (gc), or empty: dulwich's path reports it
            self._packs.append((index, data))
            self._pack_names.add(path)


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
    # Bound the input by deflate's worst case (stored blocks: 5 bytes per 16 KiB, plus
    # zlib's 6): given the rest of the pack, zlib copies all of it as unconsumed_tail.
    end = position + size + 5 * (size // 16383 + 1) + 6
    decompressor = zlib.decompressobj()
    with memoryview(data) as view:
        content = decompressor.decompress(view[position:end], size)
    if len(content) != size:
        return None
    return type_num, content
