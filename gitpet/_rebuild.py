"""Format-1 versions (gitpet 0.1) reference ``gitpet._rebuild.lru_cached``: kept importable forever.

New versions reference :mod:`gitpet.rebuild` instead (the frozen table of names).
"""

from gitpet.rebuild import lru_cached

__all__ = ["lru_cached"]
