"""Faults of the file system: a full disk, a read-only store, a trust list cut short.

The full disk is a real small tmpfs and the read-only store a real read-only
bind mount, each made in a user and mount namespace of its own (``unshare``),
so no privilege is needed and nothing outside the test sees them. The test's
code runs inside that namespace (the mount goes with it) and reports what it
saw as JSON; the assertions are made here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitpet import GitStore, PetClassManager, StoreWriteError
from tests.conftest import ModuleWriter

REPO_ROOT = Path(__file__).resolve().parents[2]


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _can_mount(), reason="no user and mount namespaces here (unshare)")


def _in_namespace(mounts: str, script: str, *args: str) -> dict[str, object]:
    """Run ``script`` (Python) after the shell commands ``mounts``, in a namespace of its own;
    return the JSON it prints last."""
    env = {k: v for k, v in os.environ.items() if k != "GITPET_STORE"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    done = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            f'{mounts} && script="$1" && shift && exec "$0" -c "$script" "$@"',
            sys.executable,
            script,
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


_COMMON = """
import json, os, shutil, subprocess, sys
from pathlib import Path
from gitpet import GitStore, PetClassManager, StoreWriteError

def make(value, padding=0):
    namespace = {"__name__": "faultmod"}
    exec(f"class Model:\\n    value = {value}\\n    padding = {'x' * padding!r}\\n", namespace)
    return namespace["Model"]

def fsck(store):
    done = subprocess.run(["git", f"--git-dir={store}", "fsck", "--strict"], capture_output=True, text=True)
    return done.returncode, done.stderr[-500:]
"""

_FULL_DISK_PUSH = (
    _COMMON
    + """
disk = Path(sys.argv[1])
filler = disk / "filler"
filler.write_bytes(os.urandom(300_000))  # room that is given back once the disk is full
pcm = PetClassManager(disk / "store")
pushed, error = [], None
for value in range(1000):
    try:
        pushed.append(pcm.push(make(value, 20_000)))
    except StoreWriteError as err:
        error = str(err)
        break
fresh = PetClassManager(disk / "store")
present = [fresh.store.has_version("Model", version) for version in pushed]
trusted = [fresh.store.is_trusted(version) for version in pushed]
code_full, fsck_full = fsck(disk / "store")
filler.unlink()
after = pcm.push(make(-1, 20_000))
again = PetClassManager(disk / "store")
print(json.dumps({
    "pushed": len(pushed), "error": error, "present": all(present), "trusted": all(trusted),
    "fsck_full": [code_full, fsck_full], "fsck_after": list(fsck(disk / "store")),
    "after_loads": again.pull("Model", after)().value, "after_trusted": again.store.is_trusted(after),
}))
"""
)


@needs_mounts
def test_a_full_disk_during_pushes_is_a_clear_error_and_nothing_is_lost(tmp_path: Path) -> None:
    """Pushing 20 KB versions onto a 1 MiB disk until it is full: a StoreWriteError, every
    version reported pushed is there and trusted, git fsck is clean, and once space is freed
    the next push works with no manual step."""
    disk = tmp_path / "disk"
    disk.mkdir()
    seen = _in_namespace(f"mount -t tmpfs -o size=1m tmpfs {disk}", _FULL_DISK_PUSH, str(disk))
    assert isinstance(seen["pushed"], int) and seen["pushed"] > 0
    assert isinstance(seen["error"], str) and "No space left on device" in seen["error"]
    assert seen["present"] is True and seen["trusted"] is True
    assert seen["fsck_full"][0] == 0, seen["fsck_full"]  # type: ignore[index]
    assert seen["fsck_after"][0] == 0, seen["fsck_after"]  # type: ignore[index]
    assert seen["after_loads"] == -1 and seen["after_trusted"] is True


_FULL_DISK_FETCH_AND_GC = (
    _COMMON
    + """
disk, remote = Path(sys.argv[1]), sys.argv[2]
store = GitStore(disk / "store")
store.init()
# Fillers leave a set room, whatever the store takes on this file system: the fetch
# (about 600 KB) cannot fit in the first, gc's new pack (about 500 KB) not in the second.
(disk / "filler").write_bytes(os.urandom(shutil.disk_usage(disk).free - int(sys.argv[3])))
errors = {}
try:
    store.fetch(remote)
except StoreWriteError as err:
    errors["fetch"] = str(err)
refs_after_failed_fetch = subprocess.run(
    ["git", f"--git-dir={store.path}", "for-each-ref"], capture_output=True, text=True
).stdout
leftovers = sorted(p.name for p in (store.path / "objects").iterdir() if p.name.startswith("incoming-"))
(disk / "filler").unlink()
report = store.fetch(remote)
versions = len(store.versions("Model"))
(disk / "filler").write_bytes(os.urandom(shutil.disk_usage(disk).free - int(sys.argv[4])))
try:
    store.gc(prune_older_than=0)
except StoreWriteError as err:
    errors["gc"] = str(err)
versions_after_gc = len(store.versions("Model"))
code, detail = fsck(store.path)
(disk / "filler").unlink()
store.gc(prune_older_than=0)
print(json.dumps({
    "errors": errors, "refs_after_failed_fetch": refs_after_failed_fetch, "leftovers": leftovers,
    "versions": versions, "versions_after_gc": versions_after_gc, "fsck": [code, detail],
    "fsck_end": list(fsck(store.path)), "verify": store.verify().ok,
}))
"""
)


@needs_mounts
def test_a_full_disk_during_fetch_and_gc_is_a_clear_error_and_the_store_stays_whole(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    author = PetClassManager(tmp_path / "author")
    for value in range(30):
        padding = os.urandom(8000).hex()  # incompressible: each version costs its size
        author.push(user_module(f"class Model:\n    value = {value}\n    padding = {padding!r}\n").Model)
    author.store.push(str(remote))
    disk = tmp_path / "disk"
    disk.mkdir()
    seen = _in_namespace(
        f"mount -t tmpfs -o size=2m tmpfs {disk}",
        _FULL_DISK_FETCH_AND_GC,
        str(disk),
        str(remote),
        "150000",
        "60000",
    )
    errors = seen["errors"]
    assert isinstance(errors, dict)
    assert "No space left on device" in errors["fetch"]
    assert seen["refs_after_failed_fetch"] == "" and seen["leftovers"] == []
    assert seen["versions"] == 30 and seen["versions_after_gc"] == 30
    assert seen["fsck"][0] == 0 and seen["fsck_end"][0] == 0, seen  # type: ignore[index]
    assert seen["verify"] is True


_READ_ONLY = (
    _COMMON
    + """
store = Path(sys.argv[1])
pcm = PetClassManager(store)
results = {}
for name, write in [
    ("push", lambda: pcm.push(make(2))),
    ("trust", lambda: pcm.store.trust("Model")),
    ("tag", lambda: pcm.store.tag("Model", "release")),
    ("gc", lambda: pcm.store.gc(prune_older_than=0)),
    ("fetch", lambda: pcm.store.fetch(sys.argv[2])),
    ("add_remote", lambda: pcm.store.add_remote("team", sys.argv[2])),
    ("pipeline", lambda: pcm.store.pipeline("p").save({"clazz": "Model", "version_hash": sys.argv[3]})),
]:
    try:
        write()
        results[name] = "wrote"
    except StoreWriteError as err:
        results[name] = [err.errno, str(err)]
cli = subprocess.run(
    [sys.executable, "-m", "gitpet", "--store", str(store), "tag", "Model", "v2"],
    capture_output=True,
    text=True,
)
print(json.dumps({
    "results": results, "cli": [cli.returncode, cli.stderr], "loads": pcm.pull("Model")().value,
    "names": pcm.store.names(), "verify": pcm.store.verify().ok,
}))
"""
)


@needs_mounts
def test_a_read_only_store_is_a_clear_error_for_every_write_and_still_loads(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    import errno

    pcm = PetClassManager(tmp_path / "store")
    # The module the other process's make() defines its Model in: the same class, a new version.
    version = pcm.push(user_module("class Model:\n    value = 1\n", name="faultmod").Model)
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    other = PetClassManager(tmp_path / "other")
    other.push(user_module("class Other:\n    value = 1\n").Other)
    other.store.push(str(remote))
    store = tmp_path / "store"
    seen = _in_namespace(
        f"mount --bind {store} {store} && mount -o remount,bind,ro {store}",
        _READ_ONLY,
        str(store),
        str(remote),
        version,
    )
    results = seen["results"]
    assert isinstance(results, dict)
    for name, outcome in results.items():
        assert isinstance(outcome, list) and outcome[0] == errno.EROFS, (name, outcome)
        assert outcome[1].startswith(f"cannot write to store {store}: Read-only file system"), outcome
    cli_code, cli_err = seen["cli"]  # type: ignore[misc]
    assert (
        cli_code == 1 and cli_err.startswith("gitpet: error: cannot write to store") and cli_err[-1] == "\n"
    )
    assert cli_err.count("\n") == 1  # one line, no traceback
    assert seen["loads"] == 1 and seen["names"] == ["Model"] and seen["verify"] is True


def test_a_trust_list_cut_short_loses_no_later_version(tmp_path: Path, user_module: ModuleWriter) -> None:
    """A write of the trust list cut short (a full disk, a killed process) leaves a torn line.
    Versions vouched for after it must still be trusted, in this process and a fresh one."""
    pcm = PetClassManager(tmp_path / "store")
    first = pcm.push(user_module("class Model:\n    value = 1\n").Model)
    trusted_file = tmp_path / "store" / "gitpet" / "trusted"
    with trusted_file.open("ab") as handle:
        handle.write(b"0123456789abcdef01")  # the start of an id, no newline: the disk filled up here
    second = pcm.push(user_module("class Model:\n    value = 2\n").Model)
    third = pcm.push(user_module("class Model:\n    value = 3\n").Model)
    fresh = GitStore(tmp_path / "store")
    assert all(fresh.is_trusted(v) for v in (first, second, third))
    assert not fresh.is_trusted("0123456789abcdef01")
    assert PetClassManager(tmp_path / "store").pull("Model", second)().value == 2
    lines = trusted_file.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(len(line) in (0, 18, 40) for line in lines)


def test_a_store_write_error_is_an_oserror_with_its_errno() -> None:
    import errno

    err = StoreWriteError("s", OSError(errno.EROFS, "Read-only file system", "s/x"))
    assert isinstance(err, OSError) and err.errno == errno.EROFS and err.filename == "s/x"
    assert str(err).startswith("cannot write to store s: Read-only file system (s/x)")
