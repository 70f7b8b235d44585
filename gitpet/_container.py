"""Old import path of ``PetContainer``, kept forever: format-1 versions name it there."""

from gitpet.factory.container import PetContainer

__all__ = ["PetContainer"]
