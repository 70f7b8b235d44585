"""Helpers and base classes taken from another user module are text too: a section of captured.py.

``from utils import clip`` in the class's module: captured.py holds utils's part in a
section of its own (``# gitpet: module utils``), built in a namespace named utils and
never imported, and the class's module takes ``clip`` from it with a ``from`` block.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from gitpet import PetClassManager
from tests.conftest import ModuleWriter, run_python

UTILS = """
from __future__ import annotations
import math

RATE = 2


def clip(x: float) -> float:
    return max(0.0, min(x, 10.0)) * RATE + math.floor(0.5)


class Base:
    def unit(self) -> str:
        return "cm"
"""

MODELS = """
from {utils} import Base, clip as limit

OFFSET = 1


class Model(Base):
    def run(self, x):
        return limit(x) + OFFSET
"""


def _modules(user_module: ModuleWriter, utils_text: str = UTILS) -> tuple[str, type]:
    utils = f"helpers_{uuid.uuid4().hex[:8]}"
    user_module(utils_text, name=utils)
    models = user_module(MODELS.format(utils=utils))
    return utils, models.Model


def test_a_class_whose_helper_and_base_come_from_another_module_is_source_complete(
    user_module: ModuleWriter, tmp_path: Path
) -> None:
    utils, model = _modules(user_module)
    pcm = PetClassManager(tmp_path / "store")
    [result] = pcm.push_many([("Model", model)])
    assert (result.source_complete, result.source_problem) == (True, "")
    captured = pcm.store.read_version("Model").files.captured.decode()
    assert f"# gitpet: module {utils}\n" in captured
    assert f"# gitpet: from {utils}\nfrom {utils} import Base, clip as limit\n" in captured
    assert captured.index(f"module {utils}") < captured.index(f"module {model.__module__}")
    # Another process, where neither module exists: the text builds the class, importing neither.
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager
        pcm = PetClassManager(sys.argv[1])
        built = pcm.build_from_text("Model")
        print(built().run(3), built().unit(), [b.__module__ for b in built.__mro__][:2])
        print(sys.argv[2] in sys.modules, pcm.codec.check_stored(pcm.store.read_version("Model")).complete)
        """,
        str(tmp_path / "store"),
        utils,
        cwd=tmp_path,
    )
    assert out.split("\n")[0] == f"7 cm ['{model.__module__}', '{utils}']"
    assert out.split("\n")[1] == "False True"


def test_a_change_in_the_other_module_shows_in_the_diff(user_module: ModuleWriter, tmp_path: Path) -> None:
    pcm = PetClassManager(tmp_path / "store")
    utils, model = _modules(user_module)
    old = pcm.push(model)
    user_module(UTILS.replace("RATE = 2", "RATE = 3"), name=utils)
    changed = user_module(MODELS.format(utils=utils), name=model.__module__).Model
    new = pcm.push(changed)
    assert new != old
    diff = pcm.store.read_version("Model", old).diff(pcm.store.read_version("Model", new))
    assert "-RATE = 2\n+RATE = 3\n" in diff


def test_modules_taking_from_each_other_or_used_whole_say_why(
    user_module: ModuleWriter, tmp_path: Path
) -> None:
    pcm = PetClassManager(tmp_path / "store")
    name = f"whole_{uuid.uuid4().hex[:8]}"
    user_module("def clip(x):\n    return x\n", name=name)
    whole = user_module(
        f"import {name}\n\n\nclass Model:\n    def run(self, x):\n        return {name}.clip(x)\n"
    )
    meta = pcm.encode(whole.Model).files.meta.decode()
    assert f'"source_problem": "it uses module {name} by value"' in meta

    cycle_a, cycle_b = f"cycle_a_{uuid.uuid4().hex[:8]}", f"cycle_b_{uuid.uuid4().hex[:8]}"
    module_a = user_module(
        "def first(x):\n    return x\n\n\ndef uses(x):\n    return back(x)\n", name=cycle_a
    )
    module_b = user_module(
        f"from {cycle_a} import first\n\n\ndef back(x):\n    return first(x)\n", name=cycle_b
    )
    module_a.back = module_b.back  # each module now takes a helper from the other
    models = user_module(
        f"from {cycle_a} import uses\n\n\nclass Model:\n    def run(self, x):\n        return uses(x)\n"
    )
    assert models.Model().run(1) == 1
    meta = pcm.encode(models.Model).files.meta.decode()
    assert "its helpers come from user modules that take helpers from each other" in meta
