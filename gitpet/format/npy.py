"""The ``.npy`` files of a version's ``data/`` folder: numpy's format, version 1.0, read and written here.

A captured constant that is an array is stored as ``data/<NAME>.npy``
(:mod:`gitpet.codec.data_files`). Its bytes are part of the version id, so
gitpet writes them itself rather than through the installed numpy's writer;
and they arrive from remotes, so reading checks every header byte, with
literals only (nothing runs, nothing is unpickled). This module needs no numpy.
"""

from __future__ import annotations

import ast
import re
import struct
from dataclasses import dataclass

__all__ = ["NpyFile", "constant_of", "data_file_name", "npy_bytes", "parse_npy"]

_SUFFIX = ".npy"
_MAGIC = b"\x93NUMPY\x01\x00"
_ALIGN = 64
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER_KEYS = ("descr", "fortran_order", "shape")
# numpy's dtype.str of the plain dtypes gitpet writes: byte order, kind (bool, integers,
# floats, complex, timedelta, datetime, str, bytes; never objects, voids or fields), size.
_DESCR = re.compile(r"[<>|][biufcmMUS][0-9]{1,9}(\[[0-9]*[A-Za-z]+\])?\Z")


@dataclass(frozen=True)
class NpyFile:
    """What a ``.npy`` file holds: the dtype (numpy's ``dtype.str``), order, shape and raw data."""

    descr: str
    fortran_order: bool
    shape: tuple[int, ...]
    data: bytes = b""


def data_file_name(constant: str) -> str:
    """The name in ``data/`` of the file of constant ``constant``.

    Examples:
        >>> data_file_name("WEIGHTS")
        'WEIGHTS.npy'
    """
    return constant + _SUFFIX


def constant_of(file_name: str) -> str | None:
    """The constant a file of ``data/`` holds (``W.npy`` -> ``W``); None for a name gitpet never writes.

    Examples:
        >>> constant_of("W.npy"), constant_of("..npy"), constant_of("W.txt")
        ('W', None, None)
    """
    stem, suffix = file_name[: -len(_SUFFIX)], file_name[-len(_SUFFIX) :]
    return stem if suffix == _SUFFIX and _NAME.match(stem) else None


def npy_bytes(npy: NpyFile) -> bytes:
    """The file, laid out as numpy lays it out: magic, version, header padded with spaces to 64 bytes.

    Examples:
        >>> content = npy_bytes(NpyFile("<i8", False, (2,), bytes(16)))
        >>> len(content), parse_npy(content) == NpyFile("<i8", False, (2,), bytes(16))
        (144, True)
    """
    header = f"{{'descr': {npy.descr!r}, 'fortran_order': {npy.fortran_order!r}, 'shape': {npy.shape!r}, }}"
    header += " " * (-(len(_MAGIC) + 2 + len(header) + 1) % _ALIGN) + "\n"
    return _MAGIC + struct.pack("<H", len(header)) + header.encode("latin-1") + npy.data


def parse_npy(content: bytes) -> NpyFile:
    """The header and data of a ``.npy`` file of version 1.0.

    Raises:
        ValueError: ``content`` is not one (cut short, header not numpy's dict, values of
            the wrong types).

    Examples:
        >>> parse_npy(b"\\x93NUMPY\\x01\\x00" + b"\\x00\\x00")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: a data file's header does not end its line
    """
    if not content.startswith(_MAGIC) or len(content) < len(_MAGIC) + 2:
        raise ValueError("a data file is not a .npy file of version 1.0")
    (length,) = struct.unpack_from("<H", content, len(_MAGIC))
    start = len(_MAGIC) + 2
    raw = content[start : start + length]
    if not raw.endswith(b"\n"):
        raise ValueError("a data file's header does not end its line")
    if (start + length) % _ALIGN:
        raise ValueError("a data file's header is not aligned as numpy aligns it")
    try:
        header = ast.literal_eval(raw.decode("latin-1").strip())  # literals only: nothing runs
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError) as err:
        raise ValueError("a data file's header is not a literal") from err
    if not isinstance(header, dict) or tuple(sorted(header)) != _HEADER_KEYS:
        raise ValueError("a data file's header is not numpy's dict of descr, fortran_order, shape")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(descr, str) or not isinstance(fortran, bool) or not isinstance(shape, tuple):
        raise ValueError("a data file's header has values of the wrong types")
    if not _DESCR.match(descr):
        raise ValueError(f"a data file's dtype {descr!r} is not a plain one (objects are never stored)")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError("a data file's shape is not a tuple of sizes")
    return NpyFile(descr, fortran, shape, content[start + length :])
