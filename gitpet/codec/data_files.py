"""Constants that are data, not text: numpy arrays, stored as ``data/<NAME>.npy`` beside ``captured.py``.

A class that reads a module-level array captures it by value; no Python
literal writes it readably. ``captured.py`` then says where it is, in a
line that also runs as written from a checkout of the version's tree::

    WEIGHTS = __import__("numpy").load("data/WEIGHTS.npy")  # <f8, shape (3, 4)

and the array is the file ``data/WEIGHTS.npy`` of the version (``git show
V:data/WEIGHTS.npy``), in numpy's own ``.npy`` format, version 1.0, which
holds no pickle: ``numpy.load`` reads it with ``allow_pickle=False``.

gitpet writes and reads the format itself (the bytes are part of the version
id, so they must not depend on the installed numpy's writer), and only for
plain arrays: a ``numpy.ndarray`` (not a subclass) of a dtype without
objects or fields. Reading checks every byte of the header and never
unpickles; it needs numpy only to make the array.
"""

from __future__ import annotations

import importlib
import math
import sys
from dataclasses import dataclass
from typing import Any

from gitpet.format.npy import NpyFile, constant_of, data_file_name, npy_bytes, parse_npy
from gitpet.format.version_files import DATA

__all__ = [
    "MAX_DATA_FILE_BYTES",
    "DataFile",
    "as_data_file",
    "by_constant",
    "data_line",
    "data_path",
    "read_data_file",
]

# An array larger than this is not written again as a file (class.pkl already holds it):
# the version is then not source-complete, and says so.
MAX_DATA_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class DataFile:
    """One captured array: the constant's name, its path in the version's tree, and its bytes.

    Examples:
        >>> DataFile("W", b"...").path, DataFile("W", b"...").file_name
        ('data/W.npy', 'W.npy')
    """

    name: str
    content: bytes

    @property
    def file_name(self) -> str:
        """Its name in the version's ``data/`` folder."""
        return data_file_name(self.name)

    @property
    def path(self) -> str:
        """Where the file is in the version's tree."""
        return data_path(self.name)


def data_path(name: str) -> str:
    """The path in a version's tree of the data file of constant ``name``.

    Examples:
        >>> data_path("WEIGHTS")
        'data/WEIGHTS.npy'
    """
    return f"{DATA.decode()}/{data_file_name(name)}"


def by_constant(folder: tuple[tuple[str, bytes], ...]) -> dict[str, bytes]:
    """A version's ``data/`` files (``VersionFiles.data``) by the constant each holds.

    Raises:
        ValueError: a file has a name gitpet never writes.

    Examples:
        >>> by_constant((("W.npy", b"..."),))
        {'W': b'...'}
    """
    found = {}
    for file_name, content in folder:
        constant = constant_of(file_name)
        if constant is None:
            raise ValueError(f"data/{file_name} is not a file gitpet writes")
        found[constant] = content
    return found


def as_data_file(name: str, value: object) -> DataFile | str | None:
    """``value`` as the data file of constant ``name``; a reason when it is an array that cannot be one.

    None: ``value`` is no numpy array (the caller has other ways to write it, or none).
    """
    numpy = sys.modules.get("numpy")
    if numpy is None or not isinstance(value, numpy.ndarray):
        return None
    kind = f"constant {name} is a numpy array"
    if type(value) is not numpy.ndarray:
        return f"{kind} subclass ({type(value).__qualname__}), not a plain array"
    dtype = value.dtype
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize == 0:
        return f"{kind} of dtype {dtype}, which a .npy file holds only as a pickle"
    if value.nbytes > MAX_DATA_FILE_BYTES:
        return f"{kind} of {value.nbytes} bytes, more than the {MAX_DATA_FILE_BYTES} a data file holds"
    fortran = bool(value.flags.f_contiguous and not value.flags.c_contiguous)
    shape = tuple(int(n) for n in value.shape)
    data = value.tobytes(order="F" if fortran else "C")
    return DataFile(name, npy_bytes(NpyFile(dtype.str, fortran, shape, data)))


def data_line(name: str, content: bytes) -> str:
    """The line of ``captured.py`` that binds ``name`` to the array of the data file ``content``.

    It runs as written from a checkout of the version's tree.

    Raises:
        ValueError: ``content`` is not a ``.npy`` file gitpet writes.

    Examples:
        >>> import numpy
        >>> data_line("W", as_data_file("W", numpy.zeros((2, 3))).content)
        'W = __import__("numpy").load("data/W.npy")  # <f8, shape (2, 3)\\n'
    """
    npy = parse_npy(content)
    return f'{name} = __import__("numpy").load("{data_path(name)}")  # {npy.descr}, shape {npy.shape!r}\n'


def read_data_file(content: bytes) -> Any:
    """The array of a ``.npy`` file gitpet wrote: every header byte checked, nothing unpickled.

    Raises:
        ValueError: ``content`` is not such a file.
        ImportError: numpy is not installed.

    Examples:
        >>> import numpy
        >>> array = numpy.arange(6).reshape(2, 3)
        >>> again = read_data_file(as_data_file("A", array).content)
        >>> bool((again == array).all()), again.dtype == array.dtype, again.flags.writeable
        (True, True, True)
    """
    npy = parse_npy(content)
    numpy = importlib.import_module("numpy")
    dtype = numpy.dtype(npy.descr)
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.str != npy.descr:
        raise ValueError(f"a data file of dtype {npy.descr!r} is not one gitpet writes")
    if len(npy.data) != math.prod(npy.shape) * dtype.itemsize:
        raise ValueError(
            f"a data file of shape {npy.shape} and dtype {npy.descr} holds {len(npy.data)} bytes"
        )
    order = "F" if npy.fortran_order else "C"
    return numpy.frombuffer(npy.data, dtype=dtype).reshape(npy.shape, order=order).copy(order=order)
