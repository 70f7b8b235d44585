"""Many object ids in little memory: each numbered in the order it came, found by id in one array.

A dict or set of binary ids holds a 53-byte ``bytes`` object per id and a slot
of 16 to 24 bytes: about 100 bytes an id, 5 MiB for the 50,000 objects of
10,000 versions, and gc or a fetch needed several such tables at once. An
:class:`IdTable` keeps the ids end to end in one buffer (20 bytes each) and,
for finding them, an array of 4-byte numbers at most two thirds full: about
27 bytes an id. What a caller keeps about each id goes in its own columns
(``array``, ``bytearray``), indexed by the id's number.

Each lookup runs a few lines of Python where a dict's runs in C (about 1 µs
against 0.05): :class:`IdDict` numbers ids the same way in a dict, for where
speed counts more than memory (a fetch indexing the pack it received).

Slots are chosen by Python's ``hash`` of the id, which is keyed per process:
ids chosen to collide (a hostile remote can name any id in a tree) cannot
make lookups slow, and the numbering, which is the order of ``add``, does
not depend on it.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Protocol

__all__ = ["IdDict", "IdNumbering", "IdTable"]

_ID_BYTES = 20
_EMPTY = -1


class IdNumbering(Protocol):
    """Binary object ids, each numbered from 0 in the order added."""

    def __len__(self) -> int: ...
    def __contains__(self, sha: object) -> bool: ...
    def __iter__(self) -> Iterator[bytes]: ...
    def id(self, number: int) -> bytes:
        """The id numbered ``number``."""

    def number(self, sha: bytes) -> int:
        """The number of ``sha``, or -1 when it was not added."""

    def add(self, sha: bytes) -> int:
        """The number of ``sha``, added (numbered next) if it was not yet."""


class IdDict:
    """An :class:`IdNumbering` in a dict and a list: fast, about 100 bytes an id.

    Examples:
        >>> ids = IdDict()
        >>> ids.add(b"a" * 20), ids.add(b"b" * 20), ids.add(b"a" * 20), ids.number(b"c" * 20)
        (0, 1, 0, -1)
    """

    def __init__(self) -> None:
        self._numbers: dict[bytes, int] = {}
        self._ids: list[bytes] = []

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, sha: object) -> bool:
        return sha in self._numbers

    def __iter__(self) -> Iterator[bytes]:
        """The ids in the order they were added (those added meanwhile are not given)."""
        return iter(self._ids[:])

    def id(self, number: int) -> bytes:
        """The id numbered ``number``."""
        if not 0 <= number < len(self._ids):
            raise IndexError(number)
        return self._ids[number]

    def number(self, sha: bytes) -> int:
        """The number of ``sha``, or -1 when it was not added."""
        return self._numbers.get(sha, _EMPTY)

    def add(self, sha: bytes) -> int:
        """The number of ``sha``, added (numbered next) if it was not yet."""
        if len(sha) != _ID_BYTES:
            raise ValueError(f"a binary id is {_ID_BYTES} bytes, not {len(sha)}")
        number = self._numbers.setdefault(sha, len(self._ids))
        if number == len(self._ids):
            self._ids.append(sha)
        return number


class IdTable:
    """An :class:`IdNumbering` in one buffer and one array: about 27 bytes an id.

    Examples:
        >>> table = IdTable()
        >>> table.add(b"a" * 20), table.add(b"b" * 20), table.add(b"a" * 20)
        (0, 1, 0)
        >>> table.number(b"b" * 20), table.number(b"c" * 20), len(table), b"a" * 20 in table
        (1, -1, 2, True)
        >>> table.id(1) == b"b" * 20, list(table) == [b"a" * 20, b"b" * 20]
        (True, True)
    """

    def __init__(self) -> None:
        self._ids = bytearray()
        self._slots = array("i", [_EMPTY]) * 16
        self._mask = 15

    def __len__(self) -> int:
        return len(self._ids) // _ID_BYTES

    def __contains__(self, sha: object) -> bool:
        return isinstance(sha, bytes) and self.number(sha) != _EMPTY

    def __iter__(self) -> Iterator[bytes]:
        """The ids in the order they were added (those added meanwhile are not given)."""
        ids = self._ids
        return (bytes(ids[at : at + _ID_BYTES]) for at in range(0, len(ids), _ID_BYTES))

    def id(self, number: int) -> bytes:
        """The id numbered ``number``."""
        if not 0 <= number < len(self):
            raise IndexError(number)
        at = number * _ID_BYTES
        return bytes(self._ids[at : at + _ID_BYTES])

    def number(self, sha: bytes) -> int:
        """The number of ``sha``, or -1 when the table does not hold it."""
        if len(sha) != _ID_BYTES:
            return _EMPTY
        return self._slots[self._slot(sha)]

    def add(self, sha: bytes) -> int:
        """The number of ``sha``, added (numbered next) if the table does not hold it yet."""
        if len(sha) != _ID_BYTES:
            raise ValueError(f"a binary id is {_ID_BYTES} bytes, not {len(sha)}")
        slot = self._slot(sha)
        number = self._slots[slot]
        if number != _EMPTY:
            return number
        number = len(self)
        self._ids += sha
        self._slots[slot] = number
        if 3 * (number + 1) > 2 * len(self._slots):
            self._grow()
        return number

    def _slot(self, sha: bytes) -> int:
        """The slot holding ``sha``'s number, or the empty slot where it would go (linear probing)."""
        slots, ids, mask = self._slots, self._ids, self._mask
        slot = hash(sha) & mask
        while True:
            number = slots[slot]
            if number == _EMPTY:
                return slot
            at = number * _ID_BYTES
            if ids[at : at + _ID_BYTES] == sha:
                return slot
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        size = 2 * len(self._slots)
        self._slots = array("i", [_EMPTY]) * size
        self._mask = size - 1
        slots, mask = self._slots, self._mask
        for number, sha in enumerate(self):
            slot = hash(sha) & mask
            while slots[slot] != _EMPTY:
                slot = (slot + 1) & mask
            slots[slot] = number
