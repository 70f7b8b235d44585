"""The fast commit reader agrees with dulwich's parser on every commit dulwich writes."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from dulwich.objects import Commit
from hypothesis import given

from gitpet import IntegrityError
from gitpet.git.integrity import commit_fields

_ids = st.binary(min_size=20, max_size=20).map(lambda raw: raw.hex().encode())
_names = st.text(
    st.characters(blacklist_characters="<>\n\0", blacklist_categories=("Cs",)), min_size=1, max_size=12
)


@given(
    parents=st.lists(_ids, max_size=3),
    author=_names,
    committer=_names,
    times=st.tuples(st.integers(-(2**40), 2**40), st.integers(-(2**40), 2**40)),
    message=st.binary(max_size=60),
    signed=st.booleans(),
)
def test_it_reads_what_dulwich_reads(
    parents: list[bytes], author: str, committer: str, times: tuple[int, int], message: bytes, signed: bool
) -> None:
    commit = Commit()
    commit.tree = b"a" * 40
    commit.parents = parents
    commit.author = f"{author.strip() or 'a'} <a@example.org>".encode()
    commit.committer = f"{committer.strip() or 'c'} <c@example.org>".encode()
    commit.author_time, commit.commit_time = times
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message
    if signed:
        commit.gpgsig = (
            b"-----BEGIN SSH SIGNATURE-----\ncommitter x <x> 1 +0000\n-----END SSH SIGNATURE-----\n"
        )
    raw = commit.as_raw_string()
    parsed = Commit.from_string(raw)
    fields = commit_fields(commit.id, raw)
    assert fields.tree == parsed.tree and fields.parents == tuple(parsed.parents)
    assert fields.commit_time == parsed.commit_time and fields.author == parsed.author
    assert fields.message == parsed.message


@pytest.mark.parametrize(
    "raw",
    [
        b"tree " + b"a" * 40 + b"\n",  # no author, no committer
        b"tree " + b"a" * 40 + b"\nparent xyz\nauthor a <a> 1 +0000\ncommitter c <c> 1 +0000\n\nm",
        b"tree " + b"a" * 40 + b"\nauthor a <a> 1 +0000\ncommitter c <c> soon +0000\n\nm",
        b"blob " + b"a" * 40 + b"\n",
    ],
)
def test_a_malformed_commit_is_an_integrity_error(raw: bytes) -> None:
    with pytest.raises(IntegrityError, match="malformed commit"):
        commit_fields(b"c" * 40, raw)
