"""What a class's pickle read from its module, to tell cheaply when pickling again would differ.

Kept apart from :mod:`gitpet.codec.pickler`, which makes these, so that a
process that only loads versions does not import the pickler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["GlobalReads", "class_parts"]

_UNBOUND = object()


@dataclass(frozen=True)
class GlobalReads:
    """The module globals a pickle read (each ``(namespace, name, value)``), to tell when it is stale.

    ``settled`` is False when the pickle holds a value that can change in place (a
    list, a dict, an array, an instance): only pickling again can tell whether it did.

    Examples:
        >>> SCALE = 2
        >>> reads = GlobalReads(((globals(), "SCALE", SCALE),), settled=True)
        >>> reads.unchanged()
        True
        >>> SCALE = 3
        >>> reads.unchanged()
        False
    """

    bindings: tuple[tuple[dict[str, Any], str, object], ...]
    settled: bool
    classes: tuple[tuple[type, tuple[object, ...]], ...] = ()
    """Each class pickled by value, with its bases and own attributes as they were."""

    def unchanged(self) -> bool:
        """Whether pickling again would read the same objects, none of which can change in place.

        Examples:
            >>> GlobalReads((), settled=False).unchanged()  # it read a list: only pickling tells
            False
        """
        return (
            self.settled
            and all(namespace.get(name, _UNBOUND) is value for namespace, name, value in self.bindings)
            and all(_same(class_parts(cls), parts) for cls, parts in self.classes)
        )


def class_parts(cls: type) -> tuple[object, ...]:
    """A class's bases and own attributes (names and values), as :class:`GlobalReads` compares them."""
    return (*cls.__bases__, *(item for pair in vars(cls).items() for item in pair))


def _same(now: tuple[object, ...], then: tuple[object, ...]) -> bool:
    return len(now) == len(then) and all(a is b for a, b in zip(now, then, strict=True))
