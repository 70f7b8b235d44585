"""The installed packages a version was pushed with, as trailers of its commit message.

A version's pickle imports some packages by name (numpy, scikit-learn, ...).
Which release was installed is recorded in the commit that stores the
version, never in its tree: the version id must not change when a teammate
upgrades numpy. Each is one trailer line, as git writes trailers::

    Requires-Dist: scikit-learn 1.6.1 (import sklearn)

The import name is kept because a process that lacks a package cannot map a
module back to the distribution that provides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TRAILER", "Requirement", "parse_requirements", "requirement_trailers"]

TRAILER = "Requires-Dist"
_LINE = re.compile(
    r"^" + TRAILER + r": (?P<dist>[A-Za-z0-9][A-Za-z0-9._-]*) (?P<version>[^\s()]+) "
    r"\(import (?P<module>[A-Za-z_][A-Za-z0-9_]*)\)$",
    re.MULTILINE,
)


@dataclass(frozen=True, order=True)
class Requirement:
    """A distribution the version imports (``module`` is what it imports), and its version then.

    Examples:
        >>> Requirement("scikit-learn", "1.6.1", "sklearn").line
        'Requires-Dist: scikit-learn 1.6.1 (import sklearn)'
    """

    distribution: str
    version: str
    module: str

    @property
    def line(self) -> str:
        """The trailer line of the commit message."""
        return f"{TRAILER}: {self.distribution} {self.version} (import {self.module})"


def requirement_trailers(requirements: tuple[Requirement, ...]) -> str:
    """The trailer paragraph of a commit message (empty for none), sorted by distribution.

    Examples:
        >>> print(requirement_trailers((Requirement("numpy", "2.4.6", "numpy"),)), end="")
        <BLANKLINE>
        Requires-Dist: numpy 2.4.6 (import numpy)
    """
    if not requirements:
        return ""
    return "\n" + "".join(f"{requirement.line}\n" for requirement in sorted(requirements))


def parse_requirements(message: str) -> tuple[Requirement, ...]:
    """The requirements a commit message records (none for a commit gitpet wrote before).

    Examples:
        >>> parse_requirements("Model: version 3f2a\\n\\nRequires-Dist: numpy 2.4.6 (import numpy)\\n")
        (Requirement(distribution='numpy', version='2.4.6', module='numpy'),)
    """
    return tuple(
        Requirement(match["dist"], match["version"], match["module"]) for match in _LINE.finditer(message)
    )
