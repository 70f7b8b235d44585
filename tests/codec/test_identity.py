"""What a version id means (DESIGN.md §1): same class -> same id, changed behaviour -> new id."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitpet import PetClassManager
from tests.conftest import ModuleWriter, run_python

BASE_MODULE = '''
import functools

SCALE = 3
KINDS = {"beta", "alpha", "gamma", "delta", "epsilon"}
TABLE = {"x": frozenset({"p", "q", "r"}), "y": ("s", {"t", "u"})}


def helper(x):
    return x * SCALE


class Base:
    def describe(self):
        return "base"


class Model(Base):
    """A model."""

    threshold = 0.5
    labels = ("neg", "pos")

    def __init__(self, t=0.5):
        self.t = t

    def predict(self, x):
        if x in {1, 2, 3, 4, 5, 6, 7}:
            return helper(x) + len(KINDS)
        return sorted(KINDS)[0]

    @staticmethod
    def unit():
        return 1

    @classmethod
    def make(cls):
        return cls(0.1)

    @property
    def level(self):
        return self.t * 2

    @functools.lru_cache(maxsize=8)
    def cached(self, n):
        return n * n
'''

HASH_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
import {mod}
from gitpet import PetClassManager
print(PetClassManager(sys.argv[2]).get_class_hash({mod}.Model))
"""


def _hash_in_process(tmp_path: Path, moddir: Path, modname: str, seed: str) -> str:
    out = run_python(
        HASH_SCRIPT.format(mod=modname),
        str(moddir),
        str(tmp_path / "unused-store"),
        cwd=tmp_path,
        env={"PYTHONHASHSEED": seed},
    )
    return out.strip()


def test_same_id_across_processes_seeds_paths_and_lines(tmp_path: Path) -> None:
    first = tmp_path / "a"
    first.mkdir()
    (first / "idmod.py").write_text(BASE_MODULE)
    second = tmp_path / "elsewhere" / "deeper"
    second.mkdir(parents=True)
    # The same module at another absolute path, shifted down by some lines.
    (second / "idmod.py").write_text("# moved\n\n\n\n\n" + BASE_MODULE)
    ids = {
        _hash_in_process(tmp_path, first, "idmod", "1"),
        _hash_in_process(tmp_path, first, "idmod", "2"),
        _hash_in_process(tmp_path, second, "idmod", "3"),
        _hash_in_process(tmp_path, second, "idmod", "4242"),
    }
    assert len(ids) == 1, ids
    assert len(ids.pop()) == 40


def test_push_twice_writes_one_commit(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    mod = user_module(BASE_MODULE)
    first = pcm.push(mod.Model)
    commit = pcm.store.latest_commit("Model")
    assert pcm.push(mod.Model) == first
    assert pcm.store.latest_commit("Model") == commit
    assert len(pcm.versions("Model")) == 1


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("return helper(x) + len(KINDS)", "return helper(x) + len(KINDS) + 1"),  # method body
        ("threshold = 0.5", "threshold = 0.6"),  # class attribute
        ("return self.t * 2", "return self.t * 3"),  # property
        ("def unit():\n        return 1", "def unit():\n        return 2"),  # staticmethod
        ("return cls(0.1)", "return cls(0.2)"),  # classmethod
        ('return "base"', 'return "BASE"'),  # user base class
        ("return x * SCALE", "return x * SCALE + 0"),  # module-level helper
        ("SCALE = 3", "SCALE = 4"),  # module-level constant
        ('"epsilon"}', '"zeta"}'),  # module-level set used by the class
        ("return n * n", "return n * n * n"),  # lru_cache-wrapped method
        ('"""A model."""', '"""A model, documented."""'),  # docstring
        ("    threshold = 0.5\n", "    threshold = 0.5  # a comment\n"),  # comment only
    ],
)
def test_changed_behaviour_or_source_gives_new_id(
    pcm: PetClassManager, user_module: ModuleWriter, old: str, new: str
) -> None:
    assert old in BASE_MODULE
    before = pcm.get_class_hash(user_module(BASE_MODULE).Model)
    after = pcm.get_class_hash(user_module(BASE_MODULE.replace(old, new)).Model)
    assert before != after


def test_comment_only_versions_load_as_distinct_classes(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    one = pcm.push(user_module(BASE_MODULE).Model)
    two = pcm.push(user_module(BASE_MODULE.replace("class Base:", "class Base:  # note")).Model)
    assert one != two
    first, second = pcm.pull("Model", one), pcm.pull("Model", two)
    assert first is not second
    assert first(0.5).predict(2) == second(0.5).predict(2) == 11


def test_pushing_a_loaded_class_writes_nothing(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    version = pcm.push(user_module(BASE_MODULE).Model)
    # Another process loads it, pushes it back, and re-encodes it from scratch.
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager
        pcm = PetClassManager(sys.argv[1])
        cls = pcm.pull("Model")
        print(pcm.push(cls))
        print(pcm.codec.encode(cls, "Model").id)   # no cache: the real pickling
        print(len(pcm.versions("Model")))
        """,
        str(pcm.store.path),
        cwd=tmp_path,
    )
    pushed, encoded, count = out.split()
    assert pushed == encoded == version
    assert count == "1"


def test_meta_json_is_sorted_and_describes_the_class(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    mod = user_module(BASE_MODULE)
    version = pcm.encode(mod.Model)
    meta = json.loads(version.files.meta)
    assert list(meta) == sorted(meta)
    assert meta["name"] == "Model"
    assert meta["module"] == mod.__name__
    assert meta["qualname"] == "Model"
    assert meta["bases"] == [f"{mod.__name__}.Base"]
    assert mod.__name__ in meta["by_value"]
    assert meta["source"] == "file"
    assert version.files.source.decode().startswith("class Model(Base):")
    assert b"site-packages" not in version.files.pickle
    assert str(Path(mod.__file__).parent).encode() not in version.files.pickle


def test_a_class_in_a_function_is_dedented_and_stable(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module("""
        def make():
            class Inner:
                def value(self):
                    return 7
            return Inner
    """)
    version = pcm.encode(mod.make(), "Inner")
    assert version.files.source.decode().startswith("class Inner:")
    assert pcm.encode(mod.make(), "Inner").id == version.id  # a new class object, same code


def test_same_class_under_two_names_loads_as_one_class_object(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module(BASE_MODULE)
    a = pcm.push(mod.Model, "ModelA")
    b = pcm.push(mod.Model, "ModelB")
    assert a != b  # meta.json names the class
    assert pcm.pull("ModelA") is pcm.pull("ModelB")  # identical pickle: one live class


def test_moving_the_store_does_not_change_ids(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    version = pcm.push(user_module(BASE_MODULE).Model)
    moved = tmp_path / "moved.git"
    pcm.store.close()
    shutil.copytree(pcm.store.path, moved)
    other = PetClassManager(moved)
    assert other.get_class_hash(other.pull("Model")) == version
