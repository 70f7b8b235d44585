"""BasePlugin: components that dump themselves with exact class versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitpet.codec.classcodec import loaded_version
from gitpet.errors import InvalidArgumentError, InvalidDumpError
from gitpet.factory.defaults import DEFAULT_FACTORY
from gitpet.factory.factory import BaseFactory, PetFactory
from gitpet.format.dumps import component, is_component

__all__ = ["BasePlugin", "dump_with_classes"]


class BasePlugin:
    """Base class of pipeline components; ``super().__init__(**params)`` records params.

    Examples:
        >>> class Threshold(BasePlugin):
        ...     def __init__(self, value=0.5):
        ...         super().__init__(value=value)
        >>> Threshold(0.3).item_dump(BaseFactory())
        {'clazz': 'Threshold', 'version_hash': None, 'params': {'value': 0.3}}
    """

    def __init__(self, **params: Any) -> None:
        self._gitpet_params = dict(params)

    def get_params(self) -> dict[str, Any]:
        """The keyword arguments this plugin was built with.

        Examples:
            >>> from gitpet import BaseFactory, BasePlugin
            >>> class Scale(BasePlugin):
            ...     def __init__(self, k=1):
            ...         super().__init__(k=k)
            ...         self.k = k
            >>> Scale(3).get_params()
            {'k': 3}
        """
        return dict(getattr(self, "_gitpet_params", {}))

    def item_dump(self, factory: BaseFactory | None = None) -> dict[str, Any]:
        """``{"clazz", "version_hash", "params"}``, nested plugins dumped too.

        The version is the one ``factory`` (default ``Container.ppif``) records
        for this class, or the stored version it was loaded from; ``None`` for
        classes that are not versioned (framework classes).

        Examples:
            >>> from gitpet import BaseFactory, BasePlugin
            >>> class Scale(BasePlugin):
            ...     def __init__(self, k=1):
            ...         super().__init__(k=k)
            ...         self.k = k
            >>> Scale(3).item_dump(BaseFactory())
            {'clazz': 'Scale', 'version_hash': None, 'params': {'k': 3}}
        """
        return _dump(self, _default_factory(factory), None)

    @staticmethod
    def build_from_dump(dump: Mapping[str, Any], factory: BaseFactory) -> Any:
        """Rebuild a plugin (and nested ones) from its dump, with the exact versions.

        Examples:
            >>> from gitpet import BaseFactory, BasePlugin
            >>> class Scale(BasePlugin):
            ...     def __init__(self, k=1):
            ...         super().__init__(k=k)
            ...         self.k = k
            >>> factory = BaseFactory()
            >>> factory["Scale"] = Scale
            >>> dump = {"clazz": "Scale", "version_hash": None, "params": {"k": 4}}
            >>> BasePlugin.build_from_dump(dump, factory).k
            4
        """
        if not isinstance(factory, BaseFactory):
            raise InvalidArgumentError("factory", factory, "must be a BaseFactory (or PetFactory)")
        if isinstance(factory, PetFactory):
            # Every class the dump pins that is not here yet arrives in one fetch, not one each.
            factory.prefetch(_pins(dump, set()))
        return _build(dump, factory, "dump", set())


def _default_factory(factory: BaseFactory | None) -> BaseFactory:
    return factory if factory is not None else DEFAULT_FACTORY.get()


def dump_with_classes(
    plugin: BasePlugin, factory: BaseFactory
) -> tuple[dict[str, Any], list[tuple[str, type, str | None]]]:
    """``plugin.item_dump(factory)``, and each component's ``(name, class, version)`` in dump order."""
    found: list[tuple[str, type, str | None]] = []
    return _dump(plugin, factory, found), found


def _dump(
    plugin: BasePlugin, factory: BaseFactory, found: list[tuple[str, type, str | None]] | None
) -> dict[str, Any]:
    cls = type(plugin)
    info = loaded_version(cls)
    name = factory.name_of(cls) or (info.name if info else cls.__name__)
    version: str | None = None
    if isinstance(factory, PetFactory) and name in factory.version_control:
        version = factory.hash_of(cls, name)
    elif info is not None:
        version = info.version_id
    if found is not None:
        found.append((name, cls, version))
    params = {k: _dump_value(v, factory, found) for k, v in plugin.get_params().items()}
    return {"clazz": name, "version_hash": version, "params": params}


def _dump_value(value: Any, factory: BaseFactory, found: list[tuple[str, type, str | None]] | None) -> Any:
    if isinstance(value, BasePlugin):
        return _dump(value, factory, found)
    if isinstance(value, (list, tuple)):
        return [_dump_value(v, factory, found) for v in value]
    if isinstance(value, dict):
        return {k: _dump_value(v, factory, found) for k, v in value.items()}
    return value


def _pins(value: Any, active: set[int]) -> list[tuple[str, str]]:
    """Each ``(clazz, version_hash)`` a dump pins, in order (a malformed part is left to the build)."""
    if id(value) in active or not isinstance(value, (Mapping, list, tuple)):
        return []
    active.add(id(value))
    found: list[tuple[str, str]] = []
    items = value.values() if isinstance(value, Mapping) else value
    if isinstance(value, Mapping):
        name, version = value.get("clazz"), value.get("version_hash")
        if isinstance(name, str) and isinstance(version, str):
            found.append((name, version))
    for item in items:
        found.extend(_pins(item, active))
    return found


def _build(dump: Any, factory: BaseFactory, path: str, active: set[int]) -> Any:
    if id(dump) in active:
        raise InvalidDumpError(path, "the dump contains itself (a cycle)")
    found = component(dump, path)
    active.add(id(dump))
    try:
        if found.version and isinstance(factory, PetFactory):
            cls = factory.get_version(found.name, found.version)
        else:
            cls = factory[found.name]
        built = {k: _build_value(v, factory, f"{path}.params.{k}", active) for k, v in found.params.items()}
    finally:
        active.discard(id(dump))
    return cls(**built)


def _build_value(value: Any, factory: BaseFactory, path: str, active: set[int]) -> Any:
    if is_component(value):
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
