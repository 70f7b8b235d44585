"""Pure validation of names and version ids, called before anything is written."""

from __future__ import annotations

import re

from gitpet._errors import InvalidNameError, VersionNotFoundError

__all__ = [
    "CLASS_REF_PREFIX",
    "PIPELINE_NAMESPACE",
    "check_class_name",
    "class_ref",
    "normalize_version_id",
]

CLASS_REF_PREFIX = b"refs/heads/"
PIPELINE_NAMESPACE = "pipelines"
_RESERVED = frozenset({PIPELINE_NAMESPACE, "HEAD", "FETCH_HEAD", "ORIG_HEAD", "@"})
_MAX_NAME_LENGTH = 200
# git check-ref-format rules for one component, plus '/' (a class is one component).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\/]")
_HEX = re.compile(r"[0-9a-f]+")
MIN_PREFIX = 7
FULL_ID = 40


def check_class_name(name: object) -> str:
    """Return ``name`` if it can be a class name in the store, else raise.

    A class name becomes the ref ``refs/heads/<name>``, so it must be a single
    git ref component that plain git commands will not misread.

    Example:
        >>> check_class_name("MyFilter")
        'MyFilter'
        >>> check_class_name("a/b")
        Traceback (most recent call last):
        ...
        gitpet._errors.InvalidNameError: invalid class name 'a/b': contains '/', ...
    """
    if not isinstance(name, str):
        raise InvalidNameError(name, f"must be a str, not {type(name).__name__}")
    if not name:
        raise InvalidNameError(name, "is empty")
    if len(name) > _MAX_NAME_LENGTH:
        raise InvalidNameError(name, f"is longer than {_MAX_NAME_LENGTH} characters")
    bad = _FORBIDDEN_CHARS.search(name)
    if bad:
        char = bad.group()
        if char == "/":
            raise InvalidNameError(name, "contains '/', which would nest refs; use a flat name")
        raise InvalidNameError(name, f"contains {char!r}, which git does not allow in a ref name")
    if name in _RESERVED:
        raise InvalidNameError(name, "is reserved by gitpet or git")
    if name.startswith((".", "-")):
        raise InvalidNameError(name, "must not start with '.' or '-'")
    if name.endswith((".", ".lock")):
        raise InvalidNameError(name, "must not end with '.' or '.lock'")
    if ".." in name or "@{" in name:
        raise InvalidNameError(name, "must not contain '..' or '@{'")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidNameError(name, "is not valid UTF-8") from err
    return name


def class_ref(name: str) -> bytes:
    """The ref holding the latest version of class ``name`` (already checked)."""
    return CLASS_REF_PREFIX + name.encode("utf-8")


def normalize_version_id(name: str, version: object) -> str:
    """Lower-case hex of a version id or prefix; raise if it cannot be one.

    Example:
        >>> normalize_version_id("MyFilter", "ABCDEF0")
        'abcdef0'
    """
    if not isinstance(version, str):
        raise VersionNotFoundError(
            name, repr(version), f"a version id is a str, not {type(version).__name__}"
        )
    lowered = version.strip().lower()
    if not MIN_PREFIX <= len(lowered) <= FULL_ID or not _HEX.fullmatch(lowered):
        raise VersionNotFoundError(
            name,
            version,
            f"a version id is {MIN_PREFIX} to {FULL_ID} hexadecimal characters",
        )
    return lowered
