"""The object reader against the real git: packs git gc and fast-import write, deltas and all.

A store packed by ``git gc`` (or written by ``git fast-import``) holds most
objects as deltas, offset deltas or ref deltas, and an index whose offsets past
a bound live in a table of their own. gitpet reads them itself (the pack
index as mapped, each chain of deltas applied base first); every object must
be what ``git cat-file`` says it is.
"""

from __future__ import annotations

import mmap
import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import hypothesis.strategies as st
import pytest
from dulwich.repo import Repo
from hypothesis import given, settings

from gitpet.git.objread import RawObjectReader, _IndexLookup
from gitpet.git.objwrite import write_pack_index
from tests.conftest import bare_repo, git
from tests.hostile import blob, pack_entry_header, pack_of

_BLOB, _REF_DELTA = 3, 7
_COMMON = bytes(range(256)) * 8  # what versions of one file share: git stores all but one as deltas


def _packed(repo: Path, ids: list[str], *, offset_deltas: bool, large_offsets_from: int | None = None) -> int:
    """Pack ``ids`` into one pack of deltas with git (loose copies removed); return how many are deltas."""
    kind = ["--delta-base-offset"] if offset_deltas else []
    subprocess.run(
        [
            "git",
            f"--git-dir={repo}",
            "pack-objects",
            "-q",
            "--window=10",
            "--depth=50",
            *kind,
            str(repo / "objects" / "pack" / "pack"),
        ],
        input="".join(f"{sha}\n" for sha in ids).encode(),
        check=True,
        capture_output=True,
    )
    git(repo, "prune-packed")
    (index,) = (repo / "objects" / "pack").glob("*.idx")
    if large_offsets_from is not None:
        # Offsets above the bound go into the index's table of large offsets, as past 2 GiB.
        index.unlink()
        index_pack = ["git", "index-pack", f"--index-version=2,{large_offsets_from:#x}", "-o", str(index)]
        subprocess.run([*index_pack, str(index.with_suffix(".pack"))], check=True, capture_output=True)
    listing = git(repo, "verify-pack", "-v", str(index)).stdout
    # "<id> <type> <size> <size in pack> <offset> <depth> <base id>": a delta's line has seven fields.
    return sum(1 for line in listing.splitlines() if len(line.split()) == 7)


def _reads_as_git_does(repo: Path, ids: list[str]) -> None:
    store = Repo(str(repo)).object_store
    reader = RawObjectReader(store)
    try:
        for sha in ids:
            content = subprocess.run(
                ["git", f"--git-dir={repo}", "cat-file", "blob", sha], capture_output=True, check=True
            ).stdout
            assert reader.get_raw(sha.encode()) == (_BLOB, content)
    finally:
        reader.close()
        store.close()


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.binary(min_size=20, max_size=3000), min_size=2, max_size=8, unique=True),
    st.booleans(),
)
def test_every_object_of_a_pack_of_deltas_reads_as_git_cat_file_says(
    pieces: list[bytes], offset_deltas: bool
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        repo = bare_repo(Path(directory) / "store.git")
        # Versions of one file, each the last with a piece added.
        versions = [_COMMON + b"".join(pieces[: count + 1]) for count in range(len(pieces))]
        ids = [blob(repo, content) for content in versions]
        assert _packed(repo, ids, offset_deltas=offset_deltas)  # the reads below go through deltas
        _reads_as_git_does(repo, ids)


@pytest.mark.parametrize("offset_deltas", [True, False], ids=["offset deltas", "ref deltas"])
def test_offsets_in_the_large_offset_table_are_followed(tmp_path: Path, offset_deltas: bool) -> None:
    repo = bare_repo(tmp_path / "store.git")
    ids = [blob(repo, b"a line of text\n" * 200 + b"version %d\n" % version) for version in range(6)]
    assert _packed(repo, ids, offset_deltas=offset_deltas, large_offsets_from=0x40)
    _reads_as_git_does(repo, ids)


def test_a_long_read_of_a_pack_with_large_offsets_reads_every_object_through_its_table(
    tmp_path: Path,
) -> None:
    """Past 1,024 lookups of one pack the reader looks ids up in a table built from its index."""
    repo = bare_repo(tmp_path / "store.git")
    contents = [b"object %d of a long read\n" % number for number in range(1100)]
    files = tmp_path / "files"
    files.mkdir()
    for number, content in enumerate(contents):
        (files / str(number)).write_bytes(content)
    written = subprocess.run(
        ["git", f"--git-dir={repo}", "hash-object", "-w", "--stdin-paths"],
        input="".join(f"{files / str(number)}\n" for number in range(len(contents))).encode(),
        capture_output=True,
        check=True,
    )
    ids = written.stdout.decode().split()
    _packed(repo, ids, offset_deltas=True, large_offsets_from=0x40)
    store = Repo(str(repo)).object_store
    reader = RawObjectReader(store)
    try:
        for _ in range(2):  # 2,200 lookups: the second pass reads through the table
            for sha, content in zip(ids, contents, strict=True):
                assert reader.get_raw(sha.encode()) == (_BLOB, content)
        with pytest.raises(KeyError):
            reader.get_raw(b"0" * 40)
    finally:
        reader.close()
        store.close()


@pytest.fixture(scope="module")
def large_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[mmap.mmap, dict[bytes, int]]]:
    """The index git writes for a pack of 20,000 blobs (fan-out buckets of ~78 ids), and its entries."""
    repo = bare_repo(tmp_path_factory.mktemp("large") / "store.git")
    contents = (b"%d\n" % number for number in range(20_000))
    stream = b"".join(b"blob\ndata %d\n%s\n" % (len(data), data) for data in contents)
    subprocess.run(["git", f"--git-dir={repo}", "fast-import", "--quiet"], input=stream, check=True)
    (index,) = (repo / "objects" / "pack").glob("*.idx")
    shown = subprocess.run(["git", "show-index"], input=index.read_bytes(), capture_output=True, check=True)
    listed = shown.stdout.decode().split("\n")
    entries = {bytes.fromhex(line.split()[1]): int(line.split()[0]) for line in listed if line}
    assert len(entries) == 20_000
    with index.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data, entries


def test_every_id_of_a_large_index_is_found_where_git_show_index_says(
    large_index: tuple[mmap.mmap, dict[bytes, int]],
) -> None:
    """A bucket is halved to a few dozen ids, then searched in C: each id at its own offset."""
    data, entries = large_index
    lookup = _IndexLookup(data)
    assert {binary: lookup.object_offset(binary) for binary in entries} == entries
    assert lookup.table() == entries


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_an_id_not_in_a_large_index_is_not_found_even_when_its_bytes_are_there_across_two_ids(
    large_index: tuple[mmap.mmap, dict[bytes, int]], data: st.DataObject
) -> None:
    """Ids end to end hold every 19-byte run of their neighbours' bytes: only an id's own place counts."""
    index, entries = large_index
    ids = sorted(entries)
    at = data.draw(st.integers(0, len(ids) - 2))
    cut = data.draw(st.integers(1, 19))
    joined = ids[at] + ids[at + 1]
    candidates = [
        ids[at][:1] + joined[cut + 1 : cut + 20],  # its first byte, then bytes across two ids of its bucket
        ids[at][:19] + bytes([(ids[at][19] + 1) % 256]),  # a neighbour of an id
        data.draw(st.binary(min_size=20, max_size=20)),
    ]
    lookup = _IndexLookup(index)
    for binary in candidates:
        if binary in entries:
            assert lookup.object_offset(binary) == entries[binary]
        else:
            with pytest.raises(KeyError):
                lookup.object_offset(binary)


def _blob_id(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()


def test_ref_deltas_on_each_other_in_a_circle_stop_the_read(tmp_path: Path) -> None:
    """A kept pack was checked when it arrived; one damaged since must not loop a reader forever."""
    first, second = b"one", b"two"
    entries = []
    for base, result in ((second, first), (first, second)):
        delta = bytes([3, 3, 3]) + result
        entries.append(pack_entry_header(_REF_DELTA, len(delta)) + _blob_id(base) + zlib.compress(delta))
    pack = pack_of(entries)
    repo = bare_repo(tmp_path / "store.git")
    pack_dir = repo / "objects" / "pack"
    (pack_dir / "pack-circle.pack").write_bytes(pack)
    offsets = [12, 12 + len(entries[0])]
    crcs = [zlib.crc32(entry) for entry in entries]
    with open(pack_dir / "pack-circle.idx", "wb") as index:
        write_pack_index(index, [_blob_id(first), _blob_id(second)], offsets, crcs, pack[-20:])
    store = Repo(str(repo)).object_store
    reader = RawObjectReader(store)
    try:
        with pytest.raises(ValueError, match="chain of over 4096 deltas"):
            reader.get_raw(_blob_id(first).hex().encode())
    finally:
        reader.close()
        store.close()
