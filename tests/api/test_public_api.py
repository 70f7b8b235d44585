"""The public API is closed: every type a public method returns, or a public record holds,
is exported from ``gitpet``, and every exported name reports ``gitpet`` as its module."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from types import ModuleType

import gitpet


def _exported() -> dict[str, object]:
    return {name: getattr(gitpet, name) for name in gitpet.__all__}  # loads the lazy ones too


def _defining_module(cls: type) -> ModuleType:
    """The private module a public class is defined in (its ``__module__`` says ``gitpet``)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("gitpet.") and vars(module).get(cls.__qualname__) is cls:
            return module
    return gitpet


def _namespace(cls: type) -> dict[str, object]:
    return {**vars(_defining_module(cls)), **_exported()}


def _gitpet_types(hint: object) -> set[type]:
    found: set[type] = set()
    stack = [hint]
    while stack:
        item = stack.pop()
        if isinstance(item, type) and item.__module__.split(".")[0] == "gitpet":
            found.add(item)
        stack.extend(typing.get_args(item))
    return found


def _public_classes() -> dict[str, type]:
    return {
        name: value
        for name, value in _exported().items()
        if isinstance(value, type) and not issubclass(value, BaseException)
    }


def test_every_type_a_public_method_returns_is_exported() -> None:
    exported = {id(value) for value in _exported().values()}
    checked = 0
    leaks: list[str] = []
    for cls_name, cls in _public_classes().items():
        for name, member in vars(cls).items():
            if name.startswith("_") and name not in ("__getitem__", "__call__"):
                continue
            function = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if not inspect.isfunction(function):
                continue
            returned = typing.get_type_hints(function, globalns=_namespace(cls)).get("return")
            checked += 1
            leaks += [
                f"{cls_name}.{name} -> {kind.__qualname__}"
                for kind in _gitpet_types(returned)
                if id(kind) not in exported
            ]
    assert checked > 80
    assert leaks == []


def test_every_field_of_a_public_record_is_of_an_exported_type() -> None:
    exported = {id(value) for value in _exported().values()}
    leaks = []
    for name, record in _public_classes().items():
        if dataclasses.is_dataclass(record):
            for field, hint in typing.get_type_hints(record, globalns=_namespace(record)).items():
                leaks += [
                    f"{name}.{field}: {kind.__qualname__}"
                    for kind in _gitpet_types(hint)
                    if id(kind) not in exported
                ]
    assert leaks == []


def test_every_exported_name_reports_the_package_as_its_module() -> None:
    wrong = [
        name
        for name, value in _exported().items()
        if (isinstance(value, type) or inspect.isfunction(value)) and value.__module__ != "gitpet"
    ]
    assert wrong == []
