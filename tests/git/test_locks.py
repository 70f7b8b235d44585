"""Lock files a writer leaves: removed only when old and no gitpet writer holds the writers flock."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitpet import GitStore, StoreBusyError
from gitpet.git.locks import WRITERS_FILE
from tests.writers_at_work import assert_clean, version

HOLD_FLOCK_AND_LOCK = """
import fcntl, os, sys, time
store, lock = sys.argv[1], sys.argv[2]
fd = os.open(os.path.join(store, {writers!r}), os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_SH)             # a gitpet writer inside a write step ...
with open(lock, "w") as f:                 # ... that has taken a ref lock
    f.write("0" * 40 + "\\n")
print("holding", flush=True)
time.sleep(600)
"""


def _writer_holding(store_path: Path, lock: Path) -> subprocess.Popen[str]:
    (store_path / "gitpet").mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_FLOCK_AND_LOCK.format(writers=WRITERS_FILE), str(store_path), str(lock)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "holding\n"
    return proc


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_killed_writers_old_lock_is_removed_and_the_push_goes_through(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = GitStore(store_path, stale_lock_after=5.0, lock_timeout=10.0)
    store.write_versions([("Stuck", version("Stuck", "1"))])
    lock = store_path / "refs" / "heads" / "Stuck.lock"
    holder = _writer_holding(store_path, lock)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    _age(lock, 60)
    [result] = store.write_versions([("Stuck", version("Stuck", "2"))])
    assert result.created and not lock.exists()
    assert [v.id for v in store.versions("Stuck")] == [version("Stuck", "2").id, version("Stuck", "1").id]
    assert "removed stale lock" in caplog.text and "Stuck.lock" in caplog.text
    assert_clean(store_path)


def test_an_old_lock_is_kept_while_its_writer_is_alive(store_path: Path) -> None:
    store = GitStore(store_path, stale_lock_after=0.0, lock_timeout=0.3)
    store.write_versions([("Busy", version("Busy", "1"))])
    lock = store_path / "refs" / "heads" / "Busy.lock"
    holder = _writer_holding(store_path, lock)
    try:
        holder.send_signal(signal.SIGSTOP)  # alive but stuck: its lock is not ours to take
        _age(lock, 3600)
        with pytest.raises(StoreBusyError, match=r"Busy\.lock"):
            store.write_versions([("Busy", version("Busy", "2"))])
        assert lock.exists() and store.latest_id("Busy") == version("Busy", "1").id
    finally:
        holder.kill()
        holder.wait()
    [result] = store.write_versions([("Busy", version("Busy", "2"))])  # its writer is gone now
    assert result.created and not lock.exists()


def test_a_young_lock_is_kept_even_with_no_gitpet_writer(store_path: Path) -> None:
    """A lock younger than the bound may belong to git itself, which takes no flock."""
    store = GitStore(store_path, stale_lock_after=60.0, lock_timeout=0.3)
    store.write_versions([("Young", version("Young", "1"))])
    lock = store_path / "refs" / "heads" / "Young.lock"
    lock.write_text("0" * 40 + "\n")
    with pytest.raises(StoreBusyError, match=r"Young\.lock"):
        store.write_versions([("Young", version("Young", "2"))])
    assert lock.exists()
    fd = os.open(store_path / WRITERS_FILE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the failed writer released its shared lock
    finally:
        os.close(fd)
