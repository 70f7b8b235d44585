"""A fetched pack is held in quarantine until it is checked, as git's receive does.

What a remote sends lands in a temporary directory inside the store
(``objects/incoming-*``) and is indexed there in one pass
(:class:`~gitpet.git.indexpack.IndexedPack`; a thin pack's deltas find their
bases in the store). It reaches the store's object directory only when

1. the pack is within the bounds of :mod:`gitpet.git.packcheck` (checked
   before any delta is applied), and
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

import binascii
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from dulwich.object_store import DiskObjectStore
from dulwich.objects import Commit, ShaFile, Tag

from gitpet.errors import IntegrityError, StoreWriteError
from gitpet.format.bounds import MAX_TAG_CHAIN
from gitpet.format.names import TAG_REF_PREFIX
from gitpet.git.dulwich_private import refresh_packs
from gitpet.git.indexpack import IndexedPack
from gitpet.git.integrity import check_commit, find_object, tree_links
from gitpet.git.objread import RawObjectReader

__all__ = ["Quarantine", "quarantine"]

_GITLINK = 0o160000
_DIRECTORY = 0o040000
_COMMIT, _TREE, _TAG = 1, 2, 4


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
        self._fsync = fsync  # the pack and its index, before they are admitted
        self._store_reader = store_reader  # the store's own, packs already mapped
        self._received_path = os.path.join(directory, "received.pack")
        self._received: BinaryIO = open(self._received_path, "w+b")  # noqa: SIM115
        self._pack: IndexedPack | None = None
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
        """Index the received pack in quarantine, checking its bounds before any delta is applied.

        Raises ValueError: it breaks a bound or the pack format.
        """
        self._received.flush()
        if self._received.seek(0, os.SEEK_END) == 0:
            return
        self._received.close()
        self._pack = IndexedPack(self._received_path, self._store_reader)

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
        # The walk asked only the packs known when it began. An object held loose may have
        # moved into a pack since (a gc writes the pack before it removes the loose file).
        self._fresh -= self._store_reader.held_among(self._fresh)
        return frozenset(self._fresh)

    def admit(self) -> None:
        """Move the checked pack, completed and indexed, into the store's objects.

        The pack goes first: git, like dulwich, uses a pack only once its index is there.
        """
        if self._pack is None:
            return
        pack, self._pack = self._pack, None
        pack.keep(os.path.join(self._store.path, "pack"), fsync=self._fsync)
        pack.close()
        refresh_packs(self._store)

    def close(self) -> None:
        """Close the received pack and remove the quarantine directory."""
        self._received.close()
        if self._pack is not None:
            self._pack.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    def _is_new(self, sha: bytes) -> bool:
        return self._pack is not None and sha in self._pack

    def _find(self, sha: bytes) -> ShaFile | None:
        if self._pack is not None and self._is_new(sha):
            return find_object(self._pack, sha)
        return find_object(self._store, sha)

    def _missing_below(self, tip: bytes) -> str | None:
        """The first object missing under ``tip`` (walking only what the pack brought).

        The walk is in binary ids, as the pack's ids and a tree's entries are (no hex
        round trip per object); the store is asked in hex.
        """
        pack = self._pack
        brought = pack.ids if pack is not None else None
        # A store with no pack (a first fetch) has nothing the remote sent again in one.
        in_store_pack = self._store_reader.in_known_packs if self._store_reader.knows_packs() else None
        first = _binary(tip)
        if first is None:
            return f"{tip.decode('ascii', 'replace')} is missing (an incomplete or shallow history)"
        seen: set[bytes] = set()
        todo = [first]
        while todo:
            binary = todo.pop()
            if binary in seen:
                continue
            seen.add(binary)
            sha = binary.hex().encode("ascii")
            # Not sent, or sent again: what the store holds was checked when it came. (An object
            # sent again but held loose, or in a pack that appeared since, is walked: see ``fresh``.)
            if (
                pack is None
                or brought is None
                or binary not in brought
                or (in_store_pack is not None and in_store_pack(sha))
            ):
                if find_object(self._store, sha) is None:
                    return f"{sha.decode('ascii')} is missing (an incomplete or shallow history)"
                continue
            # Hashed as the pack was indexed: parsed and checked here, not hashed again.
            type_num, raw = pack.read_binary(binary)
            self._fresh.add(sha)
            if type_num == _COMMIT:
                commit = check_commit(sha, raw)  # (its ids checked to be hex)
                todo.append(binascii.unhexlify(commit.tree))
                todo.extend(binascii.unhexlify(parent) for parent in commit.parents)
            elif type_num == _TREE:
                for mode, entry in tree_links(sha, raw).values():
                    if mode == _DIRECTORY:
                        todo.append(entry)
                    elif mode != _GITLINK and entry not in brought:
                        named = entry.hex().encode("ascii")
                        if not self._store_reader.holds(named):  # a blob: being there is enough
                            return f"{named.decode('ascii')} is missing (tree {sha.decode('ascii')} names it)"
            elif type_num == _TAG:
                tag = find_object(pack, sha)
                assert isinstance(tag, Tag)
                target = _binary(tag.object[1])  # (dulwich checked it to be an id)
                if target is None:
                    return f"tag {sha.decode('ascii')} names no object id"
                todo.append(target)
        return None


def _binary(sha: bytes) -> bytes | None:
    """The binary form of a hex id (None: not an id, as a hostile remote's ref may name)."""
    try:
        return binascii.unhexlify(sha) if len(sha) == 40 else None
    except binascii.Error:
        return None


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
