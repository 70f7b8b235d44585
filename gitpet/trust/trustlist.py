"""Which versions may be unpickled: the trust model.

Loading a class runs code from its pickle, so a version loads without
ceremony only when this machine vouches for it:

- it was pushed into this store from here (:meth:`GitStore.write_versions`),
- or fetched from a remote marked trusted (``add_remote(..., trusted=True)``,
  ``gitpet remote add --trusted``),
- or someone marked it after review (:meth:`GitStore.trust`, ``gitpet trust``).

Those version ids are kept in ``<store>/gitpet/trusted``, local to this
machine and never pushed: a remote cannot vouch for itself. Anything else
(fetched from an untrusted remote, or written into the store by other tools)
is handled by the :class:`TrustPolicy` the manager was given: refuse it (the
default), load it only if one of its commits carries an SSH signature by a
key in an allowed-signers file, or allow it explicitly.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import mmap
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from gitpet.arguments import check_path
from gitpet.errors import GitpetError, InvalidArgumentError
from gitpet.git.locks import GITPET_DIR

__all__ = ["TRUSTED_FILE", "TrustList", "TrustPolicy"]

TRUSTED_FILE = f"{GITPET_DIR}/trusted"
log = logging.getLogger("gitpet")
UntrustedMode = Literal["refuse", "signed", "allow"]
# Compiled on first use (by re's cache): a process that only searches never needs it.
_ID_LINE = rb"(?m)^[0-9a-f]{40}$"
_HEX = b"0123456789abcdef"
_HEADER = b"# sorted: "
_HEADER_MAX = len(_HEADER) + 10  # up to 9 digits and the newline
# Ids looked for in the file as it is before it is read whole into a set (then each check is a
# lookup). A search is a scan in C, a hundredth of reading the list into a set (0.3 against 46 ms
# at 100,000 ids): a process that loads a few dozen classes never reads it whole.
SEARCHES_BEFORE_READING = 64
# Ids appended after the sorted ones before an append sorts the file again. Scanning this tail is
# 6 us a check; sorting 100,000 ids again costs about 60 ms, once in this many appended ids.
TAIL_BEFORE_SORTING = 2048
_SCANNED_WHOLE = 64  # sorted ids this few are searched with one find


@dataclass(frozen=True)
class TrustPolicy:
    """What to do with a version nobody here vouched for.

    Examples:
        >>> TrustPolicy().untrusted
        'refuse'
        >>> TrustPolicy.allow().untrusted
        'allow'
    """

    untrusted: UntrustedMode = "refuse"
    allowed_signers: Path | None = None

    def __post_init__(self) -> None:
        if self.untrusted not in ("refuse", "signed", "allow"):
            raise GitpetError(f"unknown trust policy {self.untrusted!r}: use refuse, signed or allow")
        if self.untrusted == "signed":
            if self.allowed_signers is None:
                raise GitpetError("trust policy 'signed' needs an allowed-signers file")
            try:
                found = Path(self.allowed_signers).is_file()
            except (OSError, ValueError) as err:  # a name too long for the file system, a NUL
                detail = f"cannot be read: {err}"
                raise GitpetError(f"allowed-signers file {self.allowed_signers} {detail}") from err
            if not found:
                raise GitpetError(f"allowed-signers file {self.allowed_signers} does not exist")

    @classmethod
    def refuse(cls) -> TrustPolicy:
        """Never unpickle a version nobody here vouched for (the default).

        Examples:
            >>> TrustPolicy.refuse().untrusted
            'refuse'
        """
        return cls("refuse")

    @classmethod
    def allow(cls) -> TrustPolicy:
        """Unpickle any version: only for stores and remotes you control.

        Examples:
            >>> TrustPolicy.allow().untrusted
            'allow'
        """
        return cls("allow")

    @classmethod
    def signed_by(cls, allowed_signers: str | os.PathLike[str]) -> TrustPolicy:
        """Unpickle a version nobody here vouched for only if a trusted key signed it.

        One of its commits must be SSH-signed by a key in ``allowed_signers`` (the format
        of git's ``gpg.ssh.allowedSignersFile``: ``principal key-type key``; ``~`` is expanded).

        Examples:
            >>> import pathlib, tempfile
            >>> signers = pathlib.Path(tempfile.mkdtemp()) / "allowed_signers"
            >>> _ = signers.write_text("alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\\n")
            >>> TrustPolicy.signed_by(signers).allowed_signers == signers
            True
        """
        path = check_path(allowed_signers, "allowed_signers")
        try:
            return cls("signed", path.expanduser().absolute())
        except RuntimeError:  # "~user" for a user that does not exist
            raise InvalidArgumentError(
                "allowed_signers", allowed_signers, "names an unknown user's home"
            ) from None


class _Mapped(NamedTuple):
    data: mmap.mmap
    identity: tuple[int, int]
    size: int
    sorted_start: int
    """Where the sorted ids start (0: the file has no header)."""
    sorted_count: int
    """How many whole lines of sorted ids follow."""


class TrustList:
    """The version ids this machine vouches for: a file of lines in the store.

    The file starts with the ids sorted, after a header that counts them
    (``# sorted: <n>``), so a check searches the file as it lies on disk
    where the id's first digits put it; ids vouched for since are appended
    after them, and once that unsorted tail holds ``tail_before_sorting`` ids
    (:data:`TAIL_BEFORE_SORTING`) the next append sorts the whole file again.
    A file without the header (written by an older gitpet, or by hand) is all
    tail, sorted by the first append that finds it that long.

    A line counts only when it is whole (40 hex characters and a newline), so a
    write cut short (a full disk, a killed process) costs at most the ids it
    was writing, never the ones around it: the next append first ends such a
    torn line. Appends are whole lines written with ``O_APPEND`` under a shared
    ``flock`` of the file, so concurrent writers never interleave; a rewrite
    (sorting, :meth:`remove`) holds it exclusively, so no append is lost to it,
    and replaces the file, which every process notices at its next check.
    """

    def __init__(
        self, gitdir: Path, *, fsync: bool = False, tail_before_sorting: int = TAIL_BEFORE_SORTING
    ) -> None:
        self._path = gitdir / TRUSTED_FILE
        self._fsync = fsync
        self._tail_before_sorting = tail_before_sorting
        self._lock = threading.Lock()
        # Raw lines, not decoded strings: decoding each line was most of reading a
        # store's list of 10,000 ids (the first trust check in a process).
        self._ids: set[bytes] = set()
        self._read_upto = 0
        self._identity: tuple[int, int] | None = None
        self._searches = 0
        self._mapped: _Mapped | None = None

    def __contains__(self, version_id: str) -> bool:
        key = version_id.encode("ascii", "replace")
        with self._lock:
            found = self._reread_if_replaced()
            if key in self._ids:
                return True
            if self._searches < SEARCHES_BEFORE_READING:
                # A new process checks one or a few ids: a search of the sorted ids and a scan (in C)
                # of the short tail; reading 100,000 lines into a set costs thousands of times more.
                self._searches += 1
                if self._search(key, found):
                    self._ids.add(key)
                    return True
                return False
            self._unmap()
            self._refresh()
            return key in self._ids

    def close(self) -> None:
        """Release the mapped file; the next check maps it again."""
        with self._lock:
            self._unmap()

    def _search(self, key: bytes, found: os.stat_result | None) -> bool:
        """Whether ``key`` is a whole line of the file as ``found`` (read, not parsed)."""
        if len(key) != 40 or key.strip(_HEX):  # any other character is left
            return False  # not an id: no line of the file can be it
        if found is None or found.st_size == 0:
            return False
        mapped = self._mapped
        if mapped is None or mapped.identity != (found.st_dev, found.st_ino) or mapped.size != found.st_size:
            # Mapped again only when the file changed: opening and mapping it was 15 us of a
            # check, a tenth of a first load.
            self._unmap()
            try:
                with open(self._path, "rb") as handle:
                    now = os.fstat(handle.fileno())
                    if now.st_size == 0:
                        return False
                    data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except FileNotFoundError:
                return False
            mapped = self._mapped = _Mapped(data, (now.st_dev, now.st_ino), now.st_size, *_sorted_ids(data))
        return _in_sorted(mapped.data, mapped.sorted_start, mapped.sorted_count, key) or _in_tail(
            mapped.data, mapped.sorted_start + 41 * mapped.sorted_count, key
        )

    def _unmap(self) -> None:
        if self._mapped is not None:
            self._mapped.data.close()
            self._mapped = None

    def _reread_if_replaced(self) -> os.stat_result | None:
        """Forget what was read when the file was rewritten (sorted, or :meth:`remove`), in any process.

        Returns the file's status (``None``: there is no list yet).
        """
        try:
            found = os.stat(self._path)
        except FileNotFoundError:
            self._ids, self._read_upto, self._identity = set(), 0, None
            return None
        identity = (found.st_dev, found.st_ino)
        if self._identity not in (None, identity) or found.st_size < self._read_upto:
            self._ids, self._read_upto = set(), 0
        self._identity = identity
        return found

    def remove(self, version_ids: Iterable[str]) -> None:
        """Stop vouching for ``version_ids``: the file is rewritten without them, then replaced.

        Appends wait for the rewrite (it holds the file's ``flock`` exclusively), then go
        into the new file; every process notices the new file at its next trust check.
        """
        self._rewrite({v.encode("ascii", "replace") for v in version_ids})

    def _refresh(self) -> None:
        try:
            with open(self._path, "rb") as handle:
                handle.seek(self._read_upto)
                data = handle.read()
        except FileNotFoundError:
            return
        whole = data.rfind(b"\n") + 1  # a line still being written is read next time
        self._ids.update(re.findall(_ID_LINE, data[:whole]))
        self._read_upto += whole

    def add(self, version_ids: Iterable[str]) -> None:
        """Vouch for ``version_ids`` (already known ones are not written again).

        Raises OSError (the store's writer turns it into :class:`StoreWriteError`) when
        the file cannot be written; the ids written whole before that count.
        """
        # Not re-reading the file first: an id another process also appended
        # is only a duplicate line, which reading ignores.
        with self._lock:
            new = sorted({v for v in version_ids if v.encode("ascii", "replace") not in self._ids})
        if not new:
            return
        data = "".join(f"{v}\n" for v in new).encode("ascii")
        with self._opened(fcntl.LOCK_SH, create=True) as fd:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # end the line a failed write left torn
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if self._fsync:
                os.fsync(fd)
            unsorted = size + len(data) - _sorted_end(os.pread(fd, _HEADER_MAX, 0))
        with self._lock:
            self._ids.update(v.encode("ascii", "replace") for v in new)
        if unsorted >= self._tail_before_sorting * 41:
            try:
                self._rewrite(set())
            except OSError as err:  # the ids are written: sorting only makes checks faster
                log.debug("trust list %s not sorted: %s", self._path, err)

    def _rewrite(self, dropped: set[bytes]) -> None:
        """Write the file again, every id but ``dropped`` sorted under the header, and replace it."""
        with self._opened(fcntl.LOCK_EX, create=False) as fd:
            if fd < 0:
                return  # no list: nothing to sort or drop
            with open(fd, "rb", closefd=False) as handle:
                data = handle.read()
            unsorted = len(data) - _sorted_end(data[:_HEADER_MAX])
            if not dropped and unsorted < self._tail_before_sorting * 41:
                return  # sorted meanwhile, by another process's append
            ids = sorted(set(re.findall(_ID_LINE, data)) - dropped)
            temp = self._path.with_name(f".{self._path.name}.{os.getpid()}.{threading.get_ident()}")
            try:
                with open(temp, "wb") as handle:
                    handle.write(b"%s%d\n" % (_HEADER, len(ids)))
                    handle.write(b"\n".join(ids))
                    handle.write(b"\n" if ids else b"")
                    handle.flush()
                    # Synced whatever fsync says: a rewrite replaces every id at once, and a crash
                    # must not leave an empty list where the old one was.
                    os.fsync(handle.fileno())
                os.replace(temp, self._path)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        with self._lock:
            self._ids, self._read_upto, self._identity = set(), 0, None

    @contextlib.contextmanager
    def _opened(self, how: int, *, create: bool) -> Iterator[int]:
        """The file open for appending, under ``flock`` ``how``; ``-1`` when absent and not ``create``.

        A rewrite replaces the file while writers may wait for its lock: a descriptor
        whose file is no longer the one at the path is closed and the path opened again.
        """
        flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0)
        while True:
            try:
                fd = os.open(self._path, flags, 0o644)
            except FileNotFoundError:
                if not create:
                    yield -1
                    return
                self._path.parent.mkdir(exist_ok=True)  # raises when the store itself is gone
                fd = os.open(self._path, flags, 0o644)
            try:
                fcntl.flock(fd, how)
                if _same_file(fd, self._path):
                    yield fd
                    return
            finally:
                os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (found.st_dev, found.st_ino)


def _header(start: bytes) -> tuple[int, int] | None:
    """Where the sorted ids start and how many the header counts, if ``start`` begins with one."""
    if not start.startswith(_HEADER):
        return None
    newline = start.find(b"\n", len(_HEADER))
    digits = start[len(_HEADER) : newline]
    if newline < 0 or not digits.isdigit():
        return None
    return newline + 1, int(digits)


def _sorted_end(start: bytes) -> int:
    """Where the sorted ids end in a file that starts with ``start`` (0: no header, all tail)."""
    header = _header(start)
    return header[0] + 41 * header[1] if header else 0


def _sorted_ids(data: mmap.mmap) -> tuple[int, int]:
    """Where the header's sorted ids start, and how many whole lines of them the file holds."""
    header = _header(data[:_HEADER_MAX])
    if header is None:
        return 0, 0
    first, count = header
    return first, min(count, (len(data) - first) // 41)


def _in_sorted(data: mmap.mmap, first: int, count: int, key: bytes) -> bool:
    """Whether ``key`` is one of the ``count`` sorted lines at ``first`` (lines out of place: a miss).

    Ids are hashes, spread evenly: the line sits within a few square roots of ``count`` of
    where its first digits put it, and ``find`` looks there once the two ends of that window
    show it cannot be outside (a binary search in Python was 2.5 us at 10,000 ids).
    """
    if count == 0:
        return False  # no header, or no ids under it
    low, high = 0, count
    if count > _SCANNED_WHOLE:
        guess = (int(key[:6], 16) * count) >> 24
        spread = 2 * math.isqrt(count) + 4  # four standard deviations of where a random id lies
        low, high = max(0, guess - spread), min(count, guess + spread)
        if (low > 0 and _line(data, first, low) > key) or (
            high < count and _line(data, first, high - 1) < key
        ):
            low, high = 0, count  # outside the window: rare for hashes, usual for ids bunched together
            while low < high:
                middle = (low + high) // 2
                line = _line(data, first, middle)
                if line < key:
                    low = middle + 1
                elif line > key:
                    high = middle
                else:
                    low, high = middle, middle + 1
                    break
    return data.find(b"\n" + key + b"\n", first + 41 * low - 1, first + 41 * high) >= 0


def _line(data: mmap.mmap, first: int, index: int) -> bytes:
    at = first + 41 * index
    return data[at : at + 40]


def _in_tail(data: mmap.mmap, end: int, key: bytes) -> bool:
    """Whether ``key`` is a whole line after the sorted ids, which end at ``end`` (0: no header)."""
    if end == 0:
        return data[:41] == key + b"\n" or data.find(b"\n" + key + b"\n") >= 0
    return data.find(b"\n" + key + b"\n", end - 1) >= 0
