"""Old import path of ``BaseFactory``, kept forever: format-1 versions name it there."""

from gitpet.factory.factory import BaseFactory

__all__ = ["BaseFactory"]
