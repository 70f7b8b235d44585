"""Old import path of :mod:`gitpet.errors`, kept forever: format-1 versions name ``gitpet._errors.<Name>``."""

from gitpet.errors import *  # noqa: F403
from gitpet.errors import __all__ as __all__
