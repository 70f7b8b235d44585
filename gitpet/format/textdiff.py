"""Unified diffs of stored text, shaped like ``git diff`` prints them."""

from __future__ import annotations

import difflib

__all__ = ["unified_diff"]


def unified_diff(old: bytes, new: bytes, fromfile: str, tofile: str) -> str:
    """A unified diff of two files (empty when equal), with git's "No newline" marker.

    Examples:
        >>> print(unified_diff(b"a\\nb\\n", b"a\\nc\\n", "a/x.py", "b/x.py"), end="")
        --- a/x.py
        +++ b/x.py
        @@ -1,2 +1,2 @@
         a
        -b
        +c
    """
    lines = difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(keepends=True),
        new.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=fromfile,
        tofile=tofile,
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
