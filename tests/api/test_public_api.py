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


def test_every_error_class_of_the_package_is_exported() -> None:
    import importlib
    import pkgutil

    defined: set[type] = set()
    for info in pkgutil.walk_packages(gitpet.__path__, "gitpet."):
        if info.name == "gitpet.__main__":
            continue  # importing it runs the command line
        module = importlib.import_module(info.name)
        defined.update(
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == "gitpet"
        )
    exported = {value for value in _exported().values() if isinstance(value, type)}
    assert len(defined) > 30
    assert sorted(cls.__qualname__ for cls in defined - exported) == []
    # Every exported error is a GitpetError below one of the category bases;
    # a warning is not an error and is a UserWarning instead.
    warnings_defined = {cls for cls in defined if issubclass(cls, Warning)}
    assert all(issubclass(cls, UserWarning) for cls in warnings_defined)
    defined -= warnings_defined
    categories = (
        gitpet.NotFoundError,
        gitpet.InvalidInputError,
        gitpet.CodecError,
        gitpet.StoreError,
        gitpet.SyncError,
        gitpet.TrustError,
    )
    uncategorised = sorted(
        cls.__qualname__
        for cls in defined
        if cls is not gitpet.GitpetError and cls not in categories and not issubclass(cls, categories)
    )
    assert uncategorised == []


def test_every_error_says_which_class_and_version_it_is_about_in_the_same_attributes() -> None:
    vid = "3f2a91" + "0" * 34
    about_a_version = [
        gitpet.VersionNotFoundError("Model", "v9", "no such tag"),
        gitpet.AmbiguousVersionError("Model", "3f2a91c", [vid, "3f2a91c" + "1" * 33]),
        gitpet.WrongClassVersionError("Model", "3f2a91c", "Other"),
        gitpet.SnapshotNotFoundError("Model", "~5", "has only 2"),
        gitpet.IncompatiblePythonError("Model", vid, "3.10", "3.11"),
        gitpet.MissingDependencyError("Model", vid, ImportError(name="lightgbm")),
        gitpet.UntrustedVersionError("Model", vid, "fetched"),
        gitpet.TagExistsError("Model", "v1", vid),
    ]
    about_a_class = [
        gitpet.ClassNotFoundError("Model"),
        gitpet.PipelineNotFoundError("Model"),
        gitpet.InvalidNameError("Model", "is taken"),
        gitpet.UnpicklableClassError("Model", "Model.lock", "a lock"),
        gitpet.StaleSourceError("Model", "models.py", "changed"),
    ]
    about_neither = [
        gitpet.IntegrityError(vid, "damaged"),
        gitpet.StoreBusyError("refs/heads/Model", 30.0),
        gitpet.RemoteError("origin", "unreachable"),
        gitpet.InvalidArgumentError("limit", -1, "must be >= 0"),
        gitpet.SigningError("no ssh-keygen"),
    ]
    assert [(err.name, err.version) for err in about_a_version] == [
        ("Model", "v9"),
        ("Model", "3f2a91c"),
        ("Model", "3f2a91c"),
        ("Model", "~5"),
        ("Model", vid),
        ("Model", vid),
        ("Model", vid),
        ("Model", vid),
    ]
    assert [(err.name, err.version) for err in about_a_class] == [("Model", None)] * len(about_a_class)
    assert [(err.name, err.version) for err in about_neither] == [(None, None)] * len(about_neither)
    assert gitpet.UnsupportedClassError(int, "builtin").name == "int"
    assert gitpet.InvalidNameError(3, "not a str").name == "3"
