"""Which modules are captured by value (user code) and which by reference.

User code must travel by value: the machine that loads a class may not have
its module. Installed packages (standard library, site-packages, gitpet
itself) stay by reference: the loading machine imports them.
"""

from __future__ import annotations

import os
import site
import sys
from collections.abc import Iterable
from functools import lru_cache

from gitpet.errors import InvalidArgumentError

__all__ = ["ModulePolicy"]

_ALWAYS_BY_REFERENCE = ("gitpet", "cloudpickle", "dulwich")


def _installed_roots() -> tuple[str, ...]:
    # Asked for on the first decision, not at import: a process that only loads never decides.
    import sysconfig

    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update(site.getsitepackages() if hasattr(site, "getsitepackages") else ())
    user_site = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if isinstance(user_site, str):
        roots.add(user_site)
    # Library folders only, never a bare prefix: a project may hold its venv.
    return tuple(sorted(os.path.join(os.path.realpath(r), "") for r in roots))


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


class ModulePolicy:
    """Decides, per module name, whether its classes and functions go by value.

    Args:
        by_value: module names (and their submodules) always captured by value.
        by_reference: module names always referenced by import (installed
            packages your loading machines have, even if installed editable).

    Examples:
        >>> policy = ModulePolicy()
        >>> policy.is_by_value("json")
        False
        >>> ModulePolicy(by_value=["mylib"]).is_by_value("mylib.filters")
        True
    """

    def __init__(self, by_value: Iterable[str] = (), by_reference: Iterable[str] = ()) -> None:
        self._by_value = _module_names(by_value, "by_value")
        self._by_reference = _module_names(by_reference, "by_reference") + _ALWAYS_BY_REFERENCE
        self._installed: tuple[str, ...] | None = None
        self.is_by_value = lru_cache(maxsize=4096)(self._decide)

    def _decide(self, module_name: str) -> bool:
        if _matches(module_name, self._by_value):
            return True
        if _matches(module_name, self._by_reference):
            return False
        if module_name in sys.builtin_module_names or module_name == "builtins":
            return False
        module = sys.modules.get(module_name)
        if module is None:
            # Not importable here (exec'd namespace, loaded from the store):
            # only a by-value copy can travel.
            return True
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.origin in ("built-in", "frozen"):
            return False
        filename = getattr(module, "__file__", None)
        if filename is None:
            return module_name == "__main__" or spec is None
        if self._installed is None:
            self._installed = _installed_roots()
        return not os.path.realpath(filename).startswith(self._installed)


def _module_names(names: object, what: str) -> tuple[str, ...]:
    """Module names (or prefixes) given as an iterable of str.

    A lone str is a mistake (it would be read as its letters).
    """
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise InvalidArgumentError(what, names, "must be an iterable of module names (a list of str)")
    found = tuple(names)
    for name in found:
        if not isinstance(name, str) or not name or "\0" in name:
            raise InvalidArgumentError(what, name, "a module name is a non-empty str")
    return found
