"""Old import path of ``BasePlugin``, kept forever: format-1 versions name it there."""

from gitpet.factory.plugin import BasePlugin

__all__ = ["BasePlugin"]
