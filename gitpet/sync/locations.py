"""Where a remote is: a URL, or a local path made absolute; shown without its password."""

from __future__ import annotations

import os

__all__ = ["describe_location", "is_url", "normalize_location"]


def is_url(location: str) -> bool:
    """Whether ``location`` is a URL or ``host:path`` rather than a local path.

    Examples:
        >>> [is_url(x) for x in ("git://h/r", "user@host:r.git", "../shared/store", "/srv/store")]
        [True, True, False, False]
    """
    if "://" in location:
        return True
    colon = location.find(":")
    slash = location.find("/")
    # git's rule: scp-like syntax has a colon before any slash.
    return colon > 0 and (slash == -1 or colon < slash) and not (len(location) > 1 and location[1] == ":")


def normalize_location(location: str) -> str:
    """A URL unchanged; a local path made absolute (so it means the same from anywhere)."""
    if is_url(location):
        return location
    return os.path.abspath(os.path.expanduser(location))


def describe_location(location: str) -> str:
    """The location without any password it may carry, for messages."""
    scheme, sep, rest = location.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        credentials, _, host = rest.partition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else location
    return location
