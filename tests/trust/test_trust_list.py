"""The trust list's file: sorted ids under a header, a short unsorted tail, rewrites that lose no append."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given

from gitpet.trust.trustlist import SEARCHES_BEFORE_READING, TrustList

_HEX_ID = st.text("0123456789abcdef", min_size=40, max_size=40)


def _sorted_part(path: Path) -> list[bytes]:
    """The ids the header counts, checked to be whole lines in order."""
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    assert header.startswith(b"# sorted: ")
    count = int(header.removeprefix(b"# sorted: "))
    lines = rest.split(b"\n")[:count]
    assert all(len(line) == 40 for line in lines) and lines == sorted(set(lines))
    return lines


def _checked(gitdir: Path, version: str) -> tuple[bool, bool]:
    """(a fresh list's search, a fresh list that read the file whole) for ``version``."""
    searching, reading = TrustList(gitdir), TrustList(gitdir)
    for _ in range(SEARCHES_BEFORE_READING + 1):  # past the searches: the list is read whole
        "f" * 40 in reading  # noqa: B015
    return version in searching, version in reading


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["add", "remove"]), st.lists(_HEX_ID, max_size=6)), min_size=1, max_size=12
    ),
    tail=st.integers(1, 5),
    asked=st.lists(_HEX_ID, max_size=3),
)
def test_every_check_answers_what_was_added_and_not_removed(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[str, list[str]]],
    tail: int,
    asked: list[str],
) -> None:
    """Whatever mix of appends, sorts and rewrites made the file, a search (binary in the sorted
    ids, a scan of the tail) and a whole read give the same answer as the sequence of calls."""
    gitdir = tmp_path_factory.mktemp("trust")
    writer = TrustList(gitdir, tail_before_sorting=tail)
    vouched: set[str] = set()
    for action, ids in steps:
        if action == "add":
            writer.add(ids)
            vouched |= set(ids)
        else:
            writer.remove(ids)
            vouched -= set(ids)
        assert all(version in writer for version in ids) == (action == "add" or not ids)
    path = gitdir / "gitpet" / "trusted"
    if path.exists() and path.read_bytes().startswith(b"#"):
        sorted_ids = _sorted_part(path)
        unsorted = len(path.read_bytes()) - len(b"".join(line + b"\n" for line in sorted_ids))
        assert unsorted < (tail + 6) * 41 + 32  # the tail is sorted away once it holds `tail` ids
    for version in [*vouched, *asked]:
        assert _checked(gitdir, version) == (version in vouched,) * 2


def test_a_list_written_before_the_header_is_read_then_sorted_at_the_next_append(tmp_path: Path) -> None:
    """An older gitpet's list (no header, batches sorted each on their own) keeps loading, and the
    first append past the bound sorts it; an older gitpet's rewrite drops the header and all stays found."""
    (tmp_path / "gitpet").mkdir()
    path = tmp_path / "gitpet" / "trusted"
    old = [f"{i:040x}" for i in (9, 3, 7, 1)]
    path.write_text("".join(f"{v}\n" for v in old))
    assert all(_checked(tmp_path, v) == (True, True) for v in old)
    TrustList(tmp_path, tail_before_sorting=3).add(["f" * 40])
    assert _sorted_part(path) == sorted(v.encode() for v in [*old, "f" * 40])
    path.write_text("".join(f"{v}\n" for v in sorted(old)))  # what an older remove() writes
    assert all(_checked(tmp_path, v) == (True, True) for v in old) and _checked(tmp_path, "f" * 40) == (
        False,
        False,
    )


def test_a_damaged_header_never_vouches_for_an_id_not_on_a_line(tmp_path: Path) -> None:
    """A header counting more ids than there are, or lines out of order, can only make checks miss."""
    (tmp_path / "gitpet").mkdir()
    path = tmp_path / "gitpet" / "trusted"
    ids = [f"{i:040x}" for i in range(1, 6)]
    inside = "a" * 20 + "b" * 20  # spans two lines' halves below: never a whole line
    path.write_text("# sorted: 99\n" + "".join(f"{v}\n" for v in ids) + "a" * 20 + "\n" + "b" * 20 + "\n")
    assert _checked(tmp_path, inside) == (False, False)
    assert _checked(tmp_path, "0" * 40) == (False, False)
    assert _checked(tmp_path, ids[2]) == (True, True)


_APPENDER = """
import sys
from pathlib import Path
from gitpet.trust.trustlist import TrustList
gitdir, who, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
trusted = TrustList(gitdir, tail_before_sorting=int(sys.argv[4]))
for i in range(count):
    trusted.add([f"{who}{i:039x}"])
"""


def test_no_append_is_lost_to_concurrent_sorts_and_removals(tmp_path: Path) -> None:
    """Processes vouching one id at a time, sorting every few ids, while another removes ids:
    every id appended is in the list at the end (a rewrite holds the file's lock exclusively)."""
    (tmp_path / "gitpet").mkdir()
    remover = TrustList(tmp_path)
    doomed = [f"d{i:039x}" for i in range(400)]
    remover.add(doomed)
    appenders = [
        subprocess.Popen([sys.executable, "-c", _APPENDER, str(tmp_path), who, "300", "7"]) for who in "abc"
    ]
    for version in doomed:
        remover.remove([version])
        if all(process.poll() is not None for process in appenders):
            break
    assert [process.wait(timeout=120) for process in appenders] == [0, 0, 0]
    fresh = TrustList(tmp_path)
    for _ in range(SEARCHES_BEFORE_READING):
        "f" * 40 in fresh  # noqa: B015
    appended = [f"{who}{i:039x}" for who in "abc" for i in range(300)]
    assert [version for version in appended if version not in fresh] == []
    removed = doomed[: doomed.index(version) + 1]
    assert not any(version in fresh for version in removed)


_CLUSTERED_ID = st.one_of(
    _HEX_ID,
    _HEX_ID.map(lambda v: "0" * 30 + v[30:]),  # far below where their first digits say
    _HEX_ID.map(lambda v: "7" + "f" * 9 + v[10:]),
    _HEX_ID.map(lambda v: "f" * 12 + v[12:]),
)


@given(ids=st.sets(_CLUSTERED_ID, min_size=65, max_size=400), asked=st.lists(_CLUSTERED_ID, max_size=5))
def test_a_sorted_list_of_ids_that_are_not_spread_evenly_is_searched_right(
    tmp_path_factory: pytest.TempPathFactory, ids: set[str], asked: list[str]
) -> None:
    """A search looks first where an id's digits put it; ids bunched together (not hashes)
    fall outside that window and must still be found by the binary search behind it."""
    gitdir = tmp_path_factory.mktemp("trust")
    TrustList(gitdir, tail_before_sorting=1).add(ids)
    assert len(_sorted_part(gitdir / "gitpet" / "trusted")) == len(ids)
    searching = TrustList(gitdir)
    for version in sorted(ids)[:: max(1, len(ids) // 40)] + asked:
        assert (version in searching) == (version in ids)
