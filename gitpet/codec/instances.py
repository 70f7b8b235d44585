"""Instances of loaded classes pickle as *version V of class N, plus their state*.

A loaded class is not importable by its ``__module__`` and ``__qualname__``
(the module may not exist here, or hold another version), so the standard
pickle fails on its instances. For each class gitpet loads,
:func:`pickle_by_version` registers a reducer with :mod:`copyreg`, whose
dispatch table the standard pickle, joblib, multiprocessing (fork and spawn)
and cloudpickle all consult for an object's exact type. The reducer takes
the instance's own reduction (its ``__reduce_ex__``, so ``__getstate__``,
``__getnewargs__`` and a class's own ``__reduce__`` are honoured) and
replaces the class it names by a call of :mod:`gitpet.pinned`, which loads
that version where the pickle is read.

Only instances of the exact loaded class are reduced so: an instance of a
subclass defined in ordinary code pickles as before.
"""

from __future__ import annotations

import copyreg
from typing import Any

import gitpet.pinned as pinned

__all__ = ["pickle_by_version"]

# The protocol whose reduction is rewritten: the one that names ``copyreg.__newobj__``
# (or ``__newobj_ex__`` for ``__getnewargs_ex__``), which every protocol can write.
_REDUCE_PROTOCOL = 4
# What ``object.__reduce_ex__`` names to make an instance (public functions typeshed omits).
_NEWOBJ = getattr(copyreg, "__newobj__")  # noqa: B009
_NEWOBJ_EX = getattr(copyreg, "__newobj_ex__")  # noqa: B009


def pickle_by_version(cls: type, name: str, version: str) -> None:
    """Make instances of ``cls`` (version ``version`` of class ``name``) pickle by that version.

    Examples:
        >>> import pickle
        >>> version = pcm.push(Model)
        >>> Loaded = pcm.pull("Model", version)
        >>> again = pickle.loads(pickle.dumps(Loaded()))
        >>> type(again) is Loaded
        True
    """

    def reduce_pinned(obj: Any) -> Any:
        return _pinned_reduction(obj, cls, name, version)

    copyreg.pickle(cls, reduce_pinned)


def _pinned_reduction(obj: Any, cls: type, name: str, version: str) -> Any:
    reduced = obj.__reduce_ex__(_REDUCE_PROTOCOL)
    if isinstance(reduced, str):
        return reduced
    make, args, *rest = reduced
    if make is _NEWOBJ and args and args[0] is cls:
        return (pinned.new_instance, (name, version, *args[1:]), *rest)
    if make is _NEWOBJ_EX and args and args[0] is cls:
        return (pinned.new_instance_ex, (name, version, tuple(args[1]), dict(args[2])), *rest)
    if make is cls:
        return (pinned.called_class, (name, version, tuple(args)), *rest)
    return reduced  # the class's own reduction names something else: kept as it is
