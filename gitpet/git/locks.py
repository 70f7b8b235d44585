"""Writers of one store: who may be writing, and safe removal of abandoned lock files.

git and dulwich change a file (a ref, a loose object, the config) by creating
``<file>.lock`` exclusively, writing it, and renaming it over ``<file>``. A
writer killed between the two leaves the lock behind, and every later writer
of that file waits for it forever; git never removes one by itself.

gitpet removes a lock only when it can tell that its writer is gone:

- every gitpet write step that may create lock files holds a *shared*
  ``flock`` on ``<gitdir>/gitpet/writers``; the kernel drops it when the
  process dies, even by SIGKILL;
- a lock file is removed only when it is older than a bound *and* an
  exclusive ``flock`` on that file is granted, i.e. no gitpet writer on this
  host is inside a write step.

The age bound protects writers that do not take the flock (git itself, such
as a ``git push`` served into the store): they hold a lock for milliseconds.
``flock`` is per host, so on a filesystem shared by several hosts only the age
bound applies; keep it well above the longest write there.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from dulwich.file import FileLocked

from gitpet.errors import StoreBusyError

__all__ = [
    "FETCH_FILE",
    "WRITERS_FILE",
    "FetchLock",
    "LockRetry",
    "WriterLock",
    "find_gitdir",
    "remove_if_stale",
]

_T = TypeVar("_T")

GITPET_DIR = "gitpet"
WRITERS_FILE = f"{GITPET_DIR}/writers"
FETCH_FILE = f"{GITPET_DIR}/fetching"

log = logging.getLogger("gitpet")


class WriterLock:
    """The writers' flock of one git directory (shared by writers, exclusive for cleanup).

    Shared holds are counted per instance, so threads of one process that
    share an instance never release each other's hold.

    Examples:
        >>> import tempfile
        >>> lock = WriterLock(Path(tempfile.mkdtemp()))
        >>> with lock.shared():
        ...     with lock.exclusive() as alone:
        ...         alone            # a writer is inside a write step
        False
        >>> with lock.exclusive() as alone:
        ...     alone
        True
    """

    def __init__(self, gitdir: Path) -> None:
        self._path = gitdir / WRITERS_FILE
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._holders = 0

    def _open(self) -> int:
        self._path.parent.mkdir(exist_ok=True)
        return os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the shared flock while the block runs (blocks only while a cleanup runs)."""
        with self._mutex:
            if self._holders == 0:
                if self._fd is None:
                    self._fd = self._open()
                fcntl.flock(self._fd, fcntl.LOCK_SH)
            self._holders += 1
        try:
            yield
        finally:
            with self._mutex:
                self._holders -= 1
                if self._holders == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[bool]:
        """Try, without waiting, to be the only one: yields whether no writer holds the flock."""
        # A separate open file: flock locks belong to the open file, and this
        # process may itself be holding the shared lock through self._fd.
        fd = self._open()
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # also releases the flock

    def close(self) -> None:
        """Close the lock file once no thread holds the lock."""
        with self._mutex:
            if self._fd is not None and self._holders == 0:
                os.close(self._fd)
                self._fd = None


class LockRetry:
    """Runs write steps under a store's shared writers flock, retrying while a git lock file is held.

    dulwich's locks do not wait (:class:`~dulwich.file.FileLocked`): a step is
    tried again with jittered backoff for up to ``lock_timeout`` seconds, and a
    lock whose writer is gone (older than ``stale_lock_after``) is removed.

    Examples:
        >>> import tempfile
        >>> retry = LockRetry(WriterLock(Path(tempfile.mkdtemp())), lock_timeout=1.0, stale_lock_after=10.0)
        >>> retry.run("nothing", lambda: 42)
        42
    """

    def __init__(self, writers: WriterLock, *, lock_timeout: float, stale_lock_after: float) -> None:
        self._writers = writers
        self._lock_timeout = lock_timeout
        self._stale_lock_after = stale_lock_after

    @property
    def writers(self) -> WriterLock:
        """The writers flock each step holds shared."""
        return self._writers

    @property
    def lock_timeout(self) -> float:
        """Seconds to keep retrying a held lock."""
        return self._lock_timeout

    @property
    def stale_lock_after(self) -> float:
        """Age past which a lock file whose writer is gone is removed."""
        return self._stale_lock_after

    def run(self, what: str, attempt: Callable[[], _T], writers: WriterLock | None = None) -> _T:
        """Run ``attempt`` until no other writer holds its lock; StoreBusyError past the timeout.

        Each attempt holds ``writers`` (default: this store's) shared.
        """
        writers = writers or self._writers
        waited = 0.0
        delay = 0.001
        while True:
            try:
                with writers.shared():
                    return attempt()
            except FileLocked as err:
                lock_file = Path(os.fsdecode(err.lockfilename))
                if remove_if_stale(lock_file, self._stale_lock_after):
                    continue
                if waited >= self._lock_timeout:
                    raise StoreBusyError(what, waited, str(lock_file)) from err
            import random  # only when a lock is held: 0.5 ms of a process that never waits

            pause = delay * (1 + random.random())
            time.sleep(pause)
            waited += pause
            delay = min(delay * 2, 0.05)


class FetchLock:
    """One fetch at a time into a store, across threads and processes.

    Concurrent fetches of the same objects wrote the same pack under the same
    name at once (dulwich's ``FileLocked`` on its index, packs closed under a
    reader); one after the other, the second finds everything there and
    fetches nothing. Each hold opens its own file: ``flock`` locks belong to
    an open file, so threads of one process exclude each other too, and the
    kernel releases a killed fetcher's lock.

    Examples:
        >>> import tempfile
        >>> fetching = FetchLock(Path(tempfile.mkdtemp()))
        >>> with fetching.held():
        ...     pass
        >>> fetching.wait()    # returns at once: nobody is fetching
    """

    def __init__(self, gitdir: Path) -> None:
        self._path = gitdir / FETCH_FILE

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Be the only fetcher while the block runs (waits for the one before)."""
        self._path.parent.mkdir(exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # also releases the flock

    @contextlib.contextmanager
    def held_if_free(self) -> Iterator[bool]:
        """Be the only fetcher while the block runs, if no fetch is running now.

        Yields True then; otherwise runs the block at once without the lock and yields False.
        """
        # Created if missing and always locked: a fetch starting meanwhile must wait for us.
        self._path.parent.mkdir(exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
            else:
                yield True
        finally:
            os.close(fd)

    def wait(self) -> None:
        """Return once no fetch that started before this call is still running."""
        if not self._path.exists():
            return
        with self.held():
            pass


def find_gitdir(path: Path) -> Path | None:
    """The git directory ``path`` lies in (a bare repository or a ``.git``), if any."""
    for candidate in path.parents:
        if (
            (candidate / "objects").is_dir()
            and (candidate / "refs").is_dir()
            and (candidate / "HEAD").exists()
        ):
            return candidate
    return None


def remove_if_stale(lock_file: Path, older_than: float, *, writers_excluded: bool = False) -> bool:
    """Remove ``lock_file`` if its writer is gone; True if it is gone now.

    Gone means: the file is older than ``older_than`` seconds and no gitpet
    writer holds its store's writers flock (see the module docstring).
    ``writers_excluded``: the caller already holds that flock exclusively.
    """
    try:
        seen = os.stat(lock_file)
    except FileNotFoundError:
        return True
    age = time.time() - seen.st_mtime
    gitdir = find_gitdir(lock_file)
    if age < older_than or gitdir is None:
        return False
    if writers_excluded:
        removed = _remove_lock(lock_file, seen)
    else:
        with WriterLock(gitdir).exclusive() as alone:
            removed = alone and _remove_lock(lock_file, seen)
    if removed:
        log.warning("gitpet: removed stale lock %s (%.0f s old; no gitpet writer was active)", lock_file, age)
    return removed


def _remove_lock(lock_file: Path, seen: os.stat_result) -> bool:
    # Move it aside first and check it is the file we judged: a writer that
    # takes no flock (git) may have just replaced it with a live one.
    aside = lock_file.with_name(f"{lock_file.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(lock_file, aside)
    except FileNotFoundError:
        return True
    moved = os.stat(aside)
    if (moved.st_ino, moved.st_dev) != (seen.st_ino, seen.st_dev):
        with contextlib.suppress(FileExistsError):
            os.link(aside, lock_file)  # put the live lock back, unless it is already gone
        os.unlink(aside)
        return False
    os.unlink(aside)
    return True
