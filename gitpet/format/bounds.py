"""Bounds on stored content, and reading the JSON files gitpet stores within them.

Any object gitpet reads or writes is at most :data:`MAX_OBJECT_BYTES`.

``meta.json`` and ``pipeline.json`` arrive from remotes too, so a read
refuses, as :class:`~gitpet.IntegrityError` naming the object, a file
larger than its bound or nested deeper than :data:`JSON_MAX_DEPTH` (deeper
JSON made ``json.loads`` and everything that walks the result raise
``RecursionError``). The bounds are far above anything gitpet writes:
``meta.json`` is a few hundred bytes, and a dump deeper than
:data:`JSON_MAX_DEPTH` is refused when it is saved.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from gitpet.errors import IntegrityError

__all__ = [
    "JSON_MAX_DEPTH",
    "MAX_OBJECT_BYTES",
    "MAX_TAG_CHAIN",
    "META_JSON_MAX_BYTES",
    "PIPELINE_JSON_MAX_BYTES",
    "json_depth",
    "load_stored_json",
]

# What one object may inflate to: a read never costs more memory than this (a few
# hundred compressed bytes can claim gigabytes). gitpet refuses to write larger ones.
MAX_OBJECT_BYTES = 1 << 30
META_JSON_MAX_BYTES = 64 * 1024
PIPELINE_JSON_MAX_BYTES = 16 * 1024 * 1024
JSON_MAX_DEPTH = 100
# Annotated tags followed from a ref before giving up: a remote can chain them without end.
MAX_TAG_CHAIN = 16

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(data: bytes) -> int:
    """How deeply the arrays and objects of JSON text ``data`` nest (brackets in strings do not count).

    Examples:
        >>> json_depth(b'{"a": [1, [2]], "b": "[[[["}')
        3
        >>> json_depth(b"12")
        0
    """
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate((_STEP[b] for b in brackets), initial=0))


def load_stored_json(data: bytes, what: str, where: str, max_bytes: int, **options: Any) -> Any:
    """``json.loads(data, **options)`` for the stored file ``what`` of object ``where``, bounded.

    Examples:
        >>> load_stored_json(b'{"name": "A"}', "meta.json", "3f2a91", META_JSON_MAX_BYTES)
        {'name': 'A'}
        >>> load_stored_json(b"[" * 1000 + b"]" * 1000, "meta.json", "3f2a91", META_JSON_MAX_BYTES)
        Traceback (most recent call last):
        ...
        gitpet.IntegrityError: store integrity: 3f2a91: meta.json nests deeper than 100 levels
    """
    if len(data) > max_bytes:
        raise IntegrityError(where, f"{what} is {len(data)} bytes, more than the {max_bytes} it may hold")
    # Fewer brackets than the bound cannot nest past it: most files are checked by two counts.
    brackets = data.count(b"[") + data.count(b"{")
    if brackets > JSON_MAX_DEPTH and json_depth(data) > JSON_MAX_DEPTH:
        raise IntegrityError(where, f"{what} nests deeper than {JSON_MAX_DEPTH} levels")
    try:
        return json.loads(data, **options)
    except (ValueError, RecursionError) as err:
        raise IntegrityError(where, f"{what} is not JSON: {err}") from err
