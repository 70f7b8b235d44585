"""What a hostile remote can send a fetch: refs, packs and histories built byte by byte.

The packs here are written by hand (the pack format is small) and served by a
git:// server that answers every fetch with them; the refs and histories are
made with plain git. Nothing a fetch refuses may reach the store: no ref moves,
no object is kept, and the next fetch from a good remote works.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitpet import GitStore, PetClassManager, RemoteError, RemoteRejectedError
from gitpet.git.packcheck import MAX_DELTA_DEPTH, check_pack
from tests.conftest import ModuleWriter, bare_repo, git
from tests.hostile import pack_entry_header, pack_of
from tests.servers import git_daemon, hostile_git_server

_COMMIT, _TREE, _BLOB, _OFS_DELTA, _REF_DELTA = 1, 2, 3, 6, 7


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            return out + bytes([byte])
        out += bytes([byte | 0x80])


def _ofs(distance: int) -> bytes:
    out = [distance & 0x7F]
    distance >>= 7
    while distance:
        distance -= 1
        out.insert(0, 0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(out)


def _object(kind: int, data: bytes) -> bytes:
    return pack_entry_header(kind, len(data)) + zlib.compress(data)


def _copy_all(source: int, times: int) -> bytes:
    """A delta that copies a ``source``-byte base (at most 64 KiB) ``times`` times over."""
    op = b"\x80" if source == 0x10000 else b"\x90" + bytes([source & 0xFF]) if source < 0x100 else b""
    assert op, "bases of 256 bytes to 64 KiB other than 64 KiB are not needed here"
    return _varint(source) + _varint(source * times) + op * times


def _chain(base: bytes, deltas: list[bytes]) -> bytes:
    """A pack of ``base`` and each delta on the entry before it (offset deltas)."""
    entries = [_object(_BLOB, base)]
    offsets = [12]
    for delta in deltas:
        offsets.append(offsets[-1] + len(entries[-1]))
        distance = offsets[-1] - offsets[-2]
        entries.append(pack_entry_header(_OFS_DELTA, len(delta)) + _ofs(distance) + zlib.compress(delta))
    return pack_of(entries)


def _fetch_refused(tmp_path: Path, pack: bytes, refs: list[tuple[bytes, bytes]]) -> tuple[GitStore, str]:
    store = GitStore(tmp_path / "victim")
    store.init()
    with hostile_git_server(refs, pack) as url, pytest.raises((RemoteError, RemoteRejectedError)) as caught:
        store.fetch(url)
    return store, str(caught.value)


def _nothing_kept(store: GitStore) -> None:
    assert git(store.path, "for-each-ref").stdout == ""
    objects = store.path / "objects"
    assert [p.name for p in objects.iterdir() if p.name not in ("pack", "info")] == []
    assert list((objects / "pack").iterdir()) == []
    assert store.verify().ok


# -- packs that would cost more than a fetch may --------------------------------------------------


_BOMB_FETCH = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from gitpet import GitStore, GitpetError
store = GitStore(sys.argv[1])
store.init()
try:
    store.fetch(sys.argv[2])
except GitpetError as err:
    print("refused:", err)
"""


def test_a_delta_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    """A 300-byte pack whose one delta copies a 64 KiB base 32,768 times (2 GiB): refused by
    what the delta claims, in a process that could not hold 1 GiB anyway."""
    base = bytes(0x10000)
    pack = _chain(base, [_copy_all(0x10000, 0x8000)])
    assert len(pack) < 400
    sha = hashlib.sha1(b"blob 65536\0" + base).hexdigest().encode()
    with hostile_git_server([(b"refs/heads/Model", sha)], pack) as url:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        done = subprocess.run(
            [sys.executable, "-c", _BOMB_FETCH, str(tmp_path / "victim"), url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "refused the pack it sent" in done.stdout and "over 1073741824" in done.stdout
    _nothing_kept(GitStore(tmp_path / "victim"))


def test_a_delta_chain_deeper_than_the_bound_is_refused(tmp_path: Path) -> None:
    deltas = [_copy_all(200, 1)] * (MAX_DELTA_DEPTH + 1)
    sha = hashlib.sha1(b"blob 200\0" + bytes(200)).hexdigest().encode()
    store, message = _fetch_refused(tmp_path, _chain(bytes(200), deltas), [(b"refs/heads/Model", sha)])
    assert f"{MAX_DELTA_DEPTH + 1} deltas deep" in message
    _nothing_kept(store)


def test_many_deltas_adding_up_to_more_than_the_bound_are_refused(tmp_path: Path) -> None:
    """Each delta makes 1 GiB (allowed alone); five of them make 5 GiB."""
    base = bytes(0x10000)
    one_gib = _copy_all(0x10000, 0x4000)
    entries = [_object(_BLOB, base)]
    for _ in range(5):
        distance = sum(len(entry) for entry in entries)  # each delta is on the base, at byte 12
        entries.append(pack_entry_header(_OFS_DELTA, len(one_gib)) + _ofs(distance) + zlib.compress(one_gib))
    sha = hashlib.sha1(b"blob 65536\0" + base).hexdigest().encode()
    store, message = _fetch_refused(tmp_path, pack_of(entries), [(b"refs/heads/Model", sha)])
    assert "more than 4294967296 bytes" in message
    _nothing_kept(store)


@pytest.mark.parametrize(
    "entry, expected",
    [
        (pack_entry_header(_BLOB, 10) + zlib.compress(bytes(5000)), "inflates beyond the 10 bytes"),
        (pack_entry_header(_BLOB, 5000) + zlib.compress(bytes(10)), "inflates to 10 bytes, not the 5000"),
        (pack_entry_header(_BLOB, 10) + b"not zlib at all", "not valid zlib data"),
        (pack_entry_header(5, 3) + zlib.compress(b"abc"), "unknown type 5"),
        (
            pack_entry_header(_OFS_DELTA, 3) + _ofs(7) + zlib.compress(b"abc"),
            "base that is not an object of the pack",
        ),
    ],
    ids=["claims-less", "claims-more", "not-zlib", "bad-type", "delta-on-nothing"],
)
def test_a_malformed_pack_is_refused_and_nothing_is_kept(tmp_path: Path, entry: bytes, expected: str) -> None:
    store, message = _fetch_refused(tmp_path, pack_of([entry]), [(b"refs/heads/Model", b"1" * 40)])
    assert expected in message
    _nothing_kept(store)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=12), st.booleans())
def test_every_pack_git_writes_is_within_the_bounds(blobs: list[bytes], similar: bool) -> None:
    """The bound check accepts what git's pack-objects writes (deltas included) and counts it right."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        repo = bare_repo(Path(scratch) / "r.git")
        shas = []
        for index, blob in enumerate(blobs):
            data = blob * 3 + bytes([index]) if similar else blob
            written = subprocess.run(
                ["git", f"--git-dir={repo}", "hash-object", "-w", "--stdin"], input=data, capture_output=True
            )
            shas.append(written.stdout.decode().strip())
        packed = subprocess.run(
            ["git", f"--git-dir={repo}", "pack-objects", "--stdout", "--window=10", "--depth=50"],
            input=("\n".join(shas) + "\n").encode(),
            capture_output=True,
            check=True,
        ).stdout
        path = Path(scratch) / "p.pack"
        path.write_bytes(packed)
        with path.open("rb") as pack:
            assert check_pack(pack) == len(set(shas))


# -- histories that are not whole ----------------------------------------------------------------


def _good_remote(tmp_path: Path, user_module: ModuleWriter) -> Path:
    remote = bare_repo(tmp_path / "team.git")
    author = PetClassManager(tmp_path / "author")
    for value in (1, 2):
        author.push(user_module(f"class Model:\n    value = {value}\n").Model)
    author.store.push(str(remote))
    return remote


def test_a_pack_lacking_a_commits_tree_moves_no_ref_and_keeps_nothing(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    """The remote sends the newest commit of Model without its tree. Nothing of it is kept,
    so fetching the same commit from a good remote later brings the tree too."""
    remote = _good_remote(tmp_path, user_module)
    tip = git(remote, "rev-parse", "Model").stdout.strip()
    raw = subprocess.run(
        ["git", f"--git-dir={remote}", "cat-file", "commit", tip], capture_output=True, check=True
    ).stdout
    tree = git(remote, "rev-parse", "Model^{tree}").stdout.strip()
    store, message = _fetch_refused(
        tmp_path, pack_of([_object(_COMMIT, raw)]), [(b"refs/heads/Model", tip.encode())]
    )
    assert f"{tree} is missing" in message or "is missing" in message
    _nothing_kept(store)
    report = store.fetch(str(remote))
    assert report.status_of("refs/heads/Model") == "created"
    assert store.verify().ok
    fsck = git(store.path, "fsck", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr


@pytest.mark.parametrize("transport", ["path", "git-daemon"])
def test_fetching_from_a_shallow_mirror_leaves_the_store_whole(
    transport: str, tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote = _good_remote(tmp_path, user_module)
    git(remote, "symbolic-ref", "HEAD", "refs/heads/Model")
    served = tmp_path / "served"
    served.mkdir()
    mirror = served / "mirror.git"
    subprocess.run(
        ["git", "clone", "-q", "--mirror", "--depth", "1", remote.as_uri(), str(mirror)], check=True
    )
    assert (mirror / "shallow").exists()
    store = GitStore(tmp_path / "victim")
    store.init()
    if transport == "path":
        with pytest.raises((RemoteError, RemoteRejectedError), match="incomplete or shallow"):
            store.fetch(str(mirror))
    else:
        with git_daemon(served) as url, pytest.raises((RemoteError, RemoteRejectedError), match="shallow"):
            store.fetch(f"{url}/mirror.git")
    assert not (store.path / "shallow").exists()
    _nothing_kept(store)
    assert store.names() == [] and store.gc().pruned == 0


# -- refs -----------------------------------------------------------------------------------------


def test_refs_gitpet_cannot_own_are_ignored_and_a_branch_at_a_blob_is_refused(
    tmp_path: Path, user_module: ModuleWriter, caplog: pytest.LogCaptureFixture
) -> None:
    remote = _good_remote(tmp_path, user_module)
    tip = git(remote, "rev-parse", "Model").stdout.strip()
    for ref in ("refs/heads/-x", "refs/heads/HEAD", "refs/heads/pipelines", "refs/tags/Model/-y"):
        git(remote, "update-ref", ref, tip)
    (remote / os.fsdecode(b"refs/heads/Caf\xe9")).write_text(tip + "\n")
    blob = git(remote, "hash-object", "-w", "--stdin", input="not a commit").stdout.strip()
    (remote / "refs" / "heads" / "Blob").write_text(blob + "\n")

    store = GitStore(tmp_path / "victim")
    with caplog.at_level(logging.WARNING, logger="gitpet"), pytest.raises(RemoteRejectedError) as caught:
        store.fetch(str(remote))
    report = caught.value.report
    assert report is not None
    assert report.status_of("refs/heads/Blob") == "rejected" and "points at a blob" in str(report)
    assert report.status_of("refs/heads/Model") == "created"
    assert "ignored 5 ref(s)" in caplog.text and "refs/heads/Caf\\xe9" in caplog.text
    refs = git(store.path, "for-each-ref", "--format=%(refname)").stdout.split()
    assert refs == ["refs/heads/Model"]
    assert store.names() == ["Model"] and store.pipelines() == [] and len(store.versions("Model")) == 2
    assert store.verify().ok
    # Such refs made in the store itself with plain git do not break listing either.
    for ref in ("refs/heads/-x", "refs/heads/HEAD", "refs/heads/pipelines/-p", "refs/tags/Model/-y"):
        git(store.path, "update-ref", ref, tip)
    assert store.names() == ["Model"] and store.pipelines() == []
    from gitpet.cli.main import main

    assert main(["--store", str(store.path), "ls"]) == 0
    assert main(["--store", str(store.path), "pipelines"]) == 0


def test_a_hostile_server_advertising_any_bytes_as_ref_names_breaks_nothing(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote = _good_remote(tmp_path, user_module)
    tip = git(remote, "rev-parse", "Model").stdout.strip().encode()
    names = [b"refs/heads/-x", b"refs/heads/HEAD", b"refs/heads/\xff\xfe", b"refs/heads/a\x1b[2Jb", b"HEAD"]
    store = GitStore(tmp_path / "victim")
    store.init()
    with hostile_git_server([(name, tip) for name in names], pack_of([])) as url:
        report = store.fetch(url)
    assert report.updates == ()
    assert git(store.path, "for-each-ref").stdout == ""
    assert store.names() == []


def test_gc_removes_what_a_killed_fetch_left_in_quarantine_but_never_a_running_ones(tmp_path: Path) -> None:
    from gitpet.git.locks import FetchLock

    store = GitStore(tmp_path / "store")
    store.init()
    quarantine = store.path / "objects" / "incoming-dead"
    (quarantine / "pack").mkdir(parents=True)
    for name in ("received.pack", "pack/tmp_pack_x", "info"):
        (quarantine / name).write_bytes(b"partial")
        os.utime(quarantine / name, (1, 1))  # old: age is no sign of a dead fetch, the lock is
    with FetchLock(store.path).held():  # a fetch is running (this one's files may be old too)
        store.gc(prune_older_than=0)
    assert sorted(p.name for p in quarantine.rglob("*")) == ["info", "pack", "received.pack", "tmp_pack_x"]
    store.gc(prune_older_than=3600)  # no fetch running: whatever a quarantine holds is left from a kill
    assert not quarantine.exists()


# -- a path remote's pack sent as it is -------------------------------------------------------------


def _one_pack_remote(tmp_path: Path, user_module: ModuleWriter) -> tuple[Path, Path]:
    remote = _good_remote(tmp_path, user_module)
    git(remote, "gc", "-q", "--prune=now")
    [pack] = (remote / "objects" / "pack").glob("*.pack")
    return remote, pack


def test_a_whole_fetch_from_a_path_keeps_the_remotes_one_pack_as_it_is(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote, pack = _one_pack_remote(tmp_path, user_module)
    store = GitStore(tmp_path / "clone")
    store.init()
    assert store.fetch(str(remote)).status_of("refs/heads/Model") == "created"
    [kept] = (store.path / "objects" / "pack").glob("*.pack")
    assert kept.name == pack.name and kept.read_bytes() == pack.read_bytes()
    fsck = git(store.path, "fsck", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr
    assert store.verify().ok
    assert [v.id for v in store.versions("Model")] == [v.id for v in GitStore(remote).versions("Model")]


def test_a_path_remotes_pack_that_does_not_hold_what_its_index_says_is_refused(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    """The remote's index lists exactly what the fetch wants, so its pack is sent as it is:
    the bytes are checked all the same, and a changed byte keeps nothing."""
    remote, pack = _one_pack_remote(tmp_path, user_module)
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    store = GitStore(tmp_path / "victim")
    store.init()
    with pytest.raises((RemoteError, RemoteRejectedError)):
        store.fetch(str(remote))
    _nothing_kept(store)


def test_a_whole_fetch_from_a_packed_store_pushed_to_since_and_holding_an_object_twice(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    """The remote's gc pack is copied as it is, the newer loose versions are sent one by one,
    and a second pack holding some of the same objects again is not copied too."""
    remote, pack = _one_pack_remote(tmp_path, user_module)
    author = PetClassManager(tmp_path / "author")
    author.push(user_module("class Model:\n    value = 3\n").Model)
    author.store.push(str(remote))
    again = git(remote, "rev-list", "--objects", "Model~1").stdout
    subprocess.run(
        ["git", f"--git-dir={remote}", "pack-objects", "-q", str(remote / "objects" / "pack" / "pack")],
        input="".join(line.split()[0] + "\n" for line in again.splitlines()).encode(),
        check=True,
        capture_output=True,
    )
    assert len(list((remote / "objects" / "pack").glob("*.pack"))) == 2
    store = GitStore(tmp_path / "clone")
    store.init()
    assert store.fetch(str(remote)).status_of("refs/heads/Model") == "created"
    [kept] = (store.path / "objects" / "pack").glob("*.pack")
    # The gc pack's entries, as they are, follow the new pack's 12-byte header.
    assert kept.read_bytes()[12 : pack.stat().st_size - 20] == pack.read_bytes()[12:-20]
    fsck = git(store.path, "fsck", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr
    assert store.verify().ok
    assert [v.id for v in store.versions("Model")] == [v.id for v in GitStore(remote).versions("Model")]
    assert len(store.versions("Model")) == 3


def _holds(store: Path, sha: str) -> bool:
    return git(store, "cat-file", "-e", sha, check=False).returncode == 0


def test_a_first_fetch_of_every_ref_is_sent_the_whole_store_unwalked(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    """Every ref wanted and nothing here to build on: the remote's packs (a version 1 index
    among them) and loose objects are sent without a walk, as ``git clone`` of a path copies
    them, so an object no ref reaches comes too; a fetch of some refs walks, and it does not."""
    remote = _good_remote(tmp_path, user_module)
    history = git(remote, "rev-list", "--objects", "Model~1").stdout
    listed = "".join(line.split()[0] + "\n" for line in history.splitlines()).encode()
    made = subprocess.run(
        ["git", f"--git-dir={remote}", "pack-objects", "-q", str(remote / "objects" / "pack" / "pack")],
        input=listed,
        check=True,
        capture_output=True,
    )
    written = remote / "objects" / "pack" / f"pack-{made.stdout.decode().strip()}"
    written.with_suffix(".idx").unlink()
    git(remote, "index-pack", "--index-version=1", str(written.with_suffix(".pack")))
    assert written.with_suffix(".idx").read_bytes()[:4] != b"\377tOc"  # version 1: no magic
    stray = (
        subprocess.run(
            ["git", f"--git-dir={remote}", "hash-object", "-w", "--stdin"],
            input=b"no ref reaches this\n",
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )
    whole = GitStore(tmp_path / "whole")
    whole.init()
    assert whole.fetch(str(remote)).status_of("refs/heads/Model") == "created"
    assert _holds(whole.path, stray)
    fsck = git(whole.path, "fsck", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr
    assert [v.id for v in whole.versions("Model")] == [v.id for v in GitStore(remote).versions("Model")]
    author = PetClassManager(tmp_path / "author")
    author.push(user_module("class Other:\n    value = 1\n").Other)
    author.store.push(str(remote))
    some = GitStore(tmp_path / "some")
    some.init()
    assert some.fetch(str(remote), names=["Model"]).status_of("refs/heads/Model") == "created"
    assert not _holds(some.path, stray)
    assert [v.id for v in some.versions("Model")] == [v.id for v in whole.versions("Model")]
    assert some.names() == ["Model"]


def test_a_first_fetch_from_a_path_remote_borrowing_objects_gets_them_too(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    """A remote cloned with ``--shared`` holds no objects of its own (they are in the store its
    ``objects/info/alternates`` names): the whole store would be nothing, so the fetch walks."""
    origin = _good_remote(tmp_path, user_module)
    borrowing = tmp_path / "borrowing.git"
    subprocess.run(["git", "clone", "-q", "--bare", "--shared", str(origin), str(borrowing)], check=True)
    assert (borrowing / "objects" / "info" / "alternates").exists()
    assert list((borrowing / "objects" / "pack").glob("*.pack")) == []
    store = GitStore(tmp_path / "clone")
    store.init()
    assert store.fetch(str(borrowing)).status_of("refs/heads/Model") == "created"
    fsck = git(store.path, "fsck", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr
    assert [v.id for v in store.versions("Model")] == [v.id for v in GitStore(origin).versions("Model")]
