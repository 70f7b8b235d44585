"""The order gc writes the reachable objects in, and the base each older file is a delta against.

Each class's history is walked newest first along first parents: a version's
commit, tree and files are written together (a load reads them together),
each file as a delta against the same file of the next newer version, which
was written just before it, as git's own gc would find. So the pack is
written holding two versions' files at a time, and no table of bases is
built for the whole store first.

The latest version of every class stays whole (loading the latest never
resolves a delta), and chains stop at :data:`MAX_DELTA_DEPTH`, so loading an
old version applies at most that many. A delta's base is always written
before it, so bases cannot form a cycle. What no class's history reaches
(pipelines, tags, history merged in) follows, whole, in the order counted.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence

from gitpet.git.integrity import commit_fields, tree_entries
from gitpet.git.objwrite import DeltaBase, PackObject
from gitpet.maintenance.reachable import COMMIT, Reachable, binary_id

__all__ = ["MAX_DELTA_DEPTH", "pack_objects"]

# Loading a version gc stored as a delta applies at most this many (git's default is 50).
MAX_DELTA_DEPTH = 10
_REGULAR_FILE = 0o100000
_FILE_TYPE_BITS = 0o170000

Read = Callable[[bytes], tuple[int, bytes]]
"""Reads object ``sha`` (hex) to pack it: its type number and content, hashed again."""


def pack_objects(reachable: Reachable, class_tips: Sequence[bytes], read: Read) -> Iterator[PackObject]:
    """Every object of ``reachable``, once each, in the order to write them.

    ``class_tips``: the commit (hex) each class's ref named when ``reachable`` was
    counted; what a ref names now may not be counted. A ref made with plain git
    may name a tree or a blob: that is no history, only objects to write whole.
    """
    placement = _Placement(len(reachable))
    class_tips = [tip for tip in class_tips if reachable.type_num(reachable.number(binary_id(tip))) == COMMIT]
    for tip in class_tips:
        tree = commit_fields(tip, read(tip)[1]).tree
        for number in _regular_files(reachable, tree, read(tree)[1]).values():
            placement.whole[number] = 1
    for tip in class_tips:
        yield from placement.history(reachable, read, tip)
    for number in range(len(reachable)):
        if placement.position[number] < 0:
            sha = reachable.ids.id(number)
            yield placement.put(number, sha, read(_hex(sha)))


class _Placement:
    """Where each object went: its place in the pack, and how deep a delta chain it ends."""

    def __init__(self, count: int) -> None:
        self.position = array("i", [-1]) * count  # -1: not written yet
        self.depth = bytearray(count)
        self.whole = bytearray(count)  # 1: a class's latest file, never a delta
        self._written = 0

    def put(
        self, number: int, sha: bytes, found: tuple[int, bytes], base: DeltaBase | None = None
    ) -> PackObject:
        self.position[number] = self._written
        self._written += 1
        return PackObject(sha, found[0], found[1], base)

    def history(self, reachable: Reachable, read: Read, tip: bytes) -> Iterator[PackObject]:
        """The versions of one class not written yet, newest first, each file a delta on the newer's."""
        newer: dict[bytes, tuple[int, bytes]] = {}  # file name -> (number, content) in the newer version
        commit: bytes | None = tip
        while commit is not None:
            number = reachable.number(binary_id(commit))
            if number < 0 or self.position[number] >= 0 or reachable.type_num(number) != COMMIT:
                return  # not counted (written since), or written with another class's history
            found = read(commit)
            yield self.put(number, binary_id(commit), found)
            fields = commit_fields(commit, found[1])
            tree = reachable.number(binary_id(fields.tree))
            tree_found = read(fields.tree)
            if tree >= 0 and self.position[tree] < 0:
                yield self.put(tree, binary_id(fields.tree), tree_found)
            files = {}
            for name, file in _regular_files(reachable, fields.tree, tree_found[1]).items():
                sha = reachable.ids.id(file)
                file_found = read(_hex(sha))
                files[name] = (file, file_found[1])
                if self.position[file] < 0:  # else the newer version's file, or another class's
                    yield self.put(file, sha, file_found, self._base(file, newer.get(name)))
            newer = files
            commit = fields.parents[0] if fields.parents else None

    def _base(self, number: int, newer: tuple[int, bytes] | None) -> DeltaBase | None:
        if newer is None or self.whole[number]:
            return None
        base, raw = newer
        if self.depth[base] >= MAX_DELTA_DEPTH:
            return None
        self.depth[number] = self.depth[base] + 1
        return DeltaBase(self.position[base], raw)


def _regular_files(reachable: Reachable, tree: bytes, raw: bytes) -> dict[bytes, int]:
    """File name -> number of each regular file of tree ``tree`` (hex) with content ``raw``."""
    files = {}
    for name, (mode, blob) in tree_entries(tree, raw).items():
        if mode & _FILE_TYPE_BITS == _REGULAR_FILE:
            number = reachable.number(binary_id(blob))
            if number >= 0:
                files[name] = number
    return files


def _hex(binary: bytes) -> bytes:
    return binary.hex().encode("ascii")
