"""Pipeline dumps (``{"clazz", "version_hash", "params"}``): pure checks and walks.

A dump is what :meth:`BasePlugin.item_dump` returns: a component mapping
whose params may hold other components, directly or inside lists, tuples and
dicts. Both rebuilding a plugin and saving a snapshot read dumps through the
checks here, so a dump is refused the same way, with the same path, whichever
one sees it first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from gitpet.errors import InvalidDumpError
from gitpet.format.bounds import JSON_MAX_DEPTH

__all__ = ["Component", "component", "dump_json", "is_component", "normalize_dump"]

DUMP_KEYS = frozenset({"clazz", "version_hash", "params"})
_JSON_SCALARS = (str, int, float, bool, type(None))


class Component(NamedTuple):
    """One component of a dump, checked: its class name, pinned version (None: framework class), params.

    ``params`` is None when the dump has no ``params`` key: the entry names the class
    itself (a class-valued param), not an instance. ``extra`` holds the ``_``-prefixed
    keys ``item_dump(include=...)`` added beside them (kept, never passed to the class).
    """

    name: str
    version: str | None
    params: Mapping[str, Any] | None
    extra: Mapping[str, Any]


def is_component(value: object) -> bool:
    """Whether ``value`` is read as a nested component (a mapping with a ``clazz`` key)."""
    return isinstance(value, Mapping) and "clazz" in value


def component(dump: object, path: str) -> Component:
    """Check one component mapping; ``path`` says where it is in the error.

    Examples:
        >>> component({"clazz": "A", "version_hash": None, "params": {"k": 1}}, "dump")
        Component(name='A', version=None, params={'k': 1}, extra={})
        >>> component({"clazz": "A", "version_hash": None}, "dump").params is None   # the class itself
        True
        >>> component({"clazz": "", "params": {}}, "dump.params.x")
        Traceback (most recent call last):
        ...
        gitpet.InvalidDumpError: invalid dump at dump.params.x: 'clazz' must be a non-empty str, ...
    """
    if not isinstance(dump, Mapping):
        raise InvalidDumpError(path, f"expected a mapping, got {type(dump).__name__}")
    # Keys beside these start with "_": what item_dump(include=...) added (labchain's private attributes).
    unknown = {key for key in set(dump) - DUMP_KEYS if not (isinstance(key, str) and key.startswith("_"))}
    if unknown:
        raise InvalidDumpError(path, f"unknown keys {sorted(map(str, unknown))}")
    name = dump.get("clazz")
    if not isinstance(name, str) or not name:
        raise InvalidDumpError(path, f"'clazz' must be a non-empty str, got {name!r}")
    version = dump.get("version_hash")
    if version is not None and not isinstance(version, str):
        raise InvalidDumpError(path, f"'version_hash' must be a str or None, got {version!r}")
    if "params" not in dump:
        return Component(name, version or None, None, _extra(dump))
    params = dump["params"]
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise InvalidDumpError(path, "'params' must be a mapping with str keys")
    return Component(name, version or None, params, _extra(dump))


def _extra(dump: Mapping[Any, Any]) -> dict[str, Any]:
    return {key: value for key, value in dump.items() if key not in DUMP_KEYS}


Resolve = Callable[[str, str, str], str]


def normalize_dump(dump: object, resolve: Resolve) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A JSON-ready copy of ``dump`` with every version written in full, and its pins.

    ``resolve(path, name, version)`` turns each pinned version (an id, a
    prefix, a tag...) into the full id, or raises. The pins are ``(name, id)``
    in the order ``pipeline.json`` names them (keys sorted), each once. Lists and tuples become
    lists; a value JSON cannot hold exactly (a set, an object, a dict with
    non-str keys, a cycle) is refused with its path.

    Examples:
        >>> dump = {"clazz": "Seq", "version_hash": "ab", "params": {"steps": (
        ...     {"clazz": "Scale", "version_hash": "cd", "params": {"k": 2}},)}}
        >>> copy, pins = normalize_dump(dump, lambda path, name, v: v * 20)
        >>> [(name, version[:6]) for name, version in pins]
        [('Seq', 'ababab'), ('Scale', 'cdcdcd')]
        >>> copy["params"]["steps"][0]["params"]
        {'k': 2}
    """
    pins: dict[tuple[str, str], None] = {}
    active: set[int] = set()

    def walk_component(value: object, path: str) -> dict[str, Any]:
        if id(value) in active:
            raise InvalidDumpError(path, "the dump contains itself (a cycle)")
        if len(active) >= JSON_MAX_DEPTH:
            raise InvalidDumpError(path, f"the dump nests deeper than {JSON_MAX_DEPTH} levels")
        found = component(value, path)
        active.add(id(value))
        try:
            version = None
            if found.version is not None:
                version = resolve(path, found.name, found.version)
                pins.setdefault((found.name, version), None)
            extra = {key: walk(found.extra[key], f"{path}.{key}") for key in sorted(found.extra)}
            if found.params is None:  # the class itself, not an instance
                return {"clazz": found.name, "version_hash": version, **extra}
            # Sorted, as pipeline.json stores them: the pins' order must not
            # depend on the order the params were given in.
            params = {key: walk(found.params[key], f"{path}.params.{key}") for key in sorted(found.params)}
        finally:
            active.discard(id(value))
        return {"clazz": found.name, "version_hash": version, "params": params, **extra}

    def walk(value: object, path: str) -> Any:
        if is_component(value):
            return walk_component(value, path)
        if isinstance(value, _JSON_SCALARS):
            return value
        if isinstance(value, (list, tuple, Mapping)):
            if id(value) in active:
                raise InvalidDumpError(path, "the dump contains itself (a cycle)")
            if len(active) >= JSON_MAX_DEPTH:
                raise InvalidDumpError(path, f"the dump nests deeper than {JSON_MAX_DEPTH} levels")
            active.add(id(value))
            try:
                if isinstance(value, Mapping):
                    bad = [key for key in value if not isinstance(key, str)]
                    if bad:
                        raise InvalidDumpError(path, f"key {bad[0]!r} is not a str (JSON would change it)")
                    return {key: walk(value[key], f"{path}.{key}") for key in sorted(value)}
                return [walk(item, f"{path}[{index}]") for index, item in enumerate(value)]
            finally:
                active.discard(id(value))
        raise InvalidDumpError(
            path, f"a {type(value).__name__} cannot be saved in pipeline.json (JSON values only)"
        )

    return walk_component(dump, "dump"), list(pins)


def dump_json(dump: Mapping[str, Any]) -> bytes:
    """The bytes of ``pipeline.json``: sorted keys and fixed indentation, so equal dumps are equal files."""
    return (json.dumps(dump, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
