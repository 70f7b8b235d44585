"""Where a store's new objects go: loose files for a few, one pack for many or for a large one.

Objects are written, or found and refreshed, under the shared writers lock, so
gc (which prunes only old unreachable objects, under the exclusive lock) never
removes an object between its writing and the ref move that makes it reachable.
The writing itself (:mod:`gitpet.git.objwrite`) is imported on the first
write: a process that only reads never needs it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from dulwich.objects import ShaFile
from dulwich.repo import Repo

from gitpet.git.dulwich_private import loose_object_path, refresh_packs
from gitpet.git.locks import LockRetry

__all__ = ["LARGEST_LOOSE_BYTES", "ObjectWriter", "Written"]

# Below this many new objects, loose files are cheaper than a pack and do not
# multiply the packs every later read must search (measured: 0.33 ms/version
# loose, 1.3 ms/version as one pack each, 0.2 ms/version in one big pack).
_PACK_THRESHOLD = 64
# An object larger than this is written into a pack, never loose: dulwich refuses to read
# a loose object over 512 MiB (git's core.bigFileThreshold), so gc, verify and push could
# not read back a large class gitpet had written.
LARGEST_LOOSE_BYTES = 64 * 1024 * 1024


class Written:
    """Where :meth:`ObjectWriter.pack_batch` put a batch: the pack, and which objects it holds."""

    __slots__ = ("pack_path", "packed")

    def __init__(self) -> None:
        self.pack_path: str | None = None
        self.packed: frozenset[bytes] = frozenset()


class ObjectWriter:
    """Stores objects in one repository, fresh, under its writers lock.

    Args:
        retry: runs each write step under the store's writers lock.
        fsync: sync every loose object before it counts as written.
    """

    def __init__(self, retry: LockRetry, *, fsync: bool) -> None:
        self._retry = retry
        self._fsync = fsync

    def pack_batch(self, repo: Repo, objects: Sequence[ShaFile]) -> Written:
        """Write a large batch, or one holding a large object, as one pack.

        A small one is left to :meth:`ensure_stored`.

        Objects already stored loose are not packed again, but their mtime is
        refreshed (as git does), under the shared writers lock: gc prunes only
        old unreachable objects, under the exclusive lock.
        """
        store = repo.object_store
        written = Written()
        if len(objects) < _PACK_THRESHOLD and all(obj.raw_length() <= LARGEST_LOOSE_BYTES for obj in objects):
            return written

        def write() -> None:
            # Only objects whose fan-out directory exists can be loose: in a packed
            # store that is none, and each failed utime cost more than packing it.
            fan_out = _loose_directories(store.path)
            missing = [
                obj for obj in objects if obj.id[:2] not in fan_out or not _freshen_loose(store, obj.id)
            ]
            from gitpet.git.objwrite import write_pack

            pack_path = write_pack(store.pack_dir, missing, fsync=self._fsync)
            if pack_path is not None:
                refresh_packs(store)
                written.pack_path = pack_path
                written.packed = frozenset(obj.id for obj in missing)

        self._retry.run("objects", write)
        return written

    def ensure_stored(self, repo: Repo, objects: Sequence[ShaFile], written: Written | None) -> None:
        """Make each object stored and fresh (call with the writers lock held).

        Below the pack threshold this is where a version's loose objects are
        written. An object that only some older pack holds is written again
        rather than relied on: that pack may be garbage gc is about to drop.
        """
        from gitpet.git.objwrite import write_loose

        store = repo.object_store
        pack_fresh: bool | None = None
        for obj in objects:
            if written is not None and obj.id in written.packed:
                if pack_fresh is None:
                    pack_fresh = _touch(written.pack_path)
                if pack_fresh:
                    continue
            write_loose(store.path, obj, fsync=self._fsync)  # writes it, or refreshes the loose copy


def _touch(path: str | None) -> bool:
    if path is None:
        return False
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _loose_directories(objects_dir: str | os.PathLike[str]) -> frozenset[bytes]:
    """The two-hex-digit fan-out directories of a store's loose objects."""
    try:
        names = os.listdir(objects_dir)
    except FileNotFoundError:
        return frozenset()
    return frozenset(name.encode("ascii") for name in names if len(name) == 2)


def _freshen_loose(store: Any, sha: bytes) -> bool:
    """Refresh the mtime of loose object ``sha``; False if it is not stored loose."""
    try:
        os.utime(loose_object_path(store, sha))
    except FileNotFoundError:
        return False
    return True
