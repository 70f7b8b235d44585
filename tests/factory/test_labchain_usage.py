"""labchain's documented PetFactory usage, end to end, plus container and plugins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitpet import (
    BaseFactory,
    BasePlugin,
    ClassNotFoundError,
    GitpetError,
    PetClassManager,
    PetContainer,
    PetFactory,
    VersionNotFoundError,
)
from tests.conftest import ModuleWriter, run_python

PLUGINS = '''
from gitpet import BasePlugin


class Scale(BasePlugin):
    def __init__(self, factor=2.0):
        super().__init__(factor=factor)
        self.factor = factor

    def apply(self, x):
        return x * self.factor


class Offset(BasePlugin):
    def __init__(self, delta=1.0):
        super().__init__(delta=delta)
        self.delta = delta

    def apply(self, x):
        return x + self.delta


class Chain(BasePlugin):
    """A framework-like composite holding steps in a list and a dict."""

    def __init__(self, steps, named=None, head=None):
        super().__init__(steps=steps, named=named or {}, head=head)
        self.steps, self.named, self.head = steps, named or {}, head

    def apply(self, x):
        if self.head is not None:
            x = self.head.apply(x)
        for step in self.steps:
            x = step.apply(x)
        for key in sorted(self.named):
            x = self.named[key].apply(x)
        return x
'''


class FrameworkPipeline(BasePlugin):
    """Stands in for a framework class: registered in pif, never versioned."""

    def __init__(self, stages):
        super().__init__(stages=stages)
        self.stages = stages

    def apply(self, x):
        for stage in self.stages:
            x = stage.apply(x)
        return x


def test_documented_usage_end_to_end(tmp_path: Path, store_path: Path, user_module: ModuleWriter) -> None:
    mod = user_module(PLUGINS)
    framework = BaseFactory()
    framework["FrameworkPipeline"] = FrameworkPipeline
    factory = PetFactory(PetClassManager(store_path), framework)

    # Register: the hash is computed immediately, nothing is written yet.
    factory["Scale"] = mod.Scale
    factory["Offset"] = mod.Offset
    factory["Chain"] = mod.Chain
    assert set(factory.version_control) == {"Scale", "Offset", "Chain"}
    assert not store_path.exists()

    # push_all: one batch, idempotent.
    assert all(r.created for r in factory.push_all())
    assert not any(r.created for r in factory.push_all())

    # A nested pipeline: plugins in params, in lists and in dicts, under a framework class.
    pipeline = FrameworkPipeline(
        [
            mod.Chain([mod.Scale(3.0), mod.Offset(1.0)], named={"z": mod.Offset(10.0)}, head=mod.Scale(2.0)),
        ]
    )
    dump = pipeline.item_dump(factory)
    assert dump["clazz"] == "FrameworkPipeline" and dump["version_hash"] is None
    chain_dump = dump["params"]["stages"][0]
    assert chain_dump["version_hash"] == factory.version_control["Chain"]
    assert chain_dump["params"]["named"]["z"]["clazz"] == "Offset"
    expected = pipeline.apply(2.0)  # ((2*2)*3 + 1) + 10 = 23
    assert expected == 23.0
    old_scale = factory.version_control["Scale"]

    # The classes move on; the dump still rebuilds with the exact old versions.
    mod2 = user_module(PLUGINS.replace("return x * self.factor", "return x * self.factor * 100"))
    factory["Scale"] = mod2.Scale
    factory.push_all()
    assert factory.version_control["Scale"] != old_scale

    dump_file = tmp_path / "pipeline.json"
    dump_file.write_text(json.dumps(dump))
    # Later, on another machine: a fresh process, no plugin module, only the store.
    out = run_python(
        """
        import json, sys
        from gitpet import BaseFactory, BasePlugin, PetClassManager, PetFactory
        from tests.factory.test_labchain_usage import FrameworkPipeline
        framework = BaseFactory()
        framework["FrameworkPipeline"] = FrameworkPipeline
        factory = PetFactory(PetClassManager(sys.argv[1]), framework)
        dump = json.load(open(sys.argv[2]))
        rebuilt = BasePlugin.build_from_dump(dump, factory)
        latest = factory["Scale"]            # lazy load of the latest version
        print(rebuilt.apply(2.0), latest(3.0).apply(1.0), factory.get("Nope", "default"))
        print(json.dumps(rebuilt.item_dump(factory)) == json.dumps(dump))
        """,
        str(store_path),
        str(dump_file),
        cwd=tmp_path,
    )
    rebuilt_value, latest_value, default, same_dump = out.split()
    assert float(rebuilt_value) == expected
    assert float(latest_value) == 300.0
    assert default == "default"
    assert same_dump == "True"


def test_get_version_is_exact_and_not_registered(store_path: Path, user_module: ModuleWriter) -> None:
    factory = PetFactory(PetClassManager(store_path), BaseFactory())
    factory["Scale"] = user_module(PLUGINS).Scale
    factory.push_all()
    v1 = factory.version_control["Scale"]
    factory["Scale"] = user_module(PLUGINS.replace("x * self.factor", "x * self.factor + 1")).Scale
    factory.push_all()
    old = factory.get_version("Scale", v1[:10])
    assert old(2.0).apply(1.0) == 2.0
    assert factory["Scale"](2.0).apply(1.0) == 3.0  # latest is still registered
    assert factory.version_control["Scale"] != v1
    with pytest.raises(VersionNotFoundError):
        factory.get_version("Scale", "f" * 40)
    with pytest.raises(ValueError):  # labchain documents ValueError for unknown hashes
        factory.get_version("Scale", "not-a-hash")


def test_missing_class_is_gitpet_error_and_attribute_error(store_path: Path) -> None:
    factory = PetFactory(PetClassManager(store_path), BaseFactory())
    with pytest.raises(ClassNotFoundError) as excinfo:
        factory["Nowhere"]
    assert isinstance(excinfo.value, GitpetError) and isinstance(excinfo.value, AttributeError)
    assert "Nowhere" in str(excinfo.value)
    assert factory.get("Nowhere") is None
    sentinel = object()
    assert factory.get("Nowhere", sentinel) is sentinel
    assert not store_path.exists()


def test_container_bind_and_configure(tmp_path: Path, user_module: ModuleWriter) -> None:
    container = PetContainer(tmp_path / "first")
    mod = user_module(PLUGINS)
    container.bind()(FrameworkPipeline)
    container.bind(persist=True)(mod.Scale)
    container.bind(persist=True, auto_push=True, name="Shift")(mod.Offset)
    assert container.pif["FrameworkPipeline"] is FrameworkPipeline
    assert container.ppif["FrameworkPipeline"] is FrameworkPipeline  # fallback
    assert container.store.names() == ["Shift"]  # auto_push pushed only that one
    container.ppif.push_all()
    assert container.store.names() == ["Scale", "Shift"]
    container.configure(store=tmp_path / "second")
    assert container.store.path == tmp_path / "second"
    assert "Scale" in container.ppif  # registrations survive configure
    container.ppif.push_all()
    assert container.store.names() == ["Scale", "Shift"]
    with pytest.raises(GitpetError):
        container.bind(auto_push=True)
    container.configure(store=tmp_path / "second", remote="origin")
    assert container.remote == "origin" and container.pcm.remote == "origin"
    assert container.store.path == tmp_path / "second"


def test_item_dump_uses_the_default_container(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    plugin = FrameworkPipeline([])
    assert plugin.item_dump() == {
        "clazz": "FrameworkPipeline",
        "version_hash": None,
        "params": {"stages": []},
    }
    assert not (tmp_path / ".gitpet").exists()
