"""Fuzzing the public API and the CLI: every failure is a GitpetError naming the bad value,
and a failed call leaves the store exactly as it was."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitpet import BaseFactory, BasePlugin, GitpetError, GitStore, PetClassManager, PetFactory
from gitpet.cli.main import command_names
from gitpet.cli.main import main as cli
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


# -- every public entry point, every argument ---------------------------------------------------

# Wrong types, None, huge, unicode, NUL, lone surrogates (what a non-UTF-8 argv becomes).
BAD_VALUES = st.one_of(
    st.sampled_from(
        [None, True, 0, -1, 1.5, float("nan"), float("inf"), b"bytes", [], {}, ("a",), object(), int]
    ),
    st.sampled_from(
        ["x" * 100_000, "\0", "a\0b", "\udcff", "é", "", " ", "-x", "HEAD", "a" * 300, "~99", "../.."]
    ),
    st.text(max_size=30),
    st.binary(max_size=10),
    st.integers(),
)
# A remote argument is never given anything that could name another host (no ':', so no URL and
# no scp-style "host:path"): tests reach only 127.0.0.1.
BAD_REMOTES = BAD_VALUES.filter(lambda value: not (isinstance(value, str) and ":" in value))


def _entry_points(
    factory: PetFactory, good: type, tmp: Path
) -> dict[str, tuple[Callable[..., object], dict[str, object]]]:
    """Every public callable with arguments that work; each argument is then replaced in turn."""
    from gitpet import ModulePolicy, PetContainer, TrustPolicy, loaded_version

    pcm = factory.manager
    store = pcm.store
    v = store.latest_id("Good")
    history = store.pipeline("p")
    dump = {"clazz": "Good", "version_hash": v, "params": {}}
    container = PetContainer(store=store)
    return {
        "GitStore": (GitStore, {"path": str(store.path)}),
        "GitStore.add_remote": (
            store.add_remote,
            {"name": "o", "url": str(tmp / "nowhere.git"), "trusted": False},
        ),
        "GitStore.fetch": (store.fetch, {"remote": "nope", "names": None, "force_tags": False}),
        "GitStore.push": (
            store.push,
            {"remote": "nope", "names": None, "retry_for": 1.0, "allow_unvouched": False},
        ),
        "GitStore.from_config": (GitStore.from_config, {"config": store.config}),
        "GitStore.gc": (store.gc, {"prune_older_than": 3600.0}),
        "GitStore.has_version": (store.has_version, {"name": "Good", "version_id": v}),
        "GitStore.is_trusted": (store.is_trusted, {"version_id": v}),
        "GitStore.is_trusted_remote": (store.is_trusted_remote, {"remote": "o"}),
        "GitStore.latest_commit": (store.latest_commit, {"name": "Good"}),
        "GitStore.pipeline": (store.pipeline, {"name": "p"}),
        "GitStore.read_version": (store.read_version, {"name": "Good", "version": "v1"}),
        "GitStore.requirements": (store.requirements, {"name": "Good", "version": None}),
        "GitStore.remote_location": (store.remote_location, {"remote": "o"}),
        "GitStore.remove_remote": (store.remove_remote, {"name": "o"}),
        "GitStore.rollback": (store.rollback, {"name": "Good", "version": "v1"}),
        "GitStore.meta": (store.meta, {"name": "Good", "version": "v1"}),
        "GitStore.untrust": (store.untrust, {"name": "Good", "version": "v1"}),
        "GitStore.delete_tag": (store.delete_tag, {"name": "Good", "tag": "v1"}),
        "GitStore.persist_version": (
            store.persist_version,
            {"name": "Good", "version": pcm.encode(good, "Good"), "message": "m"},
        ),
        "GitStore.signed_by": (
            store.signed_by,
            {"name": "Good", "version": "v1", "allowed_signers": str(tmp / "none")},
        ),
        "GitStore.tag": (store.tag, {"name": "Good", "tag": "t", "version": "v1", "force": False}),
        "GitStore.trust": (store.trust, {"name": "Good", "version": "v1"}),
        "GitStore.trust_remote": (store.trust_remote, {"name": "o", "trusted": True}),
        "GitStore.versions": (store.versions, {"name": "Good", "limit": 3}),
        "GitStore.write_versions": (store.write_versions, {"items": []}),
        "PetClassManager": (PetClassManager, {"store": str(store.path), "remote_miss_ttl": 1.0}),
        "PetClassManager.encode": (pcm.encode, {"cls": good, "name": "Good"}),
        "PetClassManager.fetch_class": (pcm.fetch_class, {"name": "Good"}),
        "PetClassManager.pull": (pcm.pull, {"name": "Good", "version": "v1"}),
        "PetClassManager.push": (pcm.push, {"cls": good, "name": "Good"}),
        "PetClassManager.push_many": (
            pcm.push_many,
            {"items": [("Good", good)], "message": "m", "moved": False},
        ),
        "PetClassManager.check_status": (pcm.check_status, {"cls": good, "name": "Good"}),
        "PetClassManager.persist_class": (pcm.persist_class, {"cls": good, "name": "Good", "message": "m"}),
        "PetClassManager.recover_class": (pcm.recover_class, {"name": "Good", "code_hash": "v1"}),
        "PetClassManager.snapshot": (pcm.snapshot, {"pipeline": "p", "version": None}),
        "PetClassManager.verify_sources": (pcm.verify_sources, {"names": ["Good"]}),
        "PetClassManager.build_from_text": (pcm.build_from_text, {"name": "Good", "version": None}),
        "PetClassManager.prefetch": (pcm.prefetch, {"pins": [("Good", "v1")]}),
        "PetClassManager.prefetch_classes": (pcm.prefetch_classes, {"names": ["Good"]}),
        "PetClassManager.vouch": (pcm.vouch, {"name": "Good", "version": None}),
        "PetFactory": (PetFactory, {"class_manager": pcm}),
        "PetFactory.__getitem__": (factory.__getitem__, {"name": "Good"}),
        "PetFactory.__setitem__": (factory.__setitem__, {"name": "Good", "cls": good}),
        "PetFactory.__contains__": (factory.__contains__, {"name": "Good"}),
        "PetFactory.get": (factory.get, {"name": "Good"}),
        "PetFactory.get_version": (factory.get_version, {"name": "Good", "version": "v1"}),
        "PetFactory.prefetch": (factory.prefetch, {"pins": [("Good", "v1")]}),
        "PetFactory.refresh": (factory.refresh, {"names": ["Good"]}),
        "PetFactory.hash_of": (factory.hash_of, {"cls": good, "name": "Good"}),
        "PetFactory.rollback": (factory.rollback, {"name": "Good", "version": "v1"}),
        "PetFactory.tag": (factory.tag, {"name": "Good", "tag": "t2", "version": "v1"}),
        "PipelineHistory.diff": (history.diff, {"a": "~0", "b": None}),
        "PipelineHistory.read": (history.read, {"version": "~0"}),
        "PipelineHistory.save": (history.save, {"dump": dump, "message": "m"}),
        "PipelineHistory.snapshots": (history.snapshots, {"limit": 2}),
        "PipelineHistory.status": (history.status, {"version": "~0"}),
        "PipelineHistory.tag": (history.tag, {"tag": "s1", "version": "~0", "force": False}),
        "PipelineHistory.trust": (history.trust, {"version": "~0"}),
        "BasePlugin.build_from_dump": (BasePlugin.build_from_dump, {"dump": dump, "factory": factory}),
        "TrustPolicy": (TrustPolicy, {"untrusted": "refuse"}),
        "TrustPolicy.signed_by": (TrustPolicy.signed_by, {"allowed_signers": str(tmp / "none")}),
        "ModulePolicy": (ModulePolicy, {"by_value": (), "by_reference": ()}),
        "PetContainer": (PetContainer, {"store": str(store.path)}),
        "PetContainer.load_pipeline": (container.load_pipeline, {"name": "p", "version": None}),
        "PetContainer.bind": (container.bind, {"persist": False, "auto_push": False, "name": None}),
        "loaded_version": (loaded_version, {"cls": good}),
    }


ENTRY_POINTS = [
    "GitStore",
    "GitStore.add_remote",
    "GitStore.fetch",
    "GitStore.push",
    "GitStore.from_config",
    "GitStore.gc",
    "GitStore.has_version",
    "GitStore.is_trusted",
    "GitStore.is_trusted_remote",
    "GitStore.latest_commit",
    "GitStore.pipeline",
    "GitStore.read_version",
    "GitStore.requirements",
    "GitStore.remote_location",
    "GitStore.remove_remote",
    "GitStore.rollback",
    "GitStore.meta",
    "GitStore.untrust",
    "GitStore.delete_tag",
    "GitStore.persist_version",
    "GitStore.signed_by",
    "GitStore.tag",
    "GitStore.trust",
    "GitStore.trust_remote",
    "GitStore.versions",
    "GitStore.write_versions",
    "PetClassManager",
    "PetClassManager.encode",
    "PetClassManager.fetch_class",
    "PetClassManager.pull",
    "PetClassManager.verify_sources",
    "PetClassManager.build_from_text",
    "PetClassManager.prefetch",
    "PetClassManager.prefetch_classes",
    "PetClassManager.vouch",
    "PetClassManager.push",
    "PetClassManager.push_many",
    "PetClassManager.check_status",
    "PetClassManager.persist_class",
    "PetClassManager.recover_class",
    "PetClassManager.snapshot",
    "PetFactory",
    "PetFactory.__getitem__",
    "PetFactory.__setitem__",
    "PetFactory.__contains__",
    "PetFactory.get",
    "PetFactory.get_version",
    "PetFactory.prefetch",
    "PetFactory.refresh",
    "PetFactory.hash_of",
    "PetFactory.rollback",
    "PetFactory.tag",
    "PipelineHistory.diff",
    "PipelineHistory.read",
    "PipelineHistory.save",
    "PipelineHistory.snapshots",
    "PipelineHistory.status",
    "PipelineHistory.tag",
    "PipelineHistory.trust",
    "BasePlugin.build_from_dump",
    "TrustPolicy",
    "TrustPolicy.signed_by",
    "ModulePolicy",
    "PetContainer",
    "PetContainer.load_pipeline",
    "PetContainer.bind",
    "loaded_version",
]


@pytest.fixture
def with_pipeline(populated: tuple[PetFactory, type]) -> tuple[PetFactory, type]:
    factory, _good = populated
    store = factory.manager.store
    store.pipeline("p").save({"clazz": "Good", "version_hash": store.latest_id("Good"), "params": {}})
    return populated


def _hang_guard(seconds: int) -> contextlib.AbstractContextManager[None]:
    import signal

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        def hung(_signum: int, _frame: object) -> None:
            raise AssertionError(f"a call took more than {seconds} s")

        previous = signal.signal(signal.SIGALRM, hung)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)

    return guard()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@settings(max_examples=12 if settings.default.derandomize else 150)
@given(data=st.data())
def test_every_entry_point_with_any_argument_raises_only_gitpet_errors(
    with_pipeline: tuple[PetFactory, type], tmp_path: Path, entry: str, data: st.DataObject
) -> None:
    factory, good = with_pipeline
    store = factory.manager.store
    call, arguments = _entry_points(factory, good, tmp_path)[entry]
    parameter = data.draw(st.sampled_from(sorted(arguments)), label="parameter")
    remote_like = parameter in ("remote", "url")
    bad = data.draw(BAD_REMOTES if remote_like else BAD_VALUES, label="value")
    before = store_snapshot(store.path)
    try:
        with _hang_guard(30):
            call(**{**arguments, parameter: bad})
    except GitpetError:
        assert store_snapshot(store.path) == before, (
            f"{entry}({parameter}={bad!r}) failed but changed the store"
        )
    except Exception as err:  # noqa: BLE001 - the property is that nothing else escapes
        pytest.fail(f"{entry}({parameter}={bad!r}): {type(err).__name__} escaped: {err}")


def test_the_entry_point_table_covers_the_public_api() -> None:
    """A public method added later must be added to the fuzz table too."""
    import inspect

    from gitpet import ModulePolicy, PetContainer, PipelineHistory, TrustPolicy

    public = {
        f"{cls.__name__}.{name}"
        for cls in (GitStore, PetClassManager, PetFactory, PipelineHistory, PetContainer, TrustPolicy)
        for name, member in vars(cls).items()
        if callable(member) or isinstance(member, (classmethod, staticmethod))
        if not name.startswith("_") or name in ("__getitem__", "__setitem__", "__contains__")
    }
    without_arguments = {
        "GitStore.close",
        "GitStore.exists",
        "GitStore.init",
        "GitStore.names",
        "GitStore.pipelines",
        "GitStore.remotes",
        "GitStore.verify",
        "GitStore.wait_for_fetches",
        "PetClassManager.names",
        "PetFactory.push_all",
        "PipelineHistory.exists",
        "PipelineHistory.tags",
        "TrustPolicy.allow",
        "TrustPolicy.refuse",
        "PetContainer.configure",
    }
    # Covered elsewhere: with any class name / version string (above), or by their own tests.
    elsewhere = {
        "GitStore.latest_id",
        "GitStore.resolve",
        "GitStore.tags",
        "PetClassManager.rollback",
        "PetClassManager.versions",
        "PetClassManager.get_class_hash",
        "PetClassManager.fetch_pipeline",
        "PetFactory.use_manager",
        "PetContainer.save_pipeline",
    }
    assert inspect.isclass(ModulePolicy)
    missing = public - set(ENTRY_POINTS) - without_arguments - elsewhere
    assert not missing, f"add these to the fuzz table: {sorted(missing)}"


@pytest.mark.parametrize(
    "argv",
    [
        [b"remote", b"add", b"o", b"\xff\xfe"],
        [b"remote", b"add", b"\xff", b"x"],
        [b"show", b"Mo\xffdel"],
        [b"tag", b"Good", b"t\xff"],
        [b"pipeline", b"show", b"p\xff"],
        [b"push", b"\xff"],
        [b"diff", b"Good", b"\xff\x1b[2J"],
    ],
    ids=lambda argv: b" ".join(argv).decode("latin-1").encode("unicode_escape").decode(),
)
def test_a_command_line_that_is_not_utf8_is_a_one_line_error(
    populated: tuple[PetFactory, type], argv: list[bytes]
) -> None:
    """Arguments as bytes, as a shell passes them: never a traceback, the store unchanged."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    store = populated[0].manager.store
    before = store_snapshot(store.path)
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"gitpet", b"--store", os.fsencode(store.path), *argv],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.decode("utf-8").splitlines()
    assert len(lines) == 1 and lines[0].startswith("gitpet: error: ") and "\x1b" not in lines[0], lines
    assert store_snapshot(store.path) == before
