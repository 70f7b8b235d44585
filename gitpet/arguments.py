"""Checks of arguments at the public entry points.

A wrong type or an impossible value is an :class:`~gitpet.InvalidArgumentError`
naming the argument, never an ``AttributeError`` or ``TypeError`` from deep inside.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from gitpet.errors import InvalidArgumentError, InvalidNameError

__all__ = ["check_bool", "check_identity", "check_limit", "check_path", "check_seconds", "check_text"]


def check_text(value: object, what: str, *, optional: bool = False) -> str:
    """``value`` if it is a str that can be written as UTF-8 (no lone surrogates).

    Examples:
        >>> check_text("x", "message")
        'x'
        >>> check_text(b"x", "message")
        Traceback (most recent call last):
        ...
        gitpet.InvalidArgumentError: invalid message b'x': must be a str, not bytes
    """
    if not isinstance(value, str):
        if optional and value is None:
            return value  # type: ignore[return-value]
        kind = "a str or None" if optional else "a str"
        raise InvalidArgumentError(what, value, f"must be {kind}, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(what, value, "is not valid UTF-8 (it holds a lone surrogate)") from None
    return value


def check_bool(value: object, what: str) -> bool:
    """``value`` if it is a bool (not merely truthy: ``"no"`` is truthy)."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(what, value, f"must be True or False, not {type(value).__name__}")
    return value


def check_seconds(value: object, what: str) -> float:
    """``value`` as a float if it is a real number of seconds >= 0 (``inf`` allowed: forever).

    Examples:
        >>> check_seconds(2, "retry_for")
        2.0
        >>> check_seconds(-1, "retry_for")
        Traceback (most recent call last):
        ...
        gitpet.InvalidArgumentError: invalid retry_for -1: must be a number of seconds >= 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        raise InvalidArgumentError(what, value, "must be a number of seconds >= 0")
    return float(value)


def check_limit(value: object, what: str = "limit") -> int | None:
    """``value`` if it is None or an int >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(what, value, "must be None or an int >= 0")
    return value


def check_path(value: object, what: str) -> Path:
    """``value`` as a Path if it is a str or path-like the file system can take.

    Examples:
        >>> check_path("a\\0b", "store path")
        Traceback (most recent call last):
        ...
        gitpet.InvalidArgumentError: invalid store path 'a\\x00b': contains a NUL byte
    """
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidArgumentError(what, value, f"must be a str or a path, not {type(value).__name__}")
    try:
        text = os.fspath(value)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        encoded = os.fsencode(text)
    except (TypeError, UnicodeError):
        raise InvalidArgumentError(what, value, "cannot be encoded for this file system") from None
    if b"\0" in encoded:
        raise InvalidArgumentError(what, value, "contains a NUL byte")
    return Path(text)


# git's ident rules: a name without <, > or line breaks, one space, <email> without them.
_IDENTITY = re.compile(r"[^<>\n\r\0]*[^<>\s\0] <[^<>\n\r\0]*>")


def check_identity(line: str, source: str) -> bytes:
    """``line`` as bytes if git accepts it as an identity, else InvalidNameError naming ``source``.

    Examples:
        >>> check_identity("Jane Doe <jane@example.org>", "author")
        b'Jane Doe <jane@example.org>'
        >>> check_identity("Jane Doe", "$GITPET_AUTHOR")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.InvalidNameError: invalid $GITPET_AUTHOR name 'Jane Doe': must be 'Name <email>'...
    """
    if not isinstance(line, str) or _IDENTITY.fullmatch(line) is None:
        raise InvalidNameError(
            line,
            "must be 'Name <email>': a name, one space, an email in angle brackets, "
            "no line breaks and no other '<' or '>' (git rejects commits with anything else)",
            source,
        )
    return line.encode("utf-8")
