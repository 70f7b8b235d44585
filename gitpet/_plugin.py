"""BasePlugin: components that dump themselves with exact class versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitpet._codec import loaded_version
from gitpet._errors import InvalidDumpError
from gitpet._factory import BaseFactory, PetFactory

__all__ = ["BasePlugin"]

_DUMP_KEYS = frozenset({"clazz", "version_hash", "params"})


class BasePlugin:
    """Base class of pipeline components; ``super().__init__(**params)`` records params.

    Example:
        >>> class Threshold(BasePlugin):
        ...     def __init__(self, value=0.5):
        ...         super().__init__(value=value)
        >>> Threshold(0.3).item_dump(BaseFactory())
        {'clazz': 'Threshold', 'version_hash': None, 'params': {'value': 0.3}}
    """

    def __init__(self, **params: Any) -> None:
        self._gitpet_params = dict(params)

    def get_params(self) -> dict[str, Any]:
        """The keyword arguments this plugin was built with."""
        return dict(getattr(self, "_gitpet_params", {}))

    def item_dump(self, factory: BaseFactory | None = None) -> dict[str, Any]:
        """``{"clazz", "version_hash", "params"}``, nested plugins dumped too.

        The version is the one ``factory`` (default ``Container.ppif``) records
        for this class, or the stored version it was loaded from; ``None`` for
        classes that are not versioned (framework classes).
        """
        if factory is None:
            from gitpet._container import Container

            factory = Container.ppif
        cls = type(self)
        info = loaded_version(cls)
        name = factory.name_of(cls) or (info.name if info else cls.__name__)
        version: str | None = None
        if isinstance(factory, PetFactory) and name in factory.version_control:
            version = factory.hash_of(cls, name)
        elif info is not None:
            version = info.version_id
        params = {k: _dump_value(v, factory) for k, v in self.get_params().items()}
        return {"clazz": name, "version_hash": version, "params": params}

    @staticmethod
    def build_from_dump(dump: Mapping[str, Any], factory: BaseFactory) -> Any:
        """Rebuild a plugin (and nested ones) from its dump, with the exact versions."""
        return _build(dump, factory, "dump", set())


def _dump_value(value: Any, factory: BaseFactory) -> Any:
    if isinstance(value, BasePlugin):
        return value.item_dump(factory)
    if isinstance(value, (list, tuple)):
        return [_dump_value(v, factory) for v in value]
    if isinstance(value, dict):
        return {k: _dump_value(v, factory) for k, v in value.items()}
    return value


def _build(dump: Any, factory: BaseFactory, path: str, active: set[int]) -> Any:
    if not isinstance(dump, Mapping):
        raise InvalidDumpError(path, f"expected a mapping, got {type(dump).__name__}")
    if id(dump) in active:
        raise InvalidDumpError(path, "the dump contains itself (a cycle)")
    unknown = set(dump) - _DUMP_KEYS
    if unknown:
        raise InvalidDumpError(path, f"unknown keys {sorted(map(str, unknown))}")
    name = dump.get("clazz")
    if not isinstance(name, str) or not name:
        raise InvalidDumpError(path, f"'clazz' must be a non-empty str, got {name!r}")
    version = dump.get("version_hash")
    if version is not None and not isinstance(version, str):
        raise InvalidDumpError(path, f"'version_hash' must be a str or None, got {version!r}")
    params = dump.get("params", {})
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise InvalidDumpError(path, "'params' must be a mapping with str keys")
    active.add(id(dump))
    try:
        if version and isinstance(factory, PetFactory):
            cls = factory.get_version(name, version)
        else:
            cls = factory[name]
        built = {k: _build_value(v, factory, f"{path}.params.{k}", active) for k, v in params.items()}
    finally:
        active.discard(id(dump))
    return cls(**built)


def _build_value(value: Any, factory: BaseFactory, path: str, active: set[int]) -> Any:
    if isinstance(value, Mapping) and "clazz" in value:
        return _build(value, factory, path, active)
    if isinstance(value, (list, tuple)):
        if id(value) in active:
            raise InvalidDumpError(path, "the dump contains itself (a cycle)")
        active.add(id(value))
        try:
            return [_build_value(v, factory, f"{path}[{i}]", active) for i, v in enumerate(value)]
        finally:
            active.discard(id(value))
    if isinstance(value, Mapping):
        if id(value) in active:
            raise InvalidDumpError(path, "the dump contains itself (a cycle)")
        active.add(id(value))
        try:
            return {k: _build_value(v, factory, f"{path}.{k}", active) for k, v in value.items()}
        finally:
            active.discard(id(value))
    return value
