"""Reading git objects that are what their id says (pure functions over an object store).

dulwich's ``get_raw`` returns whatever bytes a loose file or pack holds; a
loose file replaced by other valid content comes back without complaint.
Everything gitpet loads therefore goes through :func:`find_object`, which
hashes the content again, parses it and runs git's format checks, and turns
every way a read can fail into :class:`~gitpet.IntegrityError`.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

from dulwich.errors import ApplyDeltaError, ChecksumMismatch, ObjectFormatException
from dulwich.object_store import BaseObjectStore
from dulwich.objects import ObjectID, ShaFile, object_class

from gitpet._errors import IntegrityError

__all__ = ["READ_ERRORS", "content_id", "find_object", "read_object"]

# What dulwich raises on a damaged loose file or pack (its pack reader
# reports some truncations with assert).
READ_ERRORS: tuple[type[Exception], ...] = (
    ChecksumMismatch,
    ApplyDeltaError,
    ObjectFormatException,
    zlib.error,
    struct.error,
    AssertionError,
    EOFError,
    OSError,
    ValueError,
    IndexError,
)


def content_id(type_name: bytes, raw: bytes) -> bytes:
    """The git object id of content ``raw`` of type ``type_name``.

    Example:
        >>> content_id(b"blob", b"")
        b'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    header = type_name + b" " + str(len(raw)).encode("ascii") + b"\0"
    return hashlib.sha1(header + raw).hexdigest().encode("ascii")


def find_object(objects: BaseObjectStore, sha: bytes) -> ShaFile | None:
    """The object ``sha``, checked; None if the store does not have it.

    Raises:
        IntegrityError: it is stored but unreadable, its content hashes to
            another id, or it is malformed.
    """
    where = sha.decode("ascii", "replace")
    try:
        type_num, raw = objects.get_raw(ObjectID(sha))
    except KeyError:
        return None
    except READ_ERRORS as err:
        raise IntegrityError(where, f"object cannot be read: {type(err).__name__}: {err}") from err
    cls = object_class(type_num)
    if cls is None:
        raise IntegrityError(where, f"object has unknown type {type_num}")
    actual = content_id(cls.type_name, raw)
    if actual != sha:
        raise IntegrityError(where, f"content does not match its id (it hashes to {actual.decode()})")
    try:
        obj = cls.from_raw_string(type_num, raw, ObjectID(sha))
        obj.check()
    except (ObjectFormatException, ValueError) as err:
        raise IntegrityError(where, f"malformed {cls.type_name.decode()}: {err}") from err
    return obj


def read_object(objects: BaseObjectStore, sha: bytes, what: str = "object") -> ShaFile:
    """Like :func:`find_object`, but a missing object is an :class:`IntegrityError` too."""
    obj = find_object(objects, sha)
    if obj is None:
        raise IntegrityError(sha.decode("ascii", "replace"), f"{what} is missing")
    return obj
