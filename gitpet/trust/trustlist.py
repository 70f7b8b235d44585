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

import mmap
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gitpet.arguments import check_path
from gitpet.errors import GitpetError, InvalidArgumentError
from gitpet.git.locks import GITPET_DIR

__all__ = ["TRUSTED_FILE", "TrustList", "TrustPolicy"]

TRUSTED_FILE = f"{GITPET_DIR}/trusted"
UntrustedMode = Literal["refuse", "signed", "allow"]
_ID_LINE = re.compile(rb"^[0-9a-f]{40}$", re.MULTILINE)
# Ids looked for in the file as it is before it is read whole into a set (then each check is a
# lookup). A search is a scan in C, a hundredth of reading the list into a set (0.3 against 46 ms
# at 100,000 ids): a process that loads a few dozen classes never reads it whole.
SEARCHES_BEFORE_READING = 64


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


class TrustList:
    """The version ids this machine vouches for: an append-only file of lines in the store.

    A line counts only when it is whole (40 hex characters and a newline), so a
    write cut short (a full disk, a killed process) costs at most the ids it
    was writing, never the ones around it: the next append first ends such a
    torn line. Appends are whole lines written with ``O_APPEND``, so
    concurrent writers never interleave; the file is re-read only when it grew.
    """

    def __init__(self, gitdir: Path, *, fsync: bool = False) -> None:
        self._path = gitdir / TRUSTED_FILE
        self._fsync = fsync
        self._lock = threading.Lock()
        # Raw lines, not decoded strings: decoding each line was most of reading a
        # store's list of 10,000 ids (the first trust check in a process).
        self._ids: set[bytes] = set()
        self._read_upto = 0
        self._identity: tuple[int, int] | None = None
        self._searches = 0

    def __contains__(self, version_id: str) -> bool:
        key = version_id.encode("ascii", "replace")
        with self._lock:
            self._reread_if_replaced()
            if key in self._ids:
                return True
            if self._searches < SEARCHES_BEFORE_READING:
                # A new process checks one or a few ids: finding the line is a scan in C,
                # reading all 100,000 lines of a large store's list into a set costs 150 times more.
                self._searches += 1
                if self._search(key):
                    self._ids.add(key)
                    return True
                return False
            self._refresh()
            return key in self._ids

    def _search(self, key: bytes) -> bool:
        """Whether ``key`` is a whole line of the file (read, not parsed)."""
        if len(key) != 40 or not _ID_LINE.fullmatch(key):
            return False  # not an id: no line of the file can be it
        try:
            with open(self._path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    return False
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    return data[:41] == key + b"\n" or data.find(b"\n" + key + b"\n") >= 0
        except FileNotFoundError:
            return False

    def _reread_if_replaced(self) -> None:
        """Forget what was read when the file was rewritten (:meth:`remove`), in any process."""
        try:
            found = os.stat(self._path)
        except FileNotFoundError:
            self._ids, self._read_upto, self._identity = set(), 0, None
            return
        identity = (found.st_dev, found.st_ino)
        if self._identity not in (None, identity) or found.st_size < self._read_upto:
            self._ids, self._read_upto = set(), 0
        self._identity = identity

    def remove(self, version_ids: Iterable[str]) -> None:
        """Stop vouching for ``version_ids``: the file is rewritten without them, then replaced.

        The caller holds the store's writers lock, so no append is lost in between;
        every process notices the new file at its next trust check.
        """
        dropped = {v.encode("ascii", "replace") for v in version_ids}
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return
        temp = self._path.with_name(f".{self._path.name}.{os.getpid()}")
        temp.write_bytes(b"".join(line + b"\n" for line in _ID_LINE.findall(data) if line not in dropped))
        # Lines another process appended meanwhile (appends take no lock) go into the new file too.
        with open(self._path, "rb") as handle:
            handle.seek(len(data))
            later = handle.read()
        with open(temp, "ab") as handle:
            handle.write(b"".join(line + b"\n" for line in _ID_LINE.findall(later) if line not in dropped))
        os.replace(temp, self._path)
        with self._lock:
            self._ids, self._read_upto, self._identity = set(), 0, None

    def _refresh(self) -> None:
        try:
            with open(self._path, "rb") as handle:
                handle.seek(self._read_upto)
                data = handle.read()
        except FileNotFoundError:
            return
        whole = data.rfind(b"\n") + 1  # a line still being written is read next time
        self._ids.update(_ID_LINE.findall(data, 0, whole))
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
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            fd = os.open(self._path, flags, 0o644)
        except FileNotFoundError:
            self._path.parent.mkdir(exist_ok=True)
            fd = os.open(self._path, flags, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # end the line a failed write left torn
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if self._fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        with self._lock:
            self._ids.update(v.encode("ascii", "replace") for v in new)
