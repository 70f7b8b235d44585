"""IdTable numbers ids as a dict would, for any ids in any order (as many as make it grow)."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given

from gitpet.git.idtable import IdTable

_IDS = st.binary(min_size=20, max_size=20)


@given(st.lists(st.one_of(_IDS, st.sampled_from([bytes(20), b"\xff" * 20])), max_size=300), st.lists(_IDS))
def test_an_id_table_numbers_ids_in_the_order_first_added(added: list[bytes], asked: list[bytes]) -> None:
    table, numbered = IdTable(), {}
    for sha in added:
        assert table.add(sha) == numbered.setdefault(sha, len(numbered))
    assert len(table) == len(numbered)
    assert list(table) == list(numbered)
    for sha, number in numbered.items():
        assert table.number(sha) == number and table.id(number) == sha and sha in table
    for sha in asked:
        assert table.number(sha) == numbered.get(sha, -1)
        assert (sha in table) == (sha in numbered)


def test_an_id_table_takes_only_binary_ids() -> None:
    table = IdTable()
    with pytest.raises(ValueError, match="20 bytes, not 40"):
        table.add(b"a" * 40)
    assert table.number(b"a" * 40) == -1 and b"a" * 40 not in table and "x" not in table
    with pytest.raises(IndexError):
        table.id(0)


def test_ids_added_while_iterating_are_not_given() -> None:
    table = IdTable()
    table.add(b"\1" * 20)
    given_back = []
    for sha in table:
        given_back.append(sha)
        table.add(b"\2" * 20)
    assert given_back == [b"\1" * 20] and len(table) == 2
