"""A class's text (captured.py + source.py) builds the very class that was pickled: source-complete.

These check the machinery on real modules, and the shapes that are not text say why.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitpet import Container, ModulePolicy, PetClassManager, VersionFiles, VersionTree
from gitpet.codec.captured import capture, parse_blocks
from gitpet.codec.from_source import build_from_source, check_source_complete
from gitpet.codec.pickler import dumps_class
from gitpet.codec.source import SourceFinder
from gitpet.format.meta import meta_json
from tests.conftest import REPO_ROOT, ModuleWriter, run_python

POLICY = ModulePolicy()

HELPERS = """
import math
from collections import OrderedDict as Ordered

SCALE = 3
NAMES = ("a", "b")


def helper(x):
    return x * SCALE + math.floor(0.5)


class Base:
    def describe(self):
        return "base"


class Model(Base):
    def run(self, x):
        return helper(x) + len(NAMES) + len(Ordered())
"""


def _check(cls: type) -> tuple[bool, str, str]:
    found = SourceFinder().find(cls)
    pickled = dumps_class(
        cls,
        POLICY,
        source_text=found.text,
        filename=found.filename,
        first_line=found.first_line,
        last_line=found.last_line,
    )
    captured = capture(cls, found.text, POLICY, indent=found.indent)
    result = check_source_complete(cls, pickled.data, found.text, captured, POLICY)
    return result.complete, result.reason, captured.text


def test_a_class_with_helpers_constants_imports_and_a_base_is_source_complete(
    user_module: ModuleWriter,
) -> None:
    complete, reason, text = _check(user_module(HELPERS).Model)
    assert (complete, reason) == (True, "")
    kinds = [(block.kind, block.name) for block in parse_blocks(text)]
    assert kinds == [("imports", "-"), ("constants", "-"), ("function", "helper"), ("class", "Base")]
    assert "import math\nfrom collections import OrderedDict as Ordered\n" in text
    assert "NAMES = ('a', 'b')\nSCALE = 3\n" in text


def test_a_helper_change_shows_in_the_captured_text(user_module: ModuleWriter) -> None:
    _, _, before = _check(user_module(HELPERS).Model)
    _, _, after = _check(user_module(HELPERS.replace("x * SCALE", "x * SCALE + 1")).Model)
    _, _, constant = _check(user_module(HELPERS.replace("SCALE = 3", "SCALE = 4")).Model)
    assert before != after and "return x * SCALE + 1 + math.floor(0.5)" in after
    assert before != constant and "SCALE = 4" in constant


def test_values_of_installed_types_are_written_as_the_text_that_builds_them(
    user_module: ModuleWriter,
) -> None:
    module = user_module(
        """
        import array
        import datetime
        import re
        from collections import OrderedDict
        from decimal import Decimal
        from fractions import Fraction
        from pathlib import PurePosixPath

        PATTERN = re.compile(r"a+b", re.IGNORECASE)
        START = datetime.date(2024, 1, 31)
        RATE = Decimal("1.5")
        THIRD = Fraction(1, 3)
        ROOT = PurePosixPath("/data/models")
        ORDER = OrderedDict([("a", 1), ("b", 2)])
        WEIGHTS = array.array("d", [0.5, 0.25])


        class UsesConstants:
            def run(self, text):
                found = bool(PATTERN.search(text))
                return found, START.year, RATE * 2, THIRD * 3, str(ROOT / "x"), list(ORDER), sum(WEIGHTS)
        """
    )
    complete, reason, text = _check(module.UsesConstants)
    assert (complete, reason) == (True, "")
    for line in (
        "PATTERN = re.compile('a+b', re.IGNORECASE)",
        "START = datetime.date(2024, 1, 31)",
        "RATE = Decimal('1.5')",
        "WEIGHTS = array('d', [0.5, 0.25])",
        "from decimal import Decimal",
        "import re",
    ):
        assert line in text


def test_a_module_with_postponed_annotations_builds_from_text(user_module: ModuleWriter) -> None:
    module = user_module(
        """
        from __future__ import annotations

        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal


        def double(x: Decimal) -> Decimal:
            return x * 2


        class Annotated:
            def run(self, x: Decimal) -> Decimal:
                return double(x)
        """
    )
    complete, reason, text = _check(module.Annotated)
    assert (complete, reason) == (True, "")
    assert text.index("from __future__ import annotations") < text.index("def double")


def test_a_future_import_under_another_name_is_stored_not_a_crash(user_module: ModuleWriter) -> None:
    # ``as`` binds the feature to a name that is no feature: it is not captured, so the text is
    # read with annotations evaluated, and needs a name the module lacks. Said, not raised.
    module = user_module(
        """
        from __future__ import annotations as postponed


        class Annotated:
            def run(self, x: Undefined) -> Undefined:
                return x
        """
    )
    complete, reason, _text = _check(module.Annotated)
    assert (complete, reason) == (False, "it uses 'Undefined', which its module does not define")


def test_the_shapes_that_are_not_text_say_why(user_module: ModuleWriter, tmp_path: Path) -> None:
    module = user_module(
        """
        class Settings:
            scale = 2


        SETTINGS = Settings()


        def make(limit):
            class Made:
                def keep(self, x):
                    return x < limit

            return Made


        class UsesSettings:
            def total(self):
                return SETTINGS.scale


        class Patched:
            def run(self):
                return 1


        Patched.extra = lambda self: 2


        class Outer:
            class Mid:
                class Inner:
                    pass


        class Shallow:
          class Nested:
              limit = 3

              def keep(self, x):
                  return x < self.limit
        """
    )
    reasons = {
        name: _check(cls)[:2]
        for name, cls in {
            "made": module.make(3),
            "settings": module.UsesSettings,
            "patched": module.Patched,
            "nested": module.Outer.Mid.Inner,
            "nested one level": module.Shallow.Nested,
        }.items()
    }
    [made] = PetClassManager(tmp_path / "store").push_many([("Made", module.make(3))])
    assert (made.source_complete, made.source_problem) == reasons["made"]
    assert reasons == {
        "made": (False, "it is made inside make(): it closes over that function's variables, not text"),
        "settings": (False, f"SETTINGS is a Settings made by code in {module.__name__}, not text"),
        "patched": (False, "the class built from its text pickles differently"),
        "nested": (
            False,
            "it is nested in Outer.Mid: only top-level classes and classes nested one level build from text",
        ),
        "nested one level": (True, ""),
    }


def test_building_from_text_does_not_register_the_class_again(tmp_path: Path) -> None:
    """gitpet's own decorators (a container's ``bind``) do not run again; others do."""
    text = "@container.bind(persist=True)\n@dataclasses.dataclass\nclass BoundByText:\n    k: int = 1\n"
    captured = "# gitpet: imports -\nimport dataclasses\nfrom gitpet import Container as container\n"
    assert "BoundByText" not in Container.ppif.version_control
    built = build_from_source("bound_module", "BoundByText", text, captured)
    assert built(k=2).k == 2  # the dataclass decorator ran
    assert "BoundByText" not in Container.ppif.version_control  # bind did not
    assert "BoundByText" not in Container.pif


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.binary(max_size=8),
)
_HASHABLE = st.recursive(_SCALARS, lambda inner: st.tuples(inner, inner), max_leaves=6)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(_HASHABLE, inner, max_size=4),
        st.sets(_HASHABLE, max_size=4),
        st.frozensets(_HASHABLE, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(value=_VALUES)
def test_a_literal_constant_is_written_as_text_that_evaluates_to_it(value: object) -> None:
    module = ModuleType("literal_constants")
    module.VALUE = value  # type: ignore[attr-defined]

    class Reads:
        def get(self) -> object:
            return VALUE  # type: ignore[name-defined]  # noqa: F821

    Reads.__module__ = module.__name__
    Reads.__qualname__ = "Reads"
    import sys

    sys.modules[module.__name__] = module
    try:
        captured = capture(Reads, "class Reads:\n    def get(self):\n        return VALUE\n", POLICY)
    finally:
        del sys.modules[module.__name__]
    [constants] = [block for block in parse_blocks(captured.text) if block.kind == "constants"]
    namespace: dict[str, object] = {}
    exec(constants.text, namespace)
    assert captured.incomplete == ()
    assert namespace["VALUE"] == value
    assert type(namespace["VALUE"]) is type(value)


def test_most_of_the_golden_corpus_is_source_complete(tmp_path: Path) -> None:
    """The corpus's ordinary shapes build from text; the two that cannot say why."""
    out = run_python(
        """
        import importlib, json, sys
        sys.path[:0] = [sys.argv[1], sys.argv[2]]
        import golden
        from gitpet import ModulePolicy
        from gitpet.codec.captured import capture
        from gitpet.codec.from_source import check_source_complete
        from gitpet.codec.pickler import dumps_class
        from gitpet.codec.source import SourceFinder
        corpus = importlib.import_module(golden.CORPUS_MODULE)
        policy, finder, result = ModulePolicy(), SourceFinder(), {}
        for name, path in golden.CLASSES.items():
            cls = corpus
            for part in path.split("."):
                cls = getattr(cls, part)
            found = finder.find(cls)
            pickled = dumps_class(cls, policy, source_text=found.text, filename=found.filename,
                                  first_line=found.first_line, last_line=found.last_line)
            captured = capture(cls, found.text, policy, indent=found.indent)
            result[name] = check_source_complete(cls, pickled.data, found.text, captured, policy).reason
        print(json.dumps(result))
        """,
        str(REPO_ROOT / "tests" / "golden" / "corpus"),
        str(REPO_ROOT / "tests" / "golden"),
        cwd=tmp_path,
    )
    reasons = json.loads(out)
    not_complete = {name: reason for name, reason in reasons.items() if reason}
    assert not_complete == {
        "FactoryMade": "it is made inside make_filter(): it closes over that function's variables, not text",
        "Renamed": "its class statement defines _Original: it was renamed to Renamed afterwards",
    }
    assert len(reasons) - len(not_complete) == 15


def test_a_source_complete_version_of_another_python_is_built_from_its_text_never_unpickled(
    tmp_path: Path, user_module: ModuleWriter, caplog: pytest.LogCaptureFixture
) -> None:
    """As on another Python minor: the pickle cannot load, the text builds the same class."""
    pcm = PetClassManager(tmp_path / "store")
    module = user_module(HELPERS)
    honest = pcm.encode(module.Model)
    meta = json.loads(honest.files.meta)
    assert meta["source_complete"] is True
    meta["python"] = "3.9"
    elsewhere = VersionTree.build(
        VersionFiles(
            honest.files.source,
            b"never unpickled: not even a pickle",
            meta_json(meta),
            honest.files.captured,
        )
    )
    pcm.store.write_versions([("Model", elsewhere)])
    with caplog.at_level(logging.WARNING, logger="gitpet"):
        first = PetClassManager(tmp_path / "store").pull("Model")
        again = PetClassManager(tmp_path / "store").pull("Model")
    assert first is again and first().run(2) == 2 * 3 + 0 + 2
    assert first().describe() == "base"
    notices = [r.message for r in caplog.records if "built from their source" in r.message]
    assert len(notices) == 1 and "3.9" in notices[0]
    # The class is that version: its hash is the stored id, and pushing it writes nothing.
    assert pcm.get_class_hash(first, "Model") == elsewhere.id
    assert pcm.push(first, "Model") == elsewhere.id and len(pcm.store.versions("Model")) == 1
    # The same code imported here is that version too: no new latest from another Python.
    reimported = user_module(HELPERS, name=module.__name__).Model
    assert PetClassManager(tmp_path / "store").push(reimported) == elsewhere.id
    assert len(pcm.store.versions("Model")) == 1
