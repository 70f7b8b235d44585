"""Handing back the pages of a mapped pack that a long read has passed.

A mapped file's pages count in a process's memory once read, and stay until
unmapped: reading a whole pack (indexing a fetched one, sending one from a
path) held all of it besides everything else the read built. Released pages
are the file's, unchanged; a later read maps them again from the page cache.
"""

from __future__ import annotations

import mmap

__all__ = ["RELEASE_EVERY", "release_pages"]

RELEASE_EVERY = 1 << 20
"""How many bytes of a mapped pack a long read passes between two releases."""


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
