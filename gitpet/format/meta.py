"""``meta.json``: the one place that knows its schema, its bytes and its checks.

Every version's tree holds a ``meta.json`` describing its class (DESIGN.md §1).
Its bytes are part of the version id, so :func:`meta_json` writes them exactly
as ``json.dumps(meta, sort_keys=True, indent=2)`` plus a newline, forever.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from gitpet.errors import IntegrityError
from gitpet.format.bounds import META_JSON_MAX_BYTES, load_stored_json

__all__ = [
    "FORMAT_VERSION",
    "READABLE_FORMATS",
    "REQUIRED_KEYS",
    "Meta",
    "MetaValue",
    "meta_format",
    "meta_json",
    "meta_owner",
    "meta_problems",
    "source_state",
]


class Meta(TypedDict, total=False):
    """The fields of ``meta.json`` (format 2; format 1 also recorded ``cloudpickle``).

    ``name``: the class name the version belongs to (its ref); ``module``/``qualname``:
    where the class was defined; ``python``: the ``major.minor`` that pickled it;
    ``bases``: its bases as ``module.qualname``; ``by_value``: modules pickled by value;
    ``source``: ``"file"`` or ``"missing"`` (no source text could be found);
    ``source_complete`` (format 3): whether the class built from ``captured.py`` and
    ``source.py`` pickles to exactly ``class.pkl``; ``source_problem``: why not, when not
    (gitpet's words are part of the format, as the keys are).
    """

    format: int
    name: str
    module: str
    qualname: str
    python: str
    bases: list[str]
    by_value: list[str]
    source: Literal["file", "missing"]
    source_complete: bool
    source_problem: str


REQUIRED_KEYS = ("format", "module", "name", "python", "qualname")
"""What a version's ``meta.json`` must hold to load (checked by verify and by loading)."""

FORMAT_VERSION = 3
"""The version format this gitpet writes (``meta.json``'s ``format``; see CHANGELOG.md).

Format 3: beside ``source.py``, ``captured.py`` holds what the class uses from its
module as text, and ``meta.json`` says whether that text builds the class that
``class.pkl`` holds (``source_complete``).
Format 2: the pickle is gitpet's own (protocol 4, rebuilt through
:mod:`gitpet.rebuild`) and ``meta.json`` names no dependency version.
Format 1 (gitpet 0.1): cloudpickle's reductions, and ``meta.json`` recorded
the cloudpickle release. All three load; pushing a class loaded from an
older format writes its format-3 version.
"""
READABLE_FORMATS = frozenset({1, 2, FORMAT_VERSION})


MetaValue = str | int | bool | None | list[str]
"""What a field of ``meta.json`` may hold."""


def meta_json(meta: Meta | dict[str, MetaValue]) -> bytes:
    """``meta.json``: byte for byte ``json.dumps(meta, sort_keys=True, indent=2)`` plus a newline.

    A version id depends on these bytes, so they never change; ``indent``
    makes :mod:`json` fall back to its pure-Python encoder, which was a tenth
    of registering a class. Values are scalars or lists of strings.

    Examples:
        >>> meta_json({"name": "A", "bases": ["builtins.object"], "by_value": []}).decode()
        '{\\n  "bases": [\\n    "builtins.object"\\n  ],\\n  "by_value": [],\\n  "name": "A"\\n}\\n'
    """
    fields_of: dict[str, Any] = dict(meta)
    if not fields_of:
        return b"{}\n"
    fields = []
    for key in sorted(fields_of):
        value = fields_of[key]
        if isinstance(value, list):
            text = "[\n" + ",\n".join(f"    {_json_scalar(v)}" for v in value) + "\n  ]" if value else "[]"
        else:
            text = _json_scalar(value)
        fields.append(f"  {_json_string(key)}: {text}")
    return ("{\n" + ",\n".join(fields) + "\n}\n").encode("utf-8")


# json's own C string encoder: json.dumps per value cost 18 calls of its
# Python wrapper per class.
_json_string = json.encoder.encode_basestring_ascii


def _json_scalar(value: object) -> str:
    if isinstance(value, str):
        text: str = _json_string(value)
        return text
    if type(value) is int:
        return str(value)
    return json.dumps(value)


def meta_format(data: bytes) -> int:
    """The format a version's ``meta.json`` bytes say (0 when they say none readable).

    Examples:
        >>> meta_format(b'{"format": 3}'), meta_format(b"not json")
        (3, 0)
    """
    try:
        meta = load_stored_json(data, "meta.json", "", META_JSON_MAX_BYTES)
    except IntegrityError:
        return 0
    form = meta.get("format") if isinstance(meta, dict) else None
    return form if type(form) is int else 0


def source_state(data: bytes) -> tuple[bool | None, str]:
    """``(source_complete, source_problem)`` of a version's ``meta.json`` bytes (None before format 3).

    Examples:
        >>> source_state(b'{"source_complete": false, "source_problem": "it is nested in Outer"}')
        (False, 'it is nested in Outer')
    """
    try:
        meta = load_stored_json(data, "meta.json", "", META_JSON_MAX_BYTES)
    except IntegrityError:
        return None, ""
    if not isinstance(meta, dict) or not isinstance(meta.get("source_complete"), bool):
        return None, ""
    problem = meta.get("source_problem")
    return meta["source_complete"], problem if isinstance(problem, str) else ""


def meta_owner(meta: dict[str, Any]) -> str | None:
    """The class a parsed ``meta.json`` says its version belongs to (None: it names none)."""
    owner = meta.get("name")
    return owner if isinstance(owner, str) else None


def meta_problems(data: bytes, name: str) -> list[str]:
    """What is wrong with a version's meta.json (empty when nothing is).

    Examples:
        >>> for problem in meta_problems(b'{"name": "A"}', "B"):
        ...     print(problem)
        meta.json names class 'A', but the version is in B's history
        meta.json lacks format, module, python, qualname
    """
    try:
        pairs = load_stored_json(data, "meta.json", "", META_JSON_MAX_BYTES, object_pairs_hook=list)
    except IntegrityError as err:
        return [err.detail]
    if not isinstance(pairs, list) or not all(isinstance(p, tuple) for p in pairs):
        return ["meta.json is not a JSON object"]
    meta = dict(pairs)
    found = []
    if meta.get("name") != name:
        found.append(f"meta.json names class {meta.get('name')!r}, but the version is in {name}'s history")
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        found.append(f"meta.json lacks {', '.join(missing)}")
    form = meta.get("format")
    if isinstance(form, int) and form >= 3 and not isinstance(meta.get("source_complete"), bool):
        found.append("meta.json of a format-3 version does not say whether it is source-complete")
    keys = [key for key, _ in pairs]
    if keys != sorted(keys):
        found.append("meta.json keys are not sorted (it was not written by gitpet)")
    return found
