"""What gc keeps: every object the refs reach, counted with git's checks, held in a few bytes each.

Commits, trees and tags are read and checked as ``verify`` checks them (a
damaged store is not collected). A blob is only looked for here: it is read
and hashed when it is packed, and the pack is read back before anything is
removed (reading each blob twice was a third of gc's time).

Not the objects: holding what was read made gc's memory grow with the store.
Each object is an id in an :class:`~gitpet.git.idtable.IdTable` and a type
number, about 28 bytes, where a dict of hex ids held 130 (gc of 10,000
versions peaked at three times ``git gc``'s memory).
"""

from __future__ import annotations

from binascii import hexlify, unhexlify
from collections.abc import Container, Iterable

from dulwich.errors import ObjectFormatException
from dulwich.objects import ObjectID, Tag

from gitpet.errors import IntegrityError
from gitpet.git.idtable import IdTable
from gitpet.git.integrity import check_commit, find_raw, tree_entries
from gitpet.git.objread import RawObjectReader
from gitpet.progress import SILENT, Progress

__all__ = ["BLOB", "COMMIT", "TYPE_NUMBERS", "Reachable", "binary_id", "count_reachable"]

COMMIT, TREE, BLOB, TAG = 1, 2, 3, 4
TYPE_NUMBERS = {b"commit": COMMIT, b"tree": TREE, b"blob": BLOB, b"tag": TAG}
"""Type name -> type number, as packs and dulwich number them."""
_GITLINK = 0o160000
_DIRECTORY = 0o040000


class Reachable:
    """Objects the refs reach: each an id numbered in the order found, with its type number.

    Examples:
        >>> reachable = Reachable()
        >>> one, two = b"\\1" * 20, b"\\2" * 20
        >>> reachable.add(one, BLOB), reachable.add(two, COMMIT), reachable.add(one, BLOB)
        (0, 1, 0)
        >>> len(reachable), b"\\2" * 20 in reachable, reachable.type_num(1) == COMMIT
        (2, True, True)
    """

    def __init__(self) -> None:
        self.ids = IdTable()
        self._types = bytearray()

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, binary: object) -> bool:
        return binary in self.ids

    def number(self, binary: bytes) -> int:
        """The number of object ``binary`` (a binary id), or -1 when it is not reachable."""
        return self.ids.number(binary)

    def type_num(self, number: int) -> int:
        """The type number (1 commit, 2 tree, 3 blob, 4 tag) of the object numbered ``number``."""
        return self._types[number]

    def add(self, binary: bytes, type_num: int) -> int:
        """Record object ``binary`` as reachable; its number."""
        number = self.ids.add(binary)
        if number == len(self._types):
            self._types.append(type_num)
        return number


def binary_id(sha: bytes) -> bytes:
    """The 20 bytes of a hex id (a ref's target, a tree's entry).

    Raises:
        IntegrityError: ``sha`` is not a 40-digit hex id.
    """
    if len(sha) == 40:
        try:
            return unhexlify(sha)
        except ValueError:
            pass
    raise IntegrityError(sha.decode("ascii", "replace"), "not an object id")


def count_reachable(
    roots: Iterable[bytes],
    objects: RawObjectReader,
    known: Reachable,
    counted: Container[bytes] = (),
    progress: Progress = SILENT,
) -> None:
    """Add to ``known`` every object reachable from ``roots`` (hex ids, what refs name).

    Depth first, a commit's tree before its parents: the stack stays as short as
    the trees are deep, not as long as the history. ``counted``: binary ids counted
    before, with all they reach; neither they nor what they reach are added.
    """
    pending = [binary_id(sha) for sha in roots]
    while pending:
        binary = pending.pop()
        if binary in known or binary in counted:
            continue
        sha = hexlify(binary)
        type_num, links, blobs = _links(objects, sha)
        known.add(binary, type_num)
        pending.extend(binary_id(link) for link in links)
        progress.advance()
        for blob in blobs:
            blob_binary = binary_id(blob)
            if blob_binary not in known and blob_binary not in counted:
                if not objects.holds(blob):
                    raise IntegrityError(
                        blob.decode("ascii"), f"blob is missing (tree {sha.decode('ascii')} names it)"
                    )
                known.add(blob_binary, BLOB)
                progress.advance()


def _links(objects: RawObjectReader, sha: bytes) -> tuple[int, list[bytes], list[bytes]]:
    """The type of object ``sha`` (hashed and checked); the ids it links to, to read, and its blobs.

    Links to read come in the order to push them on the stack: the last is read next.
    """
    found = find_raw(objects, sha)
    if found is None:
        raise IntegrityError(sha.decode("ascii"), "object is missing")
    type_name, raw = found
    if type_name == b"commit":
        fields = check_commit(sha, raw)
        return COMMIT, [*reversed(fields.parents), fields.tree], []
    if type_name == b"tree":
        subtrees, blobs = [], []
        for mode, entry in tree_entries(sha, raw).values():
            if mode == _DIRECTORY:
                subtrees.append(entry)
            elif mode != _GITLINK:
                blobs.append(entry)
        return TREE, subtrees, blobs
    if type_name == b"tag":
        try:
            tag = Tag.from_raw_string(Tag.type_num, raw, ObjectID(sha))
            assert isinstance(tag, Tag)
            tag.check()
        except (ObjectFormatException, ValueError) as err:
            raise IntegrityError(sha.decode("ascii"), f"malformed tag: {err}") from err
        return TAG, [bytes(tag.object[1])], []
    return TYPE_NUMBERS[type_name], [], []
