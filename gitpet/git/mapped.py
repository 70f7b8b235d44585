"""Handing back the pages of a mapped pack that a long read has passed.

A mapped file's pages count in a process's memory once read, and stay until
unmapped: reading a whole pack (indexing a fetched one, sending one from a
path) held all of it besides everything else the read built. Released pages
are the file's, unchanged; a later read maps them again from the page cache.
"""

from __future__ import annotations

import mmap

__all__ = ["RELEASE_BEHIND", "RELEASE_EVERY", "PassedPages", "ReadInOrder", "release_pages"]

RELEASE_EVERY = 1 << 20
"""How many bytes of records a read jumping about mapped packs reads between two releases.

Its pages may be read again soon (a base and its deltas, a store's hot objects).
"""
RELEASE_BEHIND = 1 << 18
"""How far a read from start to end gets past pages before it hands them back.

It never reads them again: releasing a quarter as much as ``RELEASE_EVERY`` costs a
few more calls, and took a MiB off gc's peak (checking a pack of 10,000 versions).
"""


def release_pages(data: mmap.mmap, start: int = 0, end: int | None = None) -> int:
    """Drop the pages of ``data`` between ``start`` and ``end`` (default: its end) from memory.

    Returns where the released range ends: the page boundary at or before ``end``.
    Where the system has no such advice, nothing is dropped.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryFile() as file:
        ...     _ = file.write(bytes(3 * mmap.PAGESIZE))
        ...     file.flush()
        ...     data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        ...     ended = release_pages(data, 10, 2 * mmap.PAGESIZE + 5)
        ...     ended == 2 * mmap.PAGESIZE, data[10]       # still readable, from the file
        ...     data.close()
        (True, 0)
    """
    end = len(data) if end is None else end
    first = start - start % mmap.PAGESIZE
    last = end - end % mmap.PAGESIZE
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if advice is not None and last > first:
        data.madvise(advice, first, last - first)
    return last


class PassedPages:
    """What a read jumping about mapped packs has passed: says when to hand their pages back.

    Each record read costs at most its bytes and the two pages its ends fall in.

    Examples:
        >>> pages = PassedPages()
        >>> pages.read(RELEASE_EVERY // 2), pages.read(RELEASE_EVERY // 2)
        (False, True)
    """

    def __init__(self) -> None:
        self._since = 0

    def read(self, length: int) -> bool:
        """Count a record of ``length`` bytes; True when the pages should be handed back now."""
        self._since += length + 2 * mmap.PAGESIZE
        if self._since < RELEASE_EVERY:
            return False
        self._since = 0
        return True


class ReadInOrder:
    """A read of a mapped pack from its start to its end, handing back what it has passed.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryFile() as file:
        ...     _ = file.write(bytes(3 * RELEASE_BEHIND))
        ...     file.flush()
        ...     data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        ...     read = ReadInOrder(data)
        ...     read.reached(RELEASE_BEHIND // 2); read.reached(RELEASE_BEHIND + 5)
        ...     read.released == RELEASE_BEHIND, data[0]
        ...     data.close()
        (True, 0)
    """

    def __init__(self, data: mmap.mmap) -> None:
        self._data = data
        self.released = 0
        """Where the pages handed back so far end."""

    def reached(self, offset: int) -> None:
        """The read has got to ``offset``: what lies before it is handed back every few MiB."""
        if offset - self.released >= RELEASE_BEHIND:
            self.released = release_pages(self._data, self.released, offset)
