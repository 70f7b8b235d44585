"""gitpet's pack index writer writes what dulwich's writes, for every set of entries.

Offsets beyond 2 GiB (the table of large offsets) cannot come from a real pack in a
test: they are given here, and the index must hold them as git's format says.
"""

from __future__ import annotations

import io
import struct

import hypothesis.strategies as st
from dulwich.pack import write_pack_index_v2
from hypothesis import given, settings

from gitpet.git.objwrite import BinaryIds, write_pack_index

_offsets = st.integers(0, 2**31 - 1) | st.integers(2**31, 2**40)


@settings(max_examples=200, deadline=None)
@given(
    entries=st.dictionaries(
        st.binary(min_size=20, max_size=20),
        st.tuples(_offsets, st.integers(0, 2**32 - 1)),
        max_size=300,
    ),
    checksum=st.binary(min_size=20, max_size=20),
)
def test_it_writes_the_index_dulwich_writes(entries: dict[bytes, tuple[int, int]], checksum: bytes) -> None:
    ids = list(entries)  # in no order: the writer sorts
    ours = io.BytesIO()
    write_pack_index(ours, ids, [entries[sha][0] for sha in ids], [entries[sha][1] for sha in ids], checksum)
    packed = BinaryIds()
    for sha in ids:
        packed.append(sha)
    assert list(packed) == ids and [packed[i] for i in range(-len(ids), 0)] == ids
    from_packed = io.BytesIO()
    write_pack_index(
        from_packed, packed, [entries[sha][0] for sha in ids], [entries[sha][1] for sha in ids], checksum
    )
    assert from_packed.getvalue() == ours.getvalue()
    theirs = io.BytesIO()
    write_pack_index_v2(theirs, sorted((sha, *entries[sha]) for sha in entries), checksum)
    assert ours.getvalue() == theirs.getvalue()
    large = sum(offset >= 2**31 for offset, _crc in entries.values())
    tail = 8 * large + 40
    assert len(ours.getvalue()) == 8 + 1024 + 28 * len(entries) + tail
    assert struct.unpack_from(">I", ours.getvalue(), 8 + 255 * 4)[0] == len(entries)
