"""A fetched pack is held in quarantine until it is checked, as git's receive does.

What a remote sends lands in a temporary object directory inside the store
(``objects/incoming-*``), whose alternates file points at the store's own
objects, so a thin pack's deltas still find their bases. It reaches the
store's object directory only when

1. the pack is within the bounds of :mod:`gitpet.git.packcheck` (checked
   before dulwich unpacks anything), and
2. every ref the fetch would move names an object of the kind its name
   promises (a branch a commit, a tag a commit through annotated tags), and
   everything reachable from it is there: no commit without its tree or a
   parent (a shallow remote's history), no tree without an entry.

Objects already in the store are taken as whole: nothing enters the store
except through this check or gitpet's own writes, which write an object's
parts before the object. A pack that fails is deleted with its quarantine:
the store never holds an object a rejected fetch brought, so a later fetch
cannot find it "already there".
"""

from __future__ import annotations

import gc
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

from dulwich.object_store import DiskObjectStore
from dulwich.objects import Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.pack import Pack

from gitpet.errors import IntegrityError, StoreWriteError
from gitpet.format.bounds import MAX_TAG_CHAIN
from gitpet.format.names import TAG_REF_PREFIX
from gitpet.git.dulwich_private import pack_basename, refresh_packs
from gitpet.git.integrity import find_object
from gitpet.git.objread import RawObjectReader
from gitpet.git.packcheck import check_pack

__all__ = ["Quarantine", "quarantine"]

_GITLINK = 0o160000


class Quarantine:
    """One fetch's incoming objects, outside the store until :meth:`admit`."""

    def __init__(
        self,
        store_objects: DiskObjectStore,
        store_reader: RawObjectReader,
        directory: str,
        *,
        fsync: bool = False,
    ) -> None:
        self._store = store_objects
        self._directory = directory
        os.mkdir(os.path.join(directory, "pack"))
        os.mkdir(os.path.join(directory, "info"))
        with open(os.path.join(directory, "info", "alternates"), "w", encoding="utf-8") as alternates:
            alternates.write(os.path.abspath(store_objects.path) + "\n")
        self._objects = DiskObjectStore(directory)
        self._objects.fsync_object_files = fsync  # the pack and its index, before they are admitted
        # Reads the received pack through an mmap: dulwich's pack reader was most of the check.
        self._reader = RawObjectReader(self._objects)
        self._store_reader = store_reader  # the store's own, packs already mapped
        self._received: BinaryIO = open(os.path.join(directory, "received.pack"), "w+b")  # noqa: SIM115
        self._pack: Pack | None = None
        self.incomplete = False
        """Whether something reachable from a ref is missing: then nothing of the pack may be kept."""
        self._fresh: set[bytes] = set()

    def write(self, data: bytes) -> int:
        """Receive pack bytes as the remote sends them."""
        try:
            return self._received.write(data)
        except OSError as err:
            # Our disk, not the remote: say so (the fetch's remote errors would blame the connection).
            raise StoreWriteError(os.path.dirname(os.path.abspath(self._store.path)), err) from err

    def unpack(self) -> None:
        """Check the received pack's bounds, then index it (resolving every delta) in quarantine.

        Raises ValueError: it breaks a bound or the pack format.
        """
        self._received.flush()
        if check_pack(self._received) == 0:
            return
        self._received.seek(0)
        self._pack = self._objects.add_thin_pack(self._received.read, None)

    def problem_with(self, ref: bytes, sha: bytes) -> str | None:
        """Why moving ``ref`` to ``sha`` would leave the store broken; None if it would not."""
        try:
            target = self._find(sha)
            if target is None:
                self.incomplete = True
                return f"the remote did not send {sha.decode('ascii')}"
            if ref.startswith(TAG_REF_PREFIX):
                for _ in range(MAX_TAG_CHAIN):
                    if not isinstance(target, Tag):
                        break
                    target = self._find(target.object[1])
                    if target is None:
                        self.incomplete = True
                        return "it names a tag whose object the remote did not send"
            if not isinstance(target, Commit):
                kind = "a tag chain too deep" if isinstance(target, Tag) else f"a {target.type_name.decode()}"
                return f"it points at {kind}, not a commit"
            missing = self._missing_below(sha)
        except IntegrityError as err:
            missing = str(err)
        self.incomplete = self.incomplete or missing is not None
        return missing

    @property
    def fresh(self) -> frozenset[bytes]:
        """The ids (hex) of the objects the checked refs reach that the store did not hold before."""
        return frozenset(self._fresh)

    def admit(self) -> None:
        """Move the checked pack into the store's objects.

        The pack goes first: dulwich, like git, uses a pack only once its index is there.
        """
        if self._pack is None:
            return
        pack = self._pack
        self._reader.close()
        basename = pack_basename(pack)
        _close(pack)
        self._pack = None
        target = os.path.join(self._store.path, "pack", os.path.basename(basename))
        if not os.path.exists(target + ".idx"):
            os.replace(basename + ".pack", target + ".pack")
            os.replace(basename + ".idx", target + ".idx")
        refresh_packs(self._store)

    def close(self) -> None:
        """Close the received pack and remove the quarantine directory."""
        self._received.close()
        self._reader.close()
        if self._pack is not None:
            _close(self._pack)
        try:
            self._objects.close()
        except BufferError:  # the received pack's map, still viewed: see _close
            gc.collect()
            with suppress(BufferError):
                self._objects.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    def _is_new(self, sha: bytes) -> bool:
        return self._pack is not None and ObjectID(sha) in self._pack

    def _has(self, sha: bytes) -> bool:
        # A blob is hashed as it is indexed: being there is enough, no need to read it again.
        return self._is_new(sha) or ObjectID(sha) in self._store

    def _find(self, sha: bytes) -> ShaFile | None:
        if self._is_new(sha):
            return find_object(self._reader, sha)
        return find_object(self._store, sha)

    def _missing_below(self, tip: bytes) -> str | None:
        """The first object missing under ``tip`` (walking only what the pack brought)."""
        seen: set[bytes] = set()
        todo = [tip]
        while todo:
            sha = todo.pop()
            if sha in seen:
                continue
            seen.add(sha)
            if not self._is_new(sha) or self._store_reader.holds(sha):
                # Sent again or not sent: what the store holds was checked when it came.
                if find_object(self._store, sha) is None:
                    return f"{sha.decode('ascii')} is missing (an incomplete or shallow history)"
                continue
            obj = find_object(self._reader, sha)
            if obj is None:  # pragma: no cover - the pack index said it is there
                return f"{sha.decode('ascii')} is missing"
            self._fresh.add(sha)
            if isinstance(obj, Commit):
                todo.append(obj.tree)
                todo.extend(obj.parents)
            elif isinstance(obj, Tree):
                for entry in obj.iteritems():
                    if stat.S_ISDIR(entry.mode):
                        todo.append(entry.sha)
                    elif entry.mode != _GITLINK and not self._has(entry.sha):
                        return f"{entry.sha.decode('ascii')} is missing (tree {sha.decode('ascii')} names it)"
            elif isinstance(obj, Tag):
                todo.append(obj.object[1])
        return None


def _close(pack: Pack) -> None:
    """Close a received pack, even while an object read from it still holds a view of its map.

    Such a view (left in a reference cycle until the next collection) makes closing the map
    raise ``BufferError``: collect, and try once more. A map still in use is left to close
    when its last view goes; the pack files move and are removed by name all the same
    (seen on a Dask driver fetching while worker threads started).
    """
    try:
        pack.close()
    except BufferError:
        gc.collect()
        with suppress(BufferError):
            pack.close()


@contextmanager
def quarantine(
    store_objects: DiskObjectStore, store_reader: RawObjectReader, *, fsync: bool = False
) -> Iterator[Quarantine]:
    """A fresh quarantine inside the store (so that admitting is a rename); always removed."""
    directory = tempfile.mkdtemp(prefix="incoming-", dir=store_objects.path)
    held = Quarantine(store_objects, store_reader, directory, fsync=fsync)
    try:
        yield held
    finally:
        held.close()
