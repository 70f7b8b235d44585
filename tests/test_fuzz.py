"""Fuzzing the public API and the CLI: every failure is a GitpetError naming the bad value,
and a failed call leaves the store exactly as it was."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitpet import BaseFactory, BasePlugin, GitpetError, GitStore, PetClassManager, PetFactory
from gitpet._cli import command_names
from gitpet._cli import main as cli
from tests.conftest import ModuleWriter, store_snapshot

PLUGINS = """
from gitpet import BasePlugin


class Good(BasePlugin):
    def __init__(self, inner=None, scale=1):
        super().__init__(inner=inner, scale=scale)
"""


@pytest.fixture
def populated(tmp_path: Path, user_module: ModuleWriter) -> Iterator[tuple[PetFactory, type]]:
    pcm = PetClassManager(tmp_path / "store")
    factory = PetFactory(pcm, BaseFactory())
    good = user_module(PLUGINS).Good
    factory["Good"] = good
    factory.push_all()
    pcm.store.tag("Good", "v1")
    yield factory, good
    pcm.store.close()


def _fails_cleanly(store: GitStore, call: Callable[[], object], bad: object) -> None:
    """``call`` either succeeds, or raises a GitpetError naming ``bad`` with the store unchanged."""
    before = store_snapshot(store.path)
    try:
        call()
    except GitpetError as err:
        assert repr(bad) in str(err) or (isinstance(bad, str) and bad and bad in str(err)), (str(err), bad)
        assert store_snapshot(store.path) == before
    except Exception as err:  # noqa: BLE001 - the property is that nothing else escapes
        pytest.fail(f"{type(err).__name__} escaped for {bad!r}: {err}")


NAMES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["pipelines", "HEAD", "-x", ".hidden", "a..b", "a.lock", "a b", "a/b", "@", "a@{1}", "é", "\0"]
    ),
)


@given(name=NAMES)
def test_any_class_name(populated: tuple[PetFactory, type], name: str) -> None:
    factory, _good = populated
    store = factory.manager.store
    for call in (
        lambda: factory.manager.pull(name),
        lambda: store.versions(name),
        lambda: store.tags(name),
        lambda: store.resolve(name, "v1"),
        lambda: store.trust(name),
        lambda: store.tag(name, "t"),
        lambda: store.rollback(name, "~1"),
        lambda: factory[name],
        lambda: factory.get_version(name, "v1"),
    ):
        _fails_cleanly(store, call, name)


VERSIONS = st.one_of(
    st.text(max_size=45),
    st.from_regex(r"[0-9a-f]{1,41}", fullmatch=True),
    st.from_regex(r"~[0-9]{0,4}", fullmatch=True),
    st.sampled_from(["", "~", "~-1", "v1", "v2", "HEAD", "Good", "@", "0" * 40]),
)


@given(version=VERSIONS)
def test_any_version_string(populated: tuple[PetFactory, type], version: str) -> None:
    factory, _good = populated
    store = factory.manager.store
    for call in (
        lambda: factory.manager.pull("Good", version),
        lambda: store.resolve("Good", version),
        lambda: store.read_version("Good", version),
        lambda: store.tag("Good", "fuzzed", version, force=True),
        lambda: store.rollback("Good", version),
        lambda: factory.get_version("Good", version),
        lambda: store.trust("Good", version),
    ):
        _fails_cleanly(store, call, version)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
DUMPS = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "clazz": st.one_of(st.sampled_from(["Good", "Nope", ""]), JSONISH),
            "version_hash": st.one_of(st.none(), st.sampled_from(["v1", "~0", "0" * 40]), JSONISH),
            "params": st.one_of(st.dictionaries(st.sampled_from(["inner", "scale"]), JSONISH), JSONISH),
            "extra": JSONISH,
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {
            "clazz": st.just("Good"),
            "params": st.fixed_dictionaries({"inner": inner | st.lists(inner, max_size=2)}),
        }
    ),
    max_leaves=4,
)


def _with_cycle(dump: dict[str, Any]) -> dict[str, Any]:
    cyclic: dict[str, Any] = {"clazz": "Good", "params": {}}
    cyclic["params"]["inner"] = cyclic
    return {"clazz": "Good", "params": {"inner": [dump, cyclic]}}


@given(dump=st.one_of(DUMPS, DUMPS.map(_with_cycle), JSONISH))
def test_any_dump(populated: tuple[PetFactory, type], dump: Any) -> None:
    factory, _good = populated
    store = factory.manager.store
    before = store_snapshot(store.path)
    try:
        built = BasePlugin.build_from_dump(dump, factory)
    except GitpetError as err:
        assert str(err) and ("dump" in str(err) or "Nope" in str(err) or "not found" in str(err)), str(err)
    except Exception as err:  # noqa: BLE001 - the property is that nothing else escapes
        pytest.fail(f"{type(err).__name__} escaped for {dump!r}: {err}")
    else:
        assert isinstance(built, BasePlugin) and type(built).__name__ == "Good"
    assert store_snapshot(store.path) == before


PATH_PARTS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=30
) | st.sampled_from(["..", ".", "\0", "x" * 300, "é/ü", "a\nb"])


@given(part=PATH_PARTS)
def test_any_store_path(tmp_path: Path, part: str) -> None:
    (tmp_path / "a_file").write_text("not a repository")
    (tmp_path / "a_dir").mkdir(exist_ok=True)
    (tmp_path / "a_dir" / "junk").write_text("x")
    for base in (tmp_path, tmp_path / "a_file", tmp_path / "a_dir"):
        path = f"{base}/{part}"
        for action in ("names", "versions", "verify", "init"):
            try:
                method = getattr(GitStore(path), action)
                method("Good") if action == "versions" else method()
            except GitpetError as err:
                named = str(Path(path).absolute())  # the store names its path as pathlib spells it
                assert repr(named) in str(err) or named in str(err), str(err)
            except Exception as err:  # noqa: BLE001 - the property is that nothing else escapes
                pytest.fail(f"{type(err).__name__} escaped for store path {path!r}: {err}")


COMMANDS = command_names()


@given(command=st.sampled_from(COMMANDS), args=st.lists(st.text(max_size=12), max_size=4))
def test_any_command_line(populated: tuple[PetFactory, type], command: str, args: list[str]) -> None:
    store = populated[0].manager.store
    before = store_snapshot(store.path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli(["--store", str(store.path), command, *args])
        except SystemExit as usage:
            code = usage.code  # argparse: a usage error
    assert code in (0, 1, 2), code
    if code == 1:
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gitpet: error: "), err.getvalue()
        if command not in ("push", "fetch"):  # a fetch may bring objects before a later ref fails
            assert store_snapshot(store.path) == before
