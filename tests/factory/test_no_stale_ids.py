"""An id is never served from a cache once the code or data it was computed from changed.

The manager keeps each class's version while everything its pickle read is the same
object: the class's attributes and bases, each helper class's, and each module global
a method or helper reads. A value that can change in place (a list, an array, an
instance) makes the class encode every time, because only pickling tells.
"""

from __future__ import annotations

from gitpet import PetClassManager
from tests.conftest import ModuleWriter

MODULE = """
SCALE = 2
TABLE = [1, 2]


class Helper:
    offset = 1


def scale(x):
    return x * SCALE + Helper.offset


class Model:
    def predict(self, x):
        return scale(x)


class UsesTable:
    def size(self):
        return len(TABLE)
"""


def test_rebinding_a_global_a_helper_reads_changes_the_id(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    module = user_module(MODULE)
    before = pcm.get_class_hash(module.Model)
    module.SCALE = 3
    after = pcm.get_class_hash(module.Model)
    assert after != before
    module.SCALE = 2
    assert pcm.get_class_hash(module.Model) == before


def test_rebinding_a_helper_function_or_a_helper_class_attribute_changes_the_id(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    module = user_module(MODULE)
    before = pcm.get_class_hash(module.Model)
    module.Helper.offset = 5
    moved = pcm.get_class_hash(module.Model)
    assert moved != before
    exec("def scale(x):\n    return x - 1\n", vars(module))  # a notebook re-running one cell
    assert pcm.get_class_hash(module.Model) not in (before, moved)


def test_a_value_changed_in_place_changes_the_id(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    module = user_module(MODULE)
    before = pcm.push(module.UsesTable)
    module.TABLE.append(3)
    after = pcm.push(module.UsesTable)
    assert after != before
    assert [info.id for info in pcm.store.versions("UsesTable")][:2] == [after, before]


def test_an_unchanged_class_of_settled_values_is_encoded_once(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    module = user_module(MODULE)
    assert pcm.encode(module.Model) is pcm.encode(module.Model)  # served from the cache
    again = pcm.encode(module.UsesTable)
    assert pcm.encode(module.UsesTable) is not again  # a list it reads may have changed: encoded again
    assert pcm.encode(module.UsesTable).id == again.id
