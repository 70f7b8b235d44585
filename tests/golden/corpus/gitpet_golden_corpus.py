"""The golden corpus: one class for each shape gitpet must version.

Never edit this file: the version ids of these classes are committed
(``tests/golden/ids-<python>.json``), and the store in ``tests/golden/stores``
holds them. A new shape goes into a new module.
"""

import dataclasses
import enum
import functools
from typing import Generic, TypeVar

from gitpet import BasePlugin, Container

SCALE = 3
KINDS = {"beta", "alpha", "gamma", "delta", "epsilon"}
TABLE = {"x": frozenset({"p", "q", "r"}), "y": ("s", {"t", "u"})}
T = TypeVar("T")


def helper(x):
    return x * SCALE


class Plain:
    greeting = "hello"

    def greet(self, name):
        return f"{self.greeting}, {name}"


@dataclasses.dataclass
class Record:
    name: str
    score: float = 0.0
    tags: list = dataclasses.field(default_factory=list)

    def label(self):
        return f"{self.name}:{self.score}"


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    CRIMSON = 1

    def warm(self):
        return self is Color.RED


class Outer:
    class Inner:
        def value(self):
            return 42

    def make(self):
        return self.Inner()


def make_filter(limit):
    class Filter(BasePlugin):
        def __init__(self, k=1):
            super().__init__(k=k)
            self.k = k

        def apply(self, xs):
            return [x for x in xs if x * self.k < limit]

    return Filter


FactoryMade = make_filter(10)


class _Original:
    def who(self):
        return type(self).__name__


Renamed = _Original
Renamed.__name__ = "Renamed"
Renamed.__qualname__ = "Renamed"


class Annotated:
    def predict(self, x: list[float]) -> list[float]:
        return [v * 2 for v in x]

    def total(self, x: list[float], bias: float = 0.0) -> float:
        return sum(x) + bias


class Accessors:
    def __init__(self, t=0.5):
        self.t = t

    @property
    def level(self):
        return self.t * 2

    @staticmethod
    def unit():
        return 1

    @classmethod
    def make(cls):
        return cls(0.1)


class UsesHelpers:
    def run(self, x):
        return helper(x) + len(KINDS) + len(TABLE["x"])


class Base:
    def describe(self):
        return "base"


class Derived(Base):
    def describe(self):
        return "derived<" + super().describe() + ">"


class Cached:
    @functools.lru_cache(maxsize=8)
    def square(self, n):
        return n * n


class UsesContainer:
    def is_default(self):
        import gitpet

        return Container is gitpet.Container


class WithSets:
    allowed = {"b", "a", "c", "d", "e", "f"}
    frozen = frozenset({3, 1, 2})

    def check(self, x):
        return x in {"q", "r", "s", "t"} or x in self.allowed


class Typed(Generic[T]):
    def first(self, xs: list) -> T:
        return xs[0]


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def total(self):
        return self.x + self.y


# Appended for format 3: a class whose helper and base class come from another user module.
from gitpet_golden_helpers import Measured, scaled as scale_by_rate  # noqa: E402


class TakesHelpers(Measured):
    def run(self, x):
        return scale_by_rate(x) + 1
