"""BasePlugin: components that dump themselves with exact class versions."""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gitpet.codec.classcodec import loaded_version
from gitpet.errors import ClassNotFoundError, InvalidArgumentError, InvalidDumpError
from gitpet.factory.defaults import DEFAULT_FACTORY
from gitpet.factory.factory import BaseFactory, PetFactory
from gitpet.format.dumps import component, is_component

__all__ = ["BasePlugin", "dump_with_classes"]


class BasePlugin:
    """Base class of pipeline components: the ``__init__`` params are what a dump records.

    As in labchain, every param ``__init__`` is called with becomes a public attribute
    of the same name before ``__init__`` runs, and :meth:`item_dump` records each
    param's current attribute value: reassigning ``plugin.k`` later changes the dump.
    Params starting with ``_`` become attributes too but stay out of ``params``
    (:meth:`item_dump` ``include=`` adds them). Calling ``super().__init__(**params)``
    is optional; what it passes wins.

    Examples:
        >>> class Threshold(BasePlugin):
        ...     def __init__(self, value=0.5):
        ...         pass
        >>> plugin = Threshold(0.3)
        >>> plugin.value
        0.3
        >>> plugin.value = 0.4
        >>> plugin.item_dump(BaseFactory())
        {'clazz': 'Threshold', 'version_hash': None, 'params': {'value': 0.4}}
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Bind the call's arguments to ``__init__``'s params and set them as attributes."""
        instance = super().__new__(cls)
        params, private = _init_params(cls, args, kwargs)
        instance.__dict__["_gitpet_params"] = params
        for name, value in {**params, **private}.items():
            # A read-only property of that name: the param is still recorded.
            with contextlib.suppress(AttributeError):
                setattr(instance, name, value)
        return instance

    def __init__(self, **params: Any) -> None:
        recorded = self.__dict__.setdefault("_gitpet_params", {})
        recorded.update(params)

    def get_params(self) -> dict[str, Any]:
        """Each ``__init__`` param, with the current value of its attribute.

        Examples:
            >>> from gitpet import BaseFactory, BasePlugin
            >>> class Scale(BasePlugin):
            ...     def __init__(self, k=1):
            ...         super().__init__(k=k)
            ...         self.k = k
            >>> Scale(3).get_params()
            {'k': 3}
        """
        recorded: dict[str, Any] = self.__dict__.get("_gitpet_params", {})
        return {name: getattr(self, name, value) for name, value in recorded.items()}

    def item_dump(
        self, factory: BaseFactory | Sequence[str] | None = None, include: Sequence[str] = ()
    ) -> dict[str, Any]:
        """``{"clazz", "version_hash", "params"}``, nested plugins dumped too; always JSON.

        The version is the one ``factory`` (default ``Container.ppif``) records
        for this class, or the stored version it was loaded from; ``None`` for
        classes that are not versioned (framework classes). Values become JSON:
        numpy scalars and arrays become numbers and lists, tuples lists, a class
        ``{"clazz", "version_hash"}`` (which :meth:`build_from_dump` turns back
        into the class); anything else JSON cannot hold is refused
        (:class:`InvalidDumpError`) rather than dumped lossily.

        ``include``: names of ``_``-prefixed attributes to add beside ``params``, as
        labchain's ``item_dump(include=[...])`` (also accepted as the first argument).

        Examples:
            >>> from gitpet import BaseFactory, BasePlugin
            >>> class Scale(BasePlugin):
            ...     def __init__(self, k=1, _seed=0):
            ...         pass
            >>> Scale(3, _seed=7).item_dump(BaseFactory(), include=["_seed"])
            {'clazz': 'Scale', 'version_hash': None, 'params': {'k': 3}, '_seed': 7}
        """
        if isinstance(factory, Sequence) and not isinstance(factory, BaseFactory):
            if include:
                raise InvalidArgumentError("include", include, "given twice (as the first argument too)")
            include, factory = factory, None
        names = _include_names(include)
        used = _default_factory(factory if isinstance(factory, BaseFactory) or factory is None else None)
        dump = _dump(self, used, None)
        for name in names:
            if not hasattr(self, name):
                raise InvalidArgumentError("include", name, f"{type(self).__name__} has no attribute {name}")
            dump[name] = _dump_value(getattr(self, name), used, None, f"dump.{name}")
        return dump

    @staticmethod
    def build_from_dump(dump: Mapping[str, Any], factory: Any) -> Any:
        """Rebuild a plugin (and nested ones) from its dump, with the exact versions.

        ``factory`` is a :class:`PetFactory` or :class:`BaseFactory`, or any object with
        labchain's ``get_version(name, version)`` and ``get(name)``. An entry without
        ``params`` (a class-valued param) gives the class itself, not an instance. A class
        found nowhere is :class:`ClassNotFoundError` (also a ``ValueError``).

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
            >>> BasePlugin.build_from_dump({"clazz": "Scale", "version_hash": None}, factory) is Scale
            True
        """
        if not (
            isinstance(factory, BaseFactory)
            or callable(getattr(factory, "get_version", None))
            or callable(getattr(factory, "get", None))
        ):
            raise InvalidArgumentError(
                "factory", factory, "must be a BaseFactory (or PetFactory), or have get_version() and get()"
            )
        if isinstance(factory, PetFactory):
            # Every class the dump pins that is not here yet arrives in one fetch, not one each.
            factory.prefetch(_pins(dump, set()))
        return _build(dump, factory, "dump", set())


_SIGNATURES: weakref.WeakKeyDictionary[type, inspect.Signature | None] = weakref.WeakKeyDictionary()


def _init_signature(cls: type) -> inspect.Signature | None:
    if cls not in _SIGNATURES:
        try:
            _SIGNATURES[cls] = inspect.signature(inspect.getattr_static(cls, "__init__"))
        except (TypeError, ValueError):
            _SIGNATURES[cls] = None
    return _SIGNATURES[cls]


def _init_params(
    cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The public and the ``_``-prefixed params a call of ``cls`` binds (defaults applied)."""
    signature = _init_signature(cls)
    if signature is None:
        return dict(kwargs), {}
    try:
        bound = signature.bind_partial(None, *args, **kwargs)
    except TypeError:
        return {}, {}  # __init__ will raise the same TypeError, with Python's message
    bound.apply_defaults()
    public: dict[str, Any] = {}
    private: dict[str, Any] = {}
    parameters = list(signature.parameters.values())
    for parameter in parameters[1:]:
        if parameter.name not in bound.arguments or parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        value = bound.arguments[parameter.name]
        given: dict[str, Any] = (
            value if parameter.kind is inspect.Parameter.VAR_KEYWORD else {parameter.name: value}
        )
        for name, item in given.items():
            (private if name.startswith("_") else public)[name] = item
    return public, private


def _include_names(include: object) -> list[str]:
    if isinstance(include, (str, bytes)) or not isinstance(include, Iterable):
        raise InvalidArgumentError("include", include, "must be a list of attribute names")
    names = list(include)
    for name in names:
        if not (isinstance(name, str) and name.startswith("_") and name.isidentifier()):
            raise InvalidArgumentError(
                "include", name, "must name a _-prefixed attribute (params are dumped already)"
            )
    return names


def _default_factory(factory: BaseFactory | None) -> BaseFactory:
    return factory if factory is not None else DEFAULT_FACTORY.get()


def dump_with_classes(
    plugin: BasePlugin, factory: BaseFactory
) -> tuple[dict[str, Any], list[tuple[str, type, str | None]]]:
    """``plugin.item_dump(factory)``, and each component's ``(name, class, version)`` in dump order."""
    found: list[tuple[str, type, str | None]] = []
    return _dump(plugin, factory, found), found


Found = list[tuple[str, type, str | None]]


def _class_entry(cls: type, factory: BaseFactory, found: Found | None) -> dict[str, Any]:
    """``{"clazz", "version_hash"}`` of a class: its registered name and version, as a plugin's."""
    info = loaded_version(cls)
    name = factory.name_of(cls) or (info.name if info else cls.__name__)
    version: str | None = None
    if isinstance(factory, PetFactory) and name in factory.version_control:
        version = factory.hash_of(cls, name)
    elif info is not None:
        version = info.version_id
    if found is not None:
        found.append((name, cls, version))
    return {"clazz": name, "version_hash": version}


def _dump(plugin: BasePlugin, factory: BaseFactory, found: Found | None) -> dict[str, Any]:
    entry = _class_entry(type(plugin), factory, found)
    params = {k: _dump_value(v, factory, found, f"dump.params.{k}") for k, v in plugin.get_params().items()}
    return {**entry, "params": params}


def _dump_value(value: Any, factory: BaseFactory, found: Found | None, path: str) -> Any:
    if isinstance(value, BasePlugin):
        return _dump(value, factory, found)
    if isinstance(value, type):
        return _class_entry(value, factory, found)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_dump_value(v, factory, found, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            raise InvalidDumpError(path, f"key {bad[0]!r} is not a str (JSON would change it)")
        return {k: _dump_value(v, factory, found, f"{path}.{k}") for k, v in value.items()}
    if type(value).__module__ == "numpy" and callable(getattr(value, "tolist", None)):
        # A numpy scalar becomes its Python number, an array nested lists of them.
        return _dump_value(value.tolist(), factory, found, path)
    raise InvalidDumpError(
        path,
        f"a {type(value).__module__}.{type(value).__qualname__} cannot be dumped as JSON; make the "
        "param a plugin, a class, or plain values (numbers, str, lists, dicts)",
    )


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
        cls = _class_of(found.name, found.version, factory)
        if found.params is None:
            return cls
        built = {k: _build_value(v, factory, f"{path}.params.{k}", active) for k, v in found.params.items()}
    finally:
        active.discard(id(dump))
    return cls(**built)


def _class_of(name: str, version: str | None, factory: Any) -> type:
    """The class a component names: its pinned version when the factory has them, else by name."""
    if version and callable(getattr(factory, "get_version", None)):
        cls = factory.get_version(name, version)
    elif isinstance(factory, BaseFactory):
        cls = factory[name]
    else:
        cls = factory.get(name)
    if cls is None:
        raise ClassNotFoundError(name, f"factory {factory!r}")
    return cls  # type: ignore[no-any-return]


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
