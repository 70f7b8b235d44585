"""A received pack, indexed in one pass, against git's own ``index-pack``.

Packs come from the real ``git pack-objects`` (offset deltas and ref deltas,
whole and thin); what gitpet keeps must be what git would have kept: the same
index, byte for byte, for a self-contained pack, and a pack git verifies and
reads for a thin one. Packs that break the format are refused by name.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import hypothesis.strategies as st
import pytest
from dulwich.repo import Repo
from hypothesis import given, settings

from gitpet.git.indexpack import IndexedPack
from gitpet.git.objread import RawObjectReader
from tests.conftest import bare_repo, git
from tests.hostile import blob, pack_entry_header, pack_of


def _write_blobs(repo: Path, blobs: list[bytes]) -> list[str]:
    return [blob(repo, data) for data in blobs]


def _git_pack(repo: Path, revs: str, *options: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={repo}", "pack-objects", "--stdout", "-q", *options],
        input=revs.encode(),
        capture_output=True,
        check=True,
    ).stdout


def _reader(repo: Path) -> RawObjectReader:
    return RawObjectReader(Repo(str(repo)).object_store)


def _keep(pack: bytes, directory: Path, store: Path) -> Path:
    """Index ``pack`` as a fetch receives it (bases from ``store``); return the kept pack's base path."""
    received = directory / "received.pack"
    received.write_bytes(pack)
    kept_dir = directory / "kept"
    kept_dir.mkdir()
    indexed = IndexedPack(str(received), _reader(store))
    try:
        return Path(indexed.keep(str(kept_dir), fsync=False))
    finally:
        indexed.close()


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.binary(min_size=0, max_size=4000), min_size=1, max_size=10, unique=True),
    st.sampled_from(["--delta-base-offset", "--no-delta-base-offset"]),
)
def test_the_index_is_the_one_git_writes(blobs: list[bytes], delta_kind: str) -> None:
    """Offset deltas and ref deltas alike: the same ids, offsets and CRCs, so the same bytes."""
    with tempfile.TemporaryDirectory() as directory:
        _index_like_git(Path(directory), blobs, delta_kind)


def _index_like_git(scratch: Path, blobs: list[bytes], delta_kind: str) -> None:
    source = bare_repo(scratch / "source.git")
    similar = [blob * 3 + bytes([index]) for index, blob in enumerate(blobs)]  # deltas between them
    shas = _write_blobs(source, similar)
    option = [delta_kind] if delta_kind == "--delta-base-offset" else []
    pack = _git_pack(source, "\n".join(shas) + "\n", "--window=10", "--depth=50", *option)
    kept = _keep(pack, scratch, bare_repo(scratch / "empty.git"))
    theirs = scratch / "theirs.pack"
    theirs.write_bytes(pack)
    subprocess.run(
        ["git", "index-pack", "-o", str(scratch / "theirs.idx"), str(theirs)], check=True, capture_output=True
    )
    assert kept.with_suffix(".idx").read_bytes() == (scratch / "theirs.idx").read_bytes()
    assert kept.with_suffix(".pack").read_bytes() == pack
    subprocess.run(["git", "verify-pack", str(kept) + ".idx"], check=True, capture_output=True)


def test_a_thin_pack_is_completed_with_the_stores_bases(tmp_path: Path) -> None:
    """git sends deltas on objects the receiver has: the kept pack holds those bases (git's --fix-thin)."""
    source = bare_repo(tmp_path / "source.git")
    base = bytes(range(256)) * 64
    git(source, "config", "user.name", "T")
    git(source, "config", "user.email", "t@example.org")
    commits = []
    for round_ in range(2):
        [blob] = _write_blobs(source, [base + b"round %d\n" % round_])
        tree = git(source, "mktree", input=f"100644 blob {blob}\tdata\n").stdout.strip()
        parent = ["-p", commits[-1]] if commits else []
        commits.append(git(source, "commit-tree", tree, *parent, "-m", f"r{round_}").stdout.strip())
    receiver = bare_repo(tmp_path / "receiver.git")
    git(source, "update-ref", "refs/heads/main", commits[0])
    git(source, "push", "-q", str(receiver), "refs/heads/main")
    pack = _git_pack(source, f"{commits[1]}\n^{commits[0]}\n", "--revs", "--thin", "--delta-base-offset")
    count = struct.unpack(">I", pack[8:12])[0]
    kept = _keep(pack, tmp_path, receiver)
    completed = kept.with_suffix(".pack").read_bytes()
    assert struct.unpack(">I", completed[8:12])[0] == count + 1  # the old blob, the base of the new one
    verified = subprocess.run(
        ["git", "verify-pack", "-v", str(kept) + ".idx"], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    assert "chain length = 1: 1 object" in verified.stdout
    for name in ("pack", "idx"):
        (receiver / "objects" / "pack" / kept.with_suffix(f".{name}").name).write_bytes(
            kept.with_suffix(f".{name}").read_bytes()
        )
    git(receiver, "update-ref", "refs/heads/main", commits[1])
    assert git(receiver, "fsck", "--strict", check=False).returncode == 0
    shown = subprocess.run(
        ["git", f"--git-dir={receiver}", "cat-file", "blob", f"{commits[1]}:data"],
        capture_output=True,
        check=True,
    )
    assert shown.stdout == base + b"round 1\n"


# -- packs that break the format, written by hand ------------------------------------------------

_BLOB, _OFS_DELTA, _REF_DELTA = 3, 6, 7


def _blob_id(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()


def _ref_delta(base: bytes, source_size: int, result: bytes) -> bytes:
    """A ref delta on ``base`` (binary id) that inserts ``result`` whole (at most 127 bytes)."""
    delta = bytes([source_size, len(result), len(result)]) + result
    return pack_entry_header(_REF_DELTA, len(delta)) + base + zlib.compress(delta)


def _refused(tmp_path: Path, pack: bytes) -> str:
    received = tmp_path / "received.pack"
    received.write_bytes(pack)
    with pytest.raises(ValueError) as caught:
        IndexedPack(str(received), _reader(bare_repo(tmp_path / "store.git")))
    return str(caught.value)


def test_an_object_sent_twice_is_refused(tmp_path: Path) -> None:
    entry = pack_entry_header(_BLOB, 3) + zlib.compress(b"abc")
    assert "again" in _refused(tmp_path, pack_of([entry, entry]))


def test_ref_deltas_on_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    first, second = b"one", b"two"
    pack = pack_of([_ref_delta(_blob_id(second), 3, first), _ref_delta(_blob_id(first), 3, second)])
    assert "neither the pack nor the store holds" in _refused(tmp_path, pack)


def test_a_chain_of_ref_deltas_deeper_than_the_bound_is_refused(tmp_path: Path) -> None:
    """The scan cannot see a ref delta's depth (its base may come later): resolving counts it."""
    from gitpet.git.packcheck import MAX_DELTA_DEPTH

    contents = [b"%04d" % index for index in range(MAX_DELTA_DEPTH + 2)]
    entries = [pack_entry_header(_BLOB, 4) + zlib.compress(contents[0])]
    entries += [_ref_delta(_blob_id(contents[i]), 4, contents[i + 1]) for i in range(len(contents) - 1)]
    entries.reverse()  # every delta before its base
    assert f"{MAX_DELTA_DEPTH + 1} deltas deep" in _refused(tmp_path, pack_of(entries))


@pytest.mark.parametrize("into", [1, 5], ids=["the first entry's header", "the first entry's data"])
def test_an_offset_delta_whose_base_is_where_no_entry_starts_is_refused(tmp_path: Path, into: int) -> None:
    base = pack_entry_header(_BLOB, 3) + zlib.compress(b"abc")
    delta = bytes([3, 3, 3]) + b"xyz"
    distance = len(base) - into  # back from the delta's start to inside the first entry
    assert distance < 128  # one byte of distance, as git encodes it
    offset_delta = pack_entry_header(_OFS_DELTA, len(delta)) + bytes([distance]) + zlib.compress(delta)
    refused = _refused(tmp_path, pack_of([base, offset_delta]))
    assert refused == "object 1 (at byte 24) is a delta on a base that is not an object of the pack"


def test_offset_deltas_on_offset_deltas_resolve_in_any_shape(tmp_path: Path) -> None:
    """Bases with several deltas, deltas on deltas: each object is the one its delta makes."""
    contents = [b"abc", b"abd", b"abe", b"xbd", b"xyd"]
    bases = [None, 0, 0, 1, 3]  # entry -> its base entry
    entries: list[bytes] = []
    starts: list[int] = []
    at = 12
    for content, base in zip(contents, bases, strict=True):
        starts.append(at)
        if base is None:
            entry = pack_entry_header(_BLOB, 3) + zlib.compress(content)
        else:
            delta = bytes([3, 3, 3]) + content
            distance = at - starts[base]
            entry = pack_entry_header(_OFS_DELTA, len(delta)) + bytes([distance]) + zlib.compress(delta)
        entries.append(entry)
        at += len(entry)
    received = tmp_path / "received.pack"
    received.write_bytes(pack_of(entries))
    indexed = IndexedPack(str(received), _reader(bare_repo(tmp_path / "store.git")))
    try:
        assert len(indexed) == len(contents)
        for content in contents:
            assert indexed.get_raw(_blob_id(content).hex().encode()) == (_BLOB, content)
    finally:
        indexed.close()


@st.composite
def _delta_forests(draw: st.DrawFn) -> tuple[list[int | None], list[int], list[bool]]:
    """Objects each whole (None), on an earlier object (its number) or on one in the store (-1);
    the order the pack holds them in; and, for each, whether an offset delta names its base
    (only a base earlier in the pack can be)."""
    count = draw(st.integers(min_value=1, max_value=9))
    bases = [draw(st.sampled_from([None, -1, *range(number)])) for number in range(count)]
    order = draw(st.permutations(range(count)))
    place = {number: at for at, number in enumerate(order)}
    by_offset = [
        base is not None and base >= 0 and place[base] < place[number] and draw(st.booleans())
        for number, base in enumerate(bases)
    ]
    return bases, order, by_offset


@settings(max_examples=200, deadline=None)
@given(_delta_forests())
def test_deltas_of_both_kinds_resolve_in_any_shape_and_order(
    forest: tuple[list[int | None], list[int], list[bool]],
) -> None:
    """Ref deltas on whole entries later in the pack, on deltas, on the store's objects, with
    offset deltas among them: each object is the one its delta makes, and only the store's
    bases the pack names are taken from the store."""
    bases, order, by_offset = forest
    contents = [b"o%02d" % number for number in range(len(bases))]
    stored = b"stx"
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        store = bare_repo(scratch / "store.git")
        blob(store, stored)
        entries: list[bytes] = []
        starts: dict[int, int] = {}
        at = 12
        for number in order:
            content, base = contents[number], bases[number]
            starts[number] = at
            if base is None:
                entry = pack_entry_header(_BLOB, 3) + zlib.compress(content)
            elif by_offset[number]:
                assert base >= 0
                delta = bytes([3, 3, 3]) + content
                distance = _offset_distance(at - starts[base])
                entry = pack_entry_header(_OFS_DELTA, len(delta)) + distance + zlib.compress(delta)
            else:
                named = stored if base < 0 else contents[base]
                entry = _ref_delta(_blob_id(named), 3, content)
            entries.append(entry)
            at += len(entry)
        received = scratch / "received.pack"
        received.write_bytes(pack_of(entries))
        indexed = IndexedPack(str(received), _reader(store))
        try:
            assert len(indexed) == len(contents)
            for content in contents:
                assert indexed.get_raw(_blob_id(content).hex().encode()) == (_BLOB, content)
            kept = Path(indexed.keep(str(scratch), fsync=False))
        finally:
            indexed.close()
        completed = kept.with_suffix(".pack").read_bytes()
        taken = -1 in bases  # (only a ref delta can name the store's object)
        assert struct.unpack(">I", completed[8:12])[0] == len(contents) + taken  # the store's base, once
        subprocess.run(["git", "verify-pack", str(kept) + ".idx"], check=True, capture_output=True)


def _offset_distance(distance: int) -> bytes:
    """How far back an offset delta's base is, in git's encoding."""
    out = bytes([distance & 0x7F])
    distance >>= 7
    while distance:
        distance -= 1
        out = bytes([0x80 | (distance & 0x7F)]) + out
        distance >>= 7
    return out


def test_a_delta_whose_base_is_another_size_is_refused(tmp_path: Path) -> None:
    base = pack_entry_header(_BLOB, 3) + zlib.compress(b"abc")
    assert "does not apply" in _refused(tmp_path, pack_of([base, _ref_delta(_blob_id(b"abc"), 9, b"xyz")]))


def test_a_pack_whose_checksum_does_not_match_is_refused(tmp_path: Path) -> None:
    pack = bytearray(pack_of([pack_entry_header(_BLOB, 3) + zlib.compress(b"abc")]))
    pack[-1] ^= 1
    assert "checksum does not match" in _refused(tmp_path, bytes(pack))


def test_asking_for_what_is_not_an_id_is_a_plain_no(tmp_path: Path) -> None:
    data = b"abc"
    received = tmp_path / "received.pack"
    received.write_bytes(pack_of([pack_entry_header(_BLOB, 3) + zlib.compress(data)]))
    indexed = IndexedPack(str(received), _reader(bare_repo(tmp_path / "store.git")))
    try:
        assert _blob_id(data).hex().encode() in indexed
        assert b"z" * 40 not in indexed and b"\xff" * 40 not in indexed and b"ab" not in indexed
        with pytest.raises(KeyError):
            indexed.get_raw(b"q" * 40)
    finally:
        indexed.close()
