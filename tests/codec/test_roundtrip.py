"""Loading (DESIGN.md §2): another process, same object twice, versions side by side."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import pytest

from gitpet import (
    IncompatiblePythonError,
    PetClassManager,
    StaleSourceError,
    UnpicklableClassError,
    loaded_version,
)
from gitpet.format.version_files import VersionFiles, VersionTree
from tests.conftest import ModuleWriter, run_python, store_snapshot

PIPELINE_MODULE = """
import functools
from dataclasses import dataclass, field
from enum import Enum

RATE = 0.25
NAMES = {"b", "a", "c"}


def _square(v):
    return v * v


class Mode(Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclass
class Config:
    depth: int = 2
    tags: list = field(default_factory=lambda: ["x"])


class Transform:
    mode = Mode.FAST

    def __init__(self, depth=3):
        self.config = Config(depth=depth)

    def run(self, values):
        return [_square(v) * RATE for v in values if v > 0]

    @functools.lru_cache(maxsize=4)
    def fib(self, n):
        return n if n < 2 else self.fib(n - 1) + self.fib(n - 2)

    def names(self):
        return sorted(NAMES)

    def fail(self):
        raise RuntimeError("deliberate failure")
"""


def test_round_trip_in_a_process_without_the_module(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module(PIPELINE_MODULE)
    version = pcm.push(mod.Transform)
    out = run_python(
        f"""
        import json, sys
        try:
            import {mod.__name__}
            raise SystemExit("module must not be importable here")
        except ImportError:
            pass
        from gitpet import PetClassManager
        cls = PetClassManager(sys.argv[1]).pull("Transform")
        t = cls(5)
        print(json.dumps({{
            "run": t.run([1, 2, -3, 4]), "fib": t.fib(12), "names": t.names(),
            "depth": t.config.depth, "tags": t.config.tags, "mode": t.mode.value,
            "module": cls.__module__,
        }}))
        """,
        str(pcm.store.path),
        cwd=tmp_path,
    )
    result = json.loads(out)
    assert result == {
        "run": [0.25, 1.0, 4.0],
        "fib": 144,
        "names": ["a", "b", "c"],
        "depth": 5,
        "tags": ["x"],
        "mode": "fast",
        "module": mod.__name__,
    }
    assert len(version) == 40


def test_same_version_loads_once_and_versions_coexist(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    v1 = pcm.push(user_module(PIPELINE_MODULE).Transform)
    v2 = pcm.push(user_module(PIPELINE_MODULE.replace("* RATE", "* RATE * 2")).Transform)
    first = pcm.pull("Transform", v1)
    assert pcm.pull("Transform", v1[:7]) is first
    assert PetClassManager(pcm.store.path).pull("Transform", v1) is first  # another manager too
    second = pcm.pull("Transform")
    assert second is not first
    assert first().run([2]) == [1.0]
    assert second().run([2]) == [2.0]
    info = loaded_version(second)
    assert info is not None and info.version_id == v2 and info.name == "Transform"


def test_traceback_shows_lines_of_source_py(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    version = pcm.push(user_module(PIPELINE_MODULE).Transform)
    source = pcm.store.read_version("Transform", version).files.source.decode().splitlines()
    loaded = pcm.pull("Transform", version)
    with pytest.raises(RuntimeError) as excinfo:
        loaded().fail()
    frame = traceback.extract_tb(excinfo.value.__traceback__)[-1]
    assert frame.filename.endswith("/source.py")
    assert frame.line == 'raise RuntimeError("deliberate failure")'
    assert source[frame.lineno - 1].strip() == frame.line


def test_pickle_from_another_python_is_refused_clearly(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    honest = pcm.encode(user_module(PIPELINE_MODULE).Transform)
    meta = json.loads(honest.files.meta)
    meta["python"] = "3.9"
    forged = VersionTree.build(
        VersionFiles(honest.files.source, b"not a pickle at all", json.dumps(meta, sort_keys=True).encode())
    )
    pcm.store.write_versions([("Transform", forged)])
    with pytest.raises(IncompatiblePythonError) as excinfo:
        pcm.pull("Transform")
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "3.9" in str(excinfo.value) and running in str(excinfo.value)
    assert excinfo.value.stored == "3.9" and excinfo.value.running == running


def test_class_defined_by_exec_is_stored_with_an_explanation(pcm: PetClassManager, tmp_path: Path) -> None:
    namespace: dict[str, object] = {"__name__": "generated_plugins"}
    exec("class Generated:\n    def go(self):\n        return 'went'\n", namespace)
    cls = namespace["Generated"]
    assert isinstance(cls, type)
    version = pcm.push(cls)
    stored = pcm.store.read_version("Generated", version)
    assert stored.meta["source"] == "missing"
    assert b"no source text is available" in stored.files.source
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager
        print(PetClassManager(sys.argv[1]).pull("Generated")().go())
        """,
        str(pcm.store.path),
        cwd=tmp_path,
    )
    assert out.strip() == "went"


def test_user_object_pickled_by_reference_is_refused(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    mod = user_module("""
        class _Sentinel:
            def __reduce__(self):
                return "SENTINEL"

        SENTINEL = _Sentinel()

        class UsesSentinel:
            marker = SENTINEL
    """)
    before = store_snapshot(pcm.store.path)
    with pytest.raises(UnpicklableClassError) as excinfo:
        pcm.push(mod.UsesSentinel)
    assert "SENTINEL" in str(excinfo.value)
    assert store_snapshot(pcm.store.path) == before


def test_stale_source_is_refused(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    mod = user_module("""
        class Drifting:
            def value(self):
                return 1
    """)
    Path(mod.__file__).write_text("# edited after import\n\n\nclass Drifting:\n    pass\n")
    with pytest.raises(StaleSourceError) as excinfo:
        pcm.push(mod.Drifting)
    assert "reload" in str(excinfo.value)
    assert not pcm.store.exists()


def test_class_typed_into_python_c_is_stored_with_an_explanation(tmp_path: Path) -> None:
    # inspect raises OSError (not TypeError) for a __main__ without a file.
    store = tmp_path / "store.git"
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager
        class Typed:
            def go(self):
                return "typed"
        pcm = PetClassManager(sys.argv[1])
        version = pcm.push(Typed)
        print(version, pcm.store.read_version("Typed", version).meta["source"])
        """,
        str(store),
        cwd=tmp_path,
    )
    assert out.split()[1] == "missing"
    loaded = run_python(
        "import sys\nfrom gitpet import PetClassManager as M\nprint(M(sys.argv[1]).pull('Typed')().go())",
        str(store),
        cwd=tmp_path,
    )
    assert loaded.strip() == "typed"
