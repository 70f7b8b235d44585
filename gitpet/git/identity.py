"""Who the commits gitpet makes are by: found the way git finds it, checked the way git checks it.

An identity line that git would reject (no ``<email>``, a newline, stray
angle brackets) must never be written: ``git fsck --strict`` would then
reject every commit, and reading the store's history fails for everyone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from gitpet.arguments import check_identity

__all__ = ["AUTHOR_ENV", "DEFAULT_AUTHOR", "configured_identity"]

AUTHOR_ENV: Final = "GITPET_AUTHOR"
DEFAULT_AUTHOR: Final = b"gitpet <gitpet@localhost>"


def configured_identity(config: Any, environ: Mapping[str, str] = os.environ) -> bytes:
    """The identity git would use.

    ``$GITPET_AUTHOR``, ``$GIT_AUTHOR_NAME``/``$GIT_AUTHOR_EMAIL``, ``user.name``/``user.email``
    from ``config`` (a dulwich config stack: the repository's, the user's global and the
    system's), else :data:`DEFAULT_AUTHOR`.

    Examples:
        >>> from dulwich.config import ConfigDict
        >>> config = ConfigDict()
        >>> config.set((b"user",), b"name", b"Ann")
        >>> config.set((b"user",), b"email", b"ann@example.org")
        >>> configured_identity(config, {})
        b'Ann <ann@example.org>'
        >>> configured_identity(ConfigDict(), {})
        b'gitpet <gitpet@localhost>'
    """
    explicit = environ.get(AUTHOR_ENV)
    if explicit:
        return check_identity(explicit, f"${AUTHOR_ENV}")
    name, email = environ.get("GIT_AUTHOR_NAME"), environ.get("GIT_AUTHOR_EMAIL")
    if name is None or email is None:
        name = name if name is not None else _config_value(config, b"name")
        email = email if email is not None else _config_value(config, b"email")
    if name is None or email is None:
        return DEFAULT_AUTHOR
    return check_identity(f"{name} <{email}>", "git user.name/user.email")


def _config_value(config: Any, key: bytes) -> str | None:
    try:
        value = config.get((b"user",), key)
    except KeyError:
        return None
    return bytes(value).decode("utf-8", "replace") if value is not None else None
