"""How stored code names itself: the file name a version's functions claim, and which classes are code.

Both are needed to load a version as well as to make one; they live apart
from :mod:`gitpet.codec.pickler` so that a process that only loads versions
does not import the pickler.
"""

from __future__ import annotations

import hashlib

__all__ = ["HEAPTYPE", "canonical_filename"]

HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set for classes written in Python


def canonical_filename(module: str, qualname: str, source_text: str) -> str:
    """The ``co_filename`` of a stored class's methods: ``source.py`` of its version.

    It names the source text's digest so two versions never share a
    ``linecache`` entry, while staying independent of where the module lived.

    Examples:
        >>> canonical_filename("models", "Model", "class Model: pass\\n")
        'gitpet://models.Model@6bfcbe786aba/source.py'
    """
    digest = hashlib.sha1(source_text.encode("utf-8")).hexdigest()[:12]
    return f"gitpet://{module}.{qualname}@{digest}/source.py"
