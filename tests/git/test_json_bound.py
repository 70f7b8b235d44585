"""The nesting bound on stored JSON holds for every document: refused exactly when it nests deeper.

The check counts brackets first and walks only documents with more brackets than the
bound; these cases put the depth at, and one past, the bound, with brackets in strings.
"""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from gitpet import IntegrityError
from gitpet.format.bounds import JSON_MAX_DEPTH, load_stored_json

_NOISE = st.text(alphabet='[]{}ab"\\', max_size=30)


def _nested(depth: int, objects: list[bool], leaf: str) -> object:
    value: object = leaf
    for level in range(depth):
        value = {"k": value} if objects[level % len(objects)] else [value]
    return value


@settings(max_examples=300, deadline=None)
@given(
    depth=st.integers(0, JSON_MAX_DEPTH + 3) | st.sampled_from([JSON_MAX_DEPTH, JSON_MAX_DEPTH + 1]),
    objects=st.lists(st.booleans(), min_size=1, max_size=8),
    leaf=_NOISE,
    siblings=st.integers(0, JSON_MAX_DEPTH + 5),
)
def test_a_document_is_refused_exactly_when_it_nests_past_the_bound(
    depth: int, objects: list[bool], leaf: str, siblings: int
) -> None:
    # Shallow siblings add brackets without depth: a count alone must not refuse them.
    document = {"deep": _nested(depth, objects, leaf), "flat": [[] for _ in range(siblings)]}
    data = json.dumps(document).encode()
    deepest = max(depth + 1, 2 if siblings else 1)  # the outer object, then the deepest branch
    if deepest > JSON_MAX_DEPTH:
        with pytest.raises(IntegrityError, match=f"nests deeper than {JSON_MAX_DEPTH} levels"):
            load_stored_json(data, "meta.json", "3f2a91", len(data))
    else:
        assert load_stored_json(data, "meta.json", "3f2a91", len(data)) == document
