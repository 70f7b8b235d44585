"""Importable rebuilders that stored pickles reference by name.

Keep these names and signatures stable: pickles in every store refer to them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["lru_cached"]


def lru_cached(func: Callable[..., Any], maxsize: int | None, typed: bool) -> Callable[..., Any]:
    """Re-apply ``functools.lru_cache`` to a function captured by value."""
    return functools.lru_cache(maxsize=maxsize, typed=typed)(func)
