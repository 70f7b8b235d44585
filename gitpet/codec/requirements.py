"""Which installed distributions provide the modules a pickle imports, and whether this process has them.

Looking a module up is cheap when the distribution has the module's name
(``numpy``); otherwise (``sklearn`` from ``scikit-learn``, ``yaml`` from
``PyYAML``) the installed distributions' file lists are read once per process.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterable
from types import ModuleType

from gitpet.format.requirements import Requirement

__all__ = ["installed_requirements", "requirement_problems"]

_LOCK = threading.Lock()
_BY_MODULE: dict[str, tuple[str, str] | None] = {}
_PACKAGES: dict[str, list[str]] | None = None
# Never recorded: Python itself, and the package that wrote the pickle.
_NOT_DISTRIBUTIONS = frozenset({*sys.stdlib_module_names, "builtins", "__main__", "gitpet"})


def _metadata() -> ModuleType:
    """:mod:`importlib.metadata`, imported when first needed.

    With the email package it brings it was a sixth of what importing gitpet cost,
    and a process that loads versions recording no packages never needs it.
    """
    return importlib.import_module("importlib.metadata")


def installed_requirements(modules: Iterable[str]) -> tuple[Requirement, ...]:
    """The installed distribution (and version) of each top-level package among ``modules``.

    Modules of no installed distribution (the standard library, your own code) are skipped.

    Examples:
        >>> [r.distribution for r in installed_requirements(["json", "dulwich.objects"])]
        ['dulwich']
    """
    found: dict[str, Requirement] = {}
    for module in sorted({name.partition(".")[0] for name in modules} - _NOT_DISTRIBUTIONS):
        provided = _distribution_of(module)
        if provided is not None:
            found.setdefault(provided[0], Requirement(provided[0], provided[1], module))
    return tuple(found.values())


def requirement_problems(requirements: Iterable[Requirement]) -> list[str]:
    """What this process lacks, or has at another major.minor release, of what a version needs.

    Examples:
        >>> [problem] = requirement_problems([Requirement("surely-not-installed", "1.0", "surely_not")])
        >>> problem.endswith("not installed here: pip install 'surely-not-installed==1.0'")
        True
    """
    problems = []
    for requirement in requirements:
        metadata = _metadata()
        try:
            here = metadata.version(requirement.distribution)
        except metadata.PackageNotFoundError:
            problems.append(
                f"it was pushed with {requirement.distribution} {requirement.version} "
                f"(import {requirement.module}), which is not installed here: "
                f"pip install '{requirement.distribution}=={requirement.version}'"
            )
            continue
        if _major_minor(here) != _major_minor(requirement.version):
            pin = f"{requirement.distribution}=={requirement.version}"
            problems.append(
                f"it was pushed with {requirement.distribution} {requirement.version}, and this process "
                f"has {here}: behaviour may differ (pip install '{pin}')"
            )
    return problems


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _distribution_of(module: str) -> tuple[str, str] | None:
    with _LOCK:
        if module in _BY_MODULE:
            return _BY_MODULE[module]
    found: tuple[str, str] | None = None
    metadata = _metadata()
    try:
        distribution = metadata.distribution(module)
        found = (distribution.metadata["Name"] or module, distribution.version)
    except metadata.PackageNotFoundError:
        names = _packages().get(module)
        if names:
            try:
                found = (names[0], metadata.version(names[0]))
            except metadata.PackageNotFoundError:
                found = None
    with _LOCK:
        _BY_MODULE[module] = found
    return found


def _packages() -> dict[str, list[str]]:
    global _PACKAGES
    with _LOCK:
        if _PACKAGES is None:
            _PACKAGES = dict(_metadata().packages_distributions())
        return _PACKAGES
