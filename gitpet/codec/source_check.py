"""The answer to whether a version's text builds its class (made by :mod:`gitpet.codec.from_source`).

Kept apart from the build itself, which imports the encoding modules, so
that a process that only loads versions can name it without them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceCheck"]


@dataclass(frozen=True)
class SourceCheck:
    """Whether a class's text builds a class that pickles to its ``class.pkl``; if not, why.

    ``checked``: False when there was nothing to compare (a version that is not
    source-complete, or pickled by another Python minor); ``reason`` says which.

    Examples:
        >>> SourceCheck(True)
        SourceCheck(complete=True, reason='', checked=True)
    """

    complete: bool
    reason: str = ""
    checked: bool = True
