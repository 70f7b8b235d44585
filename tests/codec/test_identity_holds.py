"""Issue "Identity that holds": the same code gives the same id on every install, and every version loads.

Each test reproduces one way this used to fail; where the failure needed it,
the class is loaded in another process that cannot import its module and
pushed again from there.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest

import gitpet
from gitpet import PetClassManager, StaleSourceError, UnpicklableClassError
from gitpet.format.pickle_refs import pickle_globals
from tests.conftest import REPO_ROOT, ModuleWriter, git, run_python

LOAD_AND_PUSH_AGAIN = """
import json, sys
from gitpet import PetClassManager
store, name, version = sys.argv[1:4]
try:
    __import__(sys.argv[4])
    raise SystemExit("the class's module must not be importable here")
except ImportError:
    pass
pcm = PetClassManager(store)
cls = pcm.pull(name, version)
head = pcm.store.versions(name)[0].commit
same_hash = pcm.get_class_hash(cls, name=name) == version
pushed = pcm.push(cls, name=name)
print(json.dumps({
    "qualname": cls.__qualname__,
    "same_hash": same_hash,
    "pushed_same": pushed == version,
    "new_commits": pcm.store.versions(name)[0].commit != head,
    "files": sorted({f.__code__.co_filename for f in vars(cls).values() if hasattr(f, "__code__")}),
}))
"""


def load_and_push_again(tmp_path: Path, pcm: PetClassManager, name: str, version: str, module: str) -> dict:
    out = run_python(LOAD_AND_PUSH_AGAIN, str(pcm.store.path), name, version, module, cwd=tmp_path)
    result: dict = json.loads(out)
    return result


# -- 1. the pickle's bytes are gitpet's, whatever cloudpickle release is installed --------------

TRACED = """
class Traced:
    '''Methods on several lines, so a lost file name or first line changes the id.'''

    def first(self):
        return 1

    def second(self):
        raise RuntimeError("from line seven of source.py")
"""


def test_a_loaded_class_keeps_source_py_and_pushing_it_again_writes_nothing(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module(TRACED)
    version = pcm.push(mod.Traced)
    result = load_and_push_again(tmp_path, pcm, "Traced", version, mod.__name__)
    assert result["same_hash"] and result["pushed_same"] and not result["new_commits"]
    assert [Path(f).name for f in result["files"]] == ["source.py"]
    assert "<dynamic-code>" not in result["files"]


def test_ids_and_loads_do_not_use_cloudpickle_at_all(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module(TRACED)
    version = pcm.push(mod.Traced)
    out = run_python(
        """
        import sys
        sys.modules["cloudpickle"] = None  # any import of it fails
        sys.path.insert(0, sys.argv[3])
        import importlib
        from gitpet import PetClassManager
        pcm = PetClassManager(sys.argv[1])
        cls = importlib.import_module(sys.argv[2]).Traced
        print(pcm.get_class_hash(cls), pcm.pull("Traced", pcm.get_class_hash(cls))().first())
        """,
        str(pcm.store.path),
        mod.__name__,
        str(Path(mod.__file__).parent),
        cwd=tmp_path,
    )
    assert out.split() == [version, "1"]


# -- 2. no dependency version feeds the id ---------------------------------------------------------


def test_meta_json_records_no_dependency_version(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    pcm.push(user_module(TRACED).Traced)
    text = git(pcm.store.path, "show", "Traced:meta.json").stdout
    meta = json.loads(text)
    assert set(meta) == {
        "bases",
        "by_value",
        "format",
        "module",
        "name",
        "python",
        "qualname",
        "source",
        "source_complete",
    }
    assert meta["format"] == 3 and meta["source_complete"] is True
    assert cloudpickle.__version__ not in text


# -- 3. classes whose __qualname__ is not their __name__ ------------------------------------------

SHAPES = """
from gitpet import BasePlugin

def make_filter(limit):
    class Filter(BasePlugin):
        def __init__(self, k=1):
            super().__init__(k=k)
            self.k = k

        def apply(self, xs):
            return [x for x in xs if x * self.k < limit]
    return Filter

Made = make_filter(10)


class Outer:
    class Inner:
        def value(self):
            return 42


class _Draft:
    def who(self):
        return type(self).__name__

Final = _Draft
Final.__name__ = "Final"
Final.__qualname__ = "Final"
"""


@pytest.mark.parametrize(
    ("name", "path", "qualname"),
    [
        ("Made", "Made", "make_filter.<locals>.Filter"),
        ("Inner", "Outer.Inner", "Outer.Inner"),
        ("Final", "Final", "Final"),
    ],
)
def test_local_nested_and_renamed_classes_load_here_and_elsewhere(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter, name: str, path: str, qualname: str
) -> None:
    mod = user_module(SHAPES)
    cls = mod
    for part in path.split("."):
        cls = getattr(cls, part)
    version = pcm.push(cls, name=name)
    loaded = pcm.pull(name, version)
    assert loaded.__qualname__ == qualname
    result = load_and_push_again(tmp_path, pcm, name, version, mod.__name__)
    assert result["qualname"] == qualname
    assert result["same_hash"] and result["pushed_same"] and not result["new_commits"]


# -- 4. annotations, and values that are one object before a load and two after ----------------

ANNOTATED = """
class Base:
    kind = "model"
    size = 1

class Annotated(Base):
    kind = "model"
    size = 1

    def predict(self, x: list[float]) -> list[float]:
        return [v * 2 for v in x]

    def total(self, x: list[float], bias: float = 0.0) -> float:
        return sum(x) + bias
"""


def test_annotated_methods_and_values_shared_with_a_base_keep_their_id_after_a_load(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module(ANNOTATED)
    version = pcm.push(mod.Annotated)
    result = load_and_push_again(tmp_path, pcm, "Annotated", version, mod.__name__)
    assert result["same_hash"] and result["pushed_same"] and not result["new_commits"]


def test_a_lazy_load_then_push_all_writes_no_duplicate(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    pcm.push(user_module(ANNOTATED).Annotated)
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager, PetFactory
        pcm = PetClassManager(sys.argv[1])
        factory = PetFactory(pcm)
        factory["Annotated"]().predict([1.0])
        before = pcm.store.versions("Annotated")
        factory.push_all()
        print(len(before), len(pcm.store.versions("Annotated")))
        """,
        str(pcm.store.path),
        cwd=tmp_path,
    )
    assert out.split() == ["1", "1"]


# -- 5. gitpet's own objects travel by reference or not at all -----------------------------------

USES_CONTAINER = """
from gitpet import Container

class UsesContainer:
    def container_is_default(self):
        import gitpet
        return Container is gitpet.Container
"""


def test_a_method_using_container_refers_to_the_live_container(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module(USES_CONTAINER)
    version = pcm.push(mod.UsesContainer)
    data = pcm.store.read_version("UsesContainer", version).files.pickle
    assert "gitpet.Container" in pickle_globals(data)
    assert not any("PetContainer" in name or "Factory" in name for name in pickle_globals(data))

    @gitpet.Container.bind()
    class Unrelated:
        pass

    assert pcm.get_class_hash(mod.UsesContainer) == version  # binding something else changes nothing
    result = load_and_push_again(tmp_path, pcm, "UsesContainer", version, mod.__name__)
    assert result["same_hash"] and not result["new_commits"]
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager
        print(PetClassManager(sys.argv[1]).pull("UsesContainer")().container_is_default())
        """,
        str(pcm.store.path),
        cwd=tmp_path,
    )
    assert out.strip() == "True"


def test_the_default_container_pickles_by_reference_for_dask_style_functions(tmp_path: Path) -> None:
    assert pickle.loads(pickle.dumps(gitpet.Container)) is gitpet.Container
    # Another container is copied, with its settings (its slots), and still works.
    other = gitpet.PetContainer(tmp_path / "other", trust_remote=True)
    copy = pickle.loads(pickle.dumps(other))
    assert copy is not other and copy.store.path == other.store.path and copy.pif is not None
    # A function defined in __main__ is pickled by value with the globals it uses.
    out = run_python(
        """
        import cloudpickle, pickle
        from gitpet import Container

        def setup():
            return Container

        data = cloudpickle.dumps(setup)
        print(b"PetContainer" in data, pickle.loads(data)() is Container)
        """,
        cwd=tmp_path,
    )
    assert out.split() == ["False", "True"]


def test_capturing_a_stateful_gitpet_object_is_refused_by_name(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module("""
        from gitpet import BaseFactory

        REGISTRY = BaseFactory()

        class UsesRegistry:
            def lookup(self, name):
                return REGISTRY[name]
    """)
    with pytest.raises(UnpicklableClassError, match="BaseFactory"):
        pcm.push(mod.UsesRegistry)
    assert not pcm.store.exists()


# -- 6. source.py is exactly what runs -------------------------------------------------------------


def test_a_method_body_edited_on_disk_after_import_is_refused(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    mod = user_module("""
        class Drifting:
            def value(self):
                return 1
    """)
    path = Path(mod.__file__)
    path.write_text(path.read_text().replace("return 1", "return 2"))  # same lines, other code
    with pytest.raises(StaleSourceError, match="value"):
        pcm.push(mod.Drifting)
    assert not pcm.store.exists()


# -- 9. nothing printed at interpreter exit ----------------------------------------------------------


def test_scripts_exit_without_noise_with_a_packed_store_and_after_an_error(tmp_path: Path) -> None:
    setup = """
        from gitpet import BasePlugin, Container

        @Container.bind(persist=True)
        class Filter(BasePlugin):
            def __init__(self, k=1):
                super().__init__(k=k)

        Container.ppif.push_all()
        Container.store.gc()
    """
    env = {"PYTHONPATH": str(REPO_ROOT)}
    run_python(setup, cwd=tmp_path)
    assert list((tmp_path / ".gitpet" / "objects" / "pack").glob("*.pack"))
    for script in (
        "from gitpet import Container\nprint(Container.ppif['Filter'])\n",
        "from gitpet import Container\nContainer.ppif['Filter']\nraise ValueError('deliberate')\n",
    ):
        proc = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
        )
        assert "Exception ignored" not in proc.stderr, proc.stderr
        assert "Filter" in proc.stdout or "deliberate" in proc.stderr
