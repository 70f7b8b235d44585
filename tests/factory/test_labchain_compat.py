"""labchain code runs unchanged (issue 19, items 1 to 5 and 9, 10): each as labchain's docs use it."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from gitpet import (
    BaseFactory,
    BasePlugin,
    ClassNotFoundError,
    DifferentClassError,
    GitStore,
    InvalidArgumentError,
    InvalidDumpError,
    LargeVersionWarning,
    PetClassManager,
    PetContainer,
    PetFactory,
    VersionNotFoundError,
)
from tests.conftest import ModuleWriter, git

STEP = """
from gitpet import BasePlugin

class Scale(BasePlugin):
    def __init__(self, k=1, _seed=0):
        pass

    def apply(self, x):
        return x * self.k + {bias}
"""


def test_assigning_storage_uses_that_store_and_a_stray_attribute_is_refused(tmp_path: Path) -> None:
    container = PetContainer(tmp_path / "first")
    container.storage = GitStore(tmp_path / "second")
    assert container.store.path == tmp_path / "second"
    container.storage = str(tmp_path / "third")  # a path, as labchain's LocalStorage took one

    @container.bind(persist=True)
    class Kept:
        pass

    container.ppif.push_all()
    assert GitStore(tmp_path / "third").names() == ["Kept"]
    assert not (tmp_path / "first").exists() and not (tmp_path / "second").exists()
    assert container.storage.path == tmp_path / "third"
    with pytest.raises(InvalidArgumentError, match=r"GitStore or a path"):
        container.storage = object()  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        container.stroage = str(tmp_path / "typo")  # type: ignore[attr-defined]


def test_check_status_persist_class_and_recover_class(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    first = user_module(STEP.format(bias=0)).Scale
    assert pcm.check_status(first) == "untracked"
    latest = pcm.push(first)
    assert pcm.check_status(first) == "synced"
    second = user_module(STEP.format(bias=1)).Scale
    assert pcm.check_status(second) == "out_of_sync"

    candidate = pcm.persist_class(second, message="candidate, not deployed")
    assert pcm.store.latest_id("Scale") == latest  # latest did not move
    assert pcm.check_status(second) == "out_of_sync" and pcm.check_status(first) == "synced"
    assert pcm.recover_class("Scale", candidate)().apply(2) == 3
    assert pcm.pull("Scale", code_hash=candidate) is pcm.recover_class("Scale", candidate)
    assert pcm.pull("Scale")().apply(2) == 2
    assert pcm.persist_class(second) == candidate  # already in the history: nothing written
    log = git(pcm.store.path, "log", "--format=%s", "Scale").stdout.splitlines()
    assert log == [f"Scale: version {latest} stays the latest", "Scale: candidate, not deployed", log[2]]
    assert git(pcm.store.path, "fsck", "--strict").returncode == 0
    with pytest.raises(InvalidArgumentError):
        pcm.pull("Scale", latest, code_hash=candidate)


def test_get_version_takes_code_hash_and_misses_are_labchains_errors(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    factory = PetFactory(pcm, BaseFactory())
    factory["Scale"] = user_module(STEP.format(bias=0)).Scale
    [result] = factory.push_all()
    assert factory.get_version("Scale", code_hash=result.id) is factory["Scale"]
    with pytest.raises(ValueError):  # labchain: "Hash doesn't exist in storage"
        factory.get_version("Scale", code_hash="0" * 40)
    with pytest.raises(ValueError):  # labchain's pcm.pull of a class it does not have
        pcm.pull("Missing")
    with pytest.raises(AttributeError):  # the factory miss stays labchain's AttributeError
        factory["Missing"]
    with pytest.raises(ValueError):
        BasePlugin.build_from_dump({"clazz": "Missing", "version_hash": None, "params": {}}, factory)
    with pytest.raises(VersionNotFoundError):
        BasePlugin.build_from_dump({"clazz": "Scale", "version_hash": "0" * 40, "params": {}}, factory)


def test_init_params_are_public_attributes_and_reassigning_one_changes_the_dump(
    user_module: ModuleWriter,
) -> None:
    Scale = user_module(STEP.format(bias=0)).Scale
    plugin = Scale(3, _seed=7)
    assert (plugin.k, plugin._seed) == (3, 7)
    factory = BaseFactory()
    factory["Scale"] = Scale
    assert plugin.item_dump(factory)["params"] == {"k": 3}
    plugin.k = 5
    assert plugin.item_dump(factory) == {"clazz": "Scale", "version_hash": None, "params": {"k": 5}}
    assert plugin.item_dump(factory, include=["_seed"])["_seed"] == 7
    assert plugin.item_dump(["_seed"])["_seed"] == 7  # labchain's positional include
    assert BasePlugin.build_from_dump(plugin.item_dump(factory, include=["_seed"]), factory).k == 5
    with pytest.raises(InvalidArgumentError):
        plugin.item_dump(factory, include=["k"])  # a param is dumped already


class Holder(BasePlugin):
    def __init__(self, value=None, steps=(), kind=None, **extra):
        pass


def test_every_dump_is_json_and_a_class_param_rebuilds_as_the_class(pcm: PetClassManager) -> None:
    factory = PetFactory(pcm, BaseFactory())
    factory["Holder"] = Holder
    factory.push_all()
    plugin = Holder(
        value=np.float32(0.5),
        steps=(np.int64(3), np.arange(3), Holder(value=np.bool_(True))),
        kind=Holder,
        extra_weight=np.array([[1.5, 2.0]]),
    )
    dump = plugin.item_dump(factory)
    assert json.loads(json.dumps(dump)) == dump
    assert dump["params"]["value"] == 0.5 and dump["params"]["steps"][:2] == [3, [0, 1, 2]]
    assert dump["params"]["kind"] == {"clazz": "Holder", "version_hash": factory.version_control["Holder"]}
    rebuilt = BasePlugin.build_from_dump(json.loads(json.dumps(dump)), factory)
    assert rebuilt.kind is factory["Holder"] and rebuilt.extra_weight == [[1.5, 2.0]]
    assert rebuilt.steps[2].value is True
    with pytest.raises(InvalidDumpError, match=r"dump.params.value: a builtins.set cannot be dumped"):
        Holder(value={1, 2}).item_dump(factory)


class LabchainLikeFactory:
    """A factory that only has labchain's duck-typed methods."""

    def __init__(self, classes: dict[str, type]) -> None:
        self.classes = classes
        self.asked: list[tuple[str, str]] = []

    def get_version(self, name: str, version: str) -> type:
        self.asked.append((name, version))
        return self.classes[name]

    def get(self, name: str) -> type | None:
        return self.classes.get(name)


def test_build_from_dump_takes_any_factory_with_get_version() -> None:
    factory = LabchainLikeFactory({"Holder": Holder})
    dump = {"clazz": "Holder", "version_hash": "abc1234", "params": {"value": 2}}
    assert BasePlugin.build_from_dump(dump, factory).value == 2
    assert factory.asked == [("Holder", "abc1234")]
    with pytest.raises(ClassNotFoundError):
        BasePlugin.build_from_dump({"clazz": "Nope", "version_hash": None, "params": {}}, factory)
    with pytest.raises(InvalidArgumentError):
        BasePlugin.build_from_dump(dump, object())


def test_bind_persist_registers_in_both_factories_which_give_attributes_and_pairs(tmp_path: Path) -> None:
    container = PetContainer(tmp_path / "store")

    @container.bind(persist=True)
    class MyFilter(BasePlugin):
        pass

    assert container.pif["MyFilter"] is MyFilter and "MyFilter" in container.ppif.version_control
    assert container.ppif.MyFilter is MyFilter and container.pif.MyFilter is MyFilter
    assert list(container.ppif) == [("MyFilter", MyFilter)]
    assert dict(container.pif) == {"MyFilter": MyFilter}
    with pytest.raises(AttributeError):
        container.ppif.NoSuchFilter  # noqa: B018
    assert not hasattr(container.pif, "_private")


def test_a_push_message_is_the_commit_subject_and_the_id_stays_in_a_trailer(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    version = pcm.push(user_module(STEP.format(bias=0)).Scale, message="faster apply\n\nmeasured on 1M rows")
    factory = PetFactory(pcm, BaseFactory())
    factory["Scale"] = user_module(STEP.format(bias=2)).Scale
    [result] = factory.push_all(message="bias 2")
    body = git(pcm.store.path, "log", "-1", "--format=%B", "Scale~1").stdout
    assert body == f"Scale: faster apply\n\nmeasured on 1M rows\n\nVersion: {version}\n\n"
    assert pcm.versions("Scale")[0].message.splitlines()[0] == "Scale: bias 2"
    trailers = git(pcm.store.path, "log", "-1", "--format=%(trailers:key=Version,valueonly)", "Scale")
    assert trailers.stdout.strip() == result.id
    assert subprocess.run(["git", f"--git-dir={pcm.store.path}", "fsck", "--strict"]).returncode == 0


def test_another_modules_class_of_the_same_name_is_refused_unless_moved(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    first = user_module("class Model:\n    x = 1\n", name="a_model").Model
    other = user_module("class Model:\n    x = 2\n", name="b_model").Model
    version = pcm.push(first)
    with pytest.raises(
        DifferentClassError, match=r'a_model.Model; this is b_model.Model.*name="b_model_Model"'
    ):
        pcm.push(other)
    assert pcm.store.latest_id("Model") == version and len(pcm.versions("Model")) == 1
    factory = PetFactory(pcm, BaseFactory())
    factory["Model"] = other
    with pytest.raises(DifferentClassError):
        factory.push_all()
    assert pcm.push(other, "b_model_Model") != version  # under its own name
    moved = factory.push_all(moved=["Model"])[0].id  # the same class, moved: its history goes on
    assert pcm.store.latest_id("Model") == moved and len(pcm.versions("Model")) == 2
    nested = user_module("class Outer:\n    class Model:\n        x = 3\n", name="c_model").Outer.Model
    with pytest.raises(DifferentClassError, match=r"this is c_model\.Outer\.Model"):
        pcm.push(nested, "Model")


def test_a_class_moved_by_another_manager_meanwhile_is_refused_at_the_next_push_from_here(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    """The latest checked here is remembered by its id: another writer's move is not missed."""
    pcm.push(user_module("class Model:\n    x = 1\n", name="a_model").Model)
    elsewhere = PetClassManager(pcm.store.path)
    moved = elsewhere.push(user_module("class Model:\n    x = 2\n", name="b_model").Model, moved=True)
    edited = user_module("class Model:\n    x = 3\n", name="a_model").Model
    with pytest.raises(DifferentClassError, match=r"b_model.Model; this is a_model.Model"):
        pcm.push(edited)
    assert pcm.store.latest_id("Model") == moved
    assert pcm.push(user_module("class Model:\n    x = 4\n", name="b_model").Model) != moved


def test_a_large_captured_global_is_named_in_a_warning_before_it_is_stored(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    big = user_module(
        "import numpy as np\nWEIGHTS = np.ones((3, 1024, 1024))\nSMALL = 2\n\n"
        "class Heavy:\n    def score(self):\n        return float(WEIGHTS.sum()) * SMALL\n"
    ).Heavy
    with pytest.warns(
        LargeVersionWarning,
        match=r"Heavy@\w+ is \d+\.\d MiB, above 16\.0 MiB: it captures WEIGHTS \(24\.0 MiB\)",
    ) as seen:
        version = pcm.push(big)
    assert "SMALL" not in str(seen[0].message)
    assert pcm.pull("Heavy", version)().score() == 3 * 1024 * 1024 * 2
    quiet = PetClassManager(pcm.store, large_version_bytes=64 * 2**20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet.push(big)  # under its limit: no warning
    out = subprocess.run(
        [sys.executable, "-m", "gitpet", "--store", str(pcm.store.path), "ls", "--long"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines()[1].startswith("Heavy\t") and out.splitlines()[1].endswith("MiB")
