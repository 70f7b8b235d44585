"""Property tests over generated classes: round trip, idempotent push, distinct ids."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gitpet import PetClassManager
from tests.conftest import ModuleWriter

_counter = itertools.count()

constants = st.one_of(
    st.integers(-1000, 1000),
    st.text(alphabet="abcxyz _-", max_size=8),
    st.tuples(st.integers(-5, 5), st.integers(-5, 5)),
    st.frozensets(st.text(alphabet="pqrs", min_size=1, max_size=3), max_size=5),
    st.sets(st.integers(0, 50), max_size=6),
)
operators = st.sampled_from(["+", "-", "*", "%", "//"])


@st.composite
def class_sources(draw: st.DrawFn) -> str:
    const_name = draw(st.sampled_from(["LIMIT", "TABLE", "WORDS"]))
    const_value = draw(constants)
    n_methods = draw(st.integers(1, 4))
    lines = [
        f"{const_name} = {const_value!r}",
        "",
        "",
        "def _size(c):",
        "    return len(repr(c if isinstance(c, (int, str)) else sorted(c, key=repr)))",
        "",
        "",
        "def helper(v):",
        f"    return v {draw(operators)} {draw(st.integers(1, 9))}",
        "",
        "",
        "class Generated:",
        f"    attr = {draw(st.integers(-50, 50))}",
    ]
    for index in range(n_methods):
        op = draw(operators)
        k = draw(st.integers(1, 20))
        use_helper = draw(st.booleans())
        body = f"helper(x) {op} {k}" if use_helper else f"x {op} {k} + self.attr"
        lines += ["", f"    def m{index}(self, x):", f"        return ({body}, _size({const_name}))"]
    return "\n".join(lines) + "\n"


def _behaviour(cls: type, n_methods: int) -> list[object]:
    instance = cls()
    return [getattr(instance, f"m{i}")(x) for i in range(n_methods) for x in (-7, 0, 3, 11)]


def _methods(source: str) -> int:
    return source.count("    def m")


@given(source=class_sources())
def test_generated_class_round_trips(tmp_path: Path, user_module: ModuleWriter, source: str) -> None:
    pcm = PetClassManager(tmp_path / f"store-{next(_counter)}")
    cls = user_module(source).Generated
    version = pcm.push(cls)
    commit = pcm.store.latest_commit("Generated")
    assert pcm.push(cls) == version
    assert pcm.store.latest_commit("Generated") == commit  # pushing twice adds nothing
    loaded = pcm.pull("Generated", version)
    assert loaded is not cls
    assert _behaviour(loaded, _methods(source)) == _behaviour(cls, _methods(source))
    assert pcm.get_class_hash(loaded) == version
    assert pcm.codec.encode(loaded, "Generated").id == version  # uncached, re-pickled
    pcm.store.close()


@given(sources=st.lists(class_sources(), min_size=2, max_size=4, unique=True))
def test_distinct_classes_never_share_an_id(
    tmp_path: Path, user_module: ModuleWriter, sources: list[str]
) -> None:
    pcm = PetClassManager(tmp_path / "unused")
    ids = {}
    for source in sources:
        version = pcm.get_class_hash(user_module(source).Generated)
        ids.setdefault(version, textwrap.dedent(source))
    assert len(ids) == len(sources)
