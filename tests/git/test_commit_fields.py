"""The fast commit reader agrees with dulwich's parser on every commit dulwich writes."""

from __future__ import annotations

import hashlib

import hypothesis.strategies as st
import pytest
from dulwich.objects import Commit
from hypothesis import given, settings

from gitpet import IntegrityError
from gitpet.git.integrity import check_commit, commit_fields

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


# -- the fast check against dulwich's, on commits plain and odd ---------------------------------


_PLAIN_PARTS = {
    "tree": b"0123456789abcdef" * 2 + b"01234567",
    "parent": b"fedcba9876543210" * 2 + b"76543210",
    "ident": b"A U Thor <a@x.org>",
    "time": b"1700000000",
    "zone": b"+0000",
}
_ODD_PARTS = {
    "tree": [b"A" * 40, b"a" * 39, b"g" * 40, b"a" * 41, b""],
    "parent": [b"B" * 40, b"b" * 39, b"x" * 40],
    "ident": [b"<a@x>", b" <>", b"A <a@x> B", b"A<a@x>", b"A <<a@x>", b"A <a@x>>", b"A> <a@x>", b"A< <a@x>"],
    "time": [b"0", b"-5", b"99999999999999999999", b"+5", b"1_0", b"x", b""],
    "zone": [b"-0130", b"+100", b"0000", b"+00x0", b"", b"-0000"],
}
_EXTRA_HEADERS = [
    b"encoding UTF-8",
    b"gpgsig -----BEGIN-----\n sig\n -----END-----",
    b"x y",
    b"tree " + b"b" * 40,
    b"parent " + b"c" * 40,
    b"author B <b@x> 1 +0000",
    b"nospace",
    b" continued",
    b"author A <\0> 1 +0000",
]
_SLOTS = ("tree", "parent", "a-ident", "a-time", "a-zone", "c-ident", "c-time", "c-zone")


@st.composite
def _commit_text(draw: st.DrawFn) -> bytes:
    """A commit in git's plain form with at most one part odd, one line dropped or one header added."""
    odd = draw(st.sampled_from((*_SLOTS, "drop", "extra", "none")))

    def part(slot: str) -> bytes:
        kind = slot.rpartition("-")[2]
        return draw(st.sampled_from(_ODD_PARTS[kind])) if slot == odd else _PLAIN_PARTS[kind]

    lines = [b"tree " + part("tree")]
    lines += [b"parent " + part("parent")] * draw(st.integers(0, 2))
    for key, side in ((b"author", "a"), (b"committer", "c")):
        fields = (key, part(f"{side}-ident"), part(f"{side}-time"), part(f"{side}-zone"))
        lines.append(b" ".join(field for field in fields if field))
    if odd == "drop":
        del lines[draw(st.integers(0, len(lines) - 1))]
    if odd == "extra":
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(_EXTRA_HEADERS)))
    text = b"\n".join(lines) + b"\n"
    return text + draw(st.sampled_from([b"", b"\n", b"\nmessage\n", b"\n\nblank first\n"]))


def _dulwich_accepts(raw: bytes) -> bool:
    try:
        Commit.from_raw_string(Commit.type_num, raw).check()
    except Exception:  # noqa: BLE001 - dulwich's parser raises IndexError and others on odd input
        return False
    return True


@settings(max_examples=400)  # ~1 s: about five examples of each odd part
@given(_commit_text())
def test_the_fast_commit_check_accepts_what_dulwich_and_the_reader_accept(raw: bytes) -> None:
    """Exactly what passes verify's checks (dulwich's) and what history reads can read."""
    sha = hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest().encode()
    try:
        commit_fields(sha, raw)
        readable = True
    except IntegrityError:
        readable = False
    try:
        fields = check_commit(sha, raw)
    except IntegrityError:
        assert not (readable and _dulwich_accepts(raw)), raw
    else:
        assert readable and _dulwich_accepts(raw), raw
        parsed = Commit.from_string(raw)
        assert fields.tree == parsed.tree and fields.parents == tuple(parsed.parents)
        assert fields.author == parsed.author and fields.commit_time == parsed.commit_time
        assert fields.message == (parsed.message or b"") and fields == commit_fields(sha, raw)
