"""Pipeline snapshots: save, share, rebuild, compare and keep whole pipelines (DESIGN.md §5).

The end-to-end test runs "machine A" and "machine B" as separate processes
sharing a bare repository served by a real ``git daemon``; every format claim
is checked with the real git binary.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitpet import (
    GitStore,
    InvalidDumpError,
    InvalidNameError,
    PetContainer,
    PipelineNotFoundError,
    SnapshotNotFoundError,
    TagExistsError,
    UnsupportedClassError,
    UntrustedVersionError,
    VersionNotFoundError,
    loaded_version,
)
from gitpet.cli.main import main
from gitpet.pipelines.snapshots import pin_entries
from tests.conftest import ModuleWriter, bare_repo, commit_on_top, git, run_python, store_snapshot
from tests.servers import git_daemon

STEPS = """
from gitpet import BasePlugin, Container


@Container.bind(persist=True)
class Scale(BasePlugin):
    def __init__(self, k=1):
        super().__init__(k=k)
        self.k = k

    def __call__(self, x):
        return x * self.k{scale}


@Container.bind(persist=True)
class Offset(BasePlugin):
    def __init__(self, b=0):
        super().__init__(b=b)
        self.b = b

    def __call__(self, x):
        return x + self.b{offset}


@Container.bind(persist=True)
class Chain(BasePlugin):
    def __init__(self, head, steps=(), named=None):
        super().__init__(head=head, steps=steps, named=named or {{}})
        self.head, self.steps, self.named = head, list(steps), dict(named or {{}})

    def __call__(self, x):
        x = self.head(x)
        for step in self.steps:
            x = step(x)
        for key in sorted(self.named):
            x = self.named[key](x)
        return x
"""

FRAMEWORK = """
from gitpet import BasePlugin, Container


@Container.bind()
class Identity(BasePlugin):
    def __call__(self, x):
        return x
"""

# Machine A: save a nested pipeline, change Scale and Offset, push them, save
# again, and share everything through the remote.
MACHINE_A = """
import importlib, json, sys
from pathlib import Path
sys.dont_write_bytecode = True
from gitpet import Container, GitStore

store_path, remote, workdir = sys.argv[1:4]
Container.configure(store=store_path)
steps_file = Path(workdir) / "steps.py"
template = Path(workdir, "steps.template").read_text()
import labtools

def load(scale, offset):
    steps_file.write_text(template.format(scale=scale, offset=offset))
    importlib.invalidate_caches()
    sys.modules.pop("steps", None)
    return importlib.import_module("steps")

def build(m):
    return m.Chain(m.Scale(2), [m.Offset(1), labtools.Identity(), m.Scale(3)], {"post": m.Offset(5)})

v1 = load("", "")
first = build(v1)
s1 = Container.save_pipeline("train", first, "first model")
ids1 = dict(Container.ppif.version_control)
v2 = load(" + 1000", " - 7")
Container.ppif.push_all()
second = build(v2)
s2 = Container.save_pipeline("train", second, "scale and offset changed")
ids2 = dict(Container.ppif.version_control)
report = Container.store.push(remote)
print(json.dumps({"s1": s1, "s2": s2, "out1": first(1), "out2": second(1), "ids1": ids1, "ids2": ids2}))
"""

# Machine B: an empty store and only the remote; rebuild both snapshots.
MACHINE_B = """
import json, sys
from gitpet import Container, GitStore, loaded_version
import labtools

store_path, remote, s1, s2 = sys.argv[1:5]
if remote != "-":
    GitStore(store_path).add_remote("team", remote, trusted=True)
Container.configure(store=store_path, remote="team" if remote != "-" else None)
result = {}
for label, snapshot in (("s1", s1), ("s2", s2)):
    pipeline = Container.load_pipeline("train", snapshot[:10])
    result[label] = {
        "out": pipeline(1),
        "head": loaded_version(type(pipeline.head)).version_id,
        "offset": loaded_version(type(pipeline.named["post"])).version_id,
        "chain": loaded_version(type(pipeline)).version_id,
        "identity_is_framework": type(pipeline.steps[1]) is labtools.Identity,
    }
store = Container.store
result["classes"] = store.names()
result["pipelines"] = store.pipelines()
print(json.dumps(result))
"""


@pytest.fixture
def machine_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A's working directory (its user code) and the framework package both machines have."""
    workdir = tmp_path / "machine_a"
    workdir.mkdir()
    (workdir / "steps.template").write_text(STEPS)
    framework = tmp_path / "framework"
    framework.mkdir()
    (framework / "labtools.py").write_text(FRAMEWORK)
    return workdir, framework


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("served")
    if subprocess.run(["git", "daemon", "-h"], capture_output=True).returncode == 127:
        pytest.skip("this git has no 'git daemon'")
    with git_daemon(root) as url:
        yield root, url


def _run_machine_a(tmp_path: Path, dirs: tuple[Path, Path], remote: str) -> dict[str, Any]:
    workdir, framework = dirs
    out = run_python(
        MACHINE_A,
        str(tmp_path / "a.git"),
        remote,
        str(workdir),
        cwd=tmp_path,
        pythonpath=[str(workdir), str(framework)],
    )
    result: dict[str, Any] = json.loads(out)
    return result


def _run_machine_b(tmp_path: Path, framework: Path, store: Path, remote: str, a: dict[str, Any]) -> Any:
    out = run_python(
        MACHINE_B, str(store), remote, a["s1"], a["s2"], cwd=tmp_path, pythonpath=[str(framework)]
    )
    return json.loads(out)


def test_a_pipeline_saved_on_one_machine_rebuilds_exactly_on_another(
    tmp_path: Path, machine_dirs: tuple[Path, Path], served: tuple[Path, str]
) -> None:
    root, url = served
    bare_repo(root / "team.git")
    a = _run_machine_a(tmp_path, machine_dirs, f"{url}/team.git")
    # Machine A ran both versions: they behave differently, and two classes changed.
    assert a["out1"] == 14 and a["out2"] == 3986
    changed = {name for name in a["ids1"] if a["ids1"][name] != a["ids2"][name]}
    assert changed == {"Scale", "Offset"}

    b = _run_machine_b(tmp_path, machine_dirs[1], tmp_path / "b.git", f"{url}/team.git", a)
    for label, ids in (("s1", a["ids1"]), ("s2", a["ids2"])):
        assert b[label]["head"] == ids["Scale"]
        assert b[label]["offset"] == ids["Offset"]
        assert b[label]["chain"] == ids["Chain"]
        assert b[label]["identity_is_framework"]
    assert (b["s1"]["out"], b["s2"]["out"]) == (a["out1"], a["out2"])
    # B fetched only the pipeline: every pinned version came with it.
    assert b["classes"] == [] and b["pipelines"] == ["train"]
    assert git(tmp_path / "b.git", "fsck", "--strict").returncode == 0


def test_pipeline_diff_matches_plain_git_diff(
    tmp_path: Path, machine_dirs: tuple[Path, Path], served: tuple[Path, str]
) -> None:
    root, url = served
    bare_repo(root / "diff.git")
    a = _run_machine_a(tmp_path, machine_dirs, f"{url}/diff.git")
    store = tmp_path / "a.git"
    history = GitStore(store).pipeline("train")
    diff = history.diff(a["s1"][:8], a["s2"][:8])
    assert [change.name for change in diff.changes] == ["Offset", "Scale"]
    assert all(change.old != change.new for change in diff.changes)
    commits = {s.id: s.commit for s in history.snapshots()}
    c1, c2 = commits[a["s1"]], commits[a["s2"]]
    # The same two classes change in git's view; the remote (plain git) agrees too.
    changed_paths = git(store, "diff", "--name-only", c1, c2).stdout.split()
    assert {p.split("/")[1] for p in changed_paths if p.startswith("classes/")} == {"Offset", "Scale"}
    assert "pipeline.json" in changed_paths
    assert git(root / "diff.git", "diff", "--name-only", a["s1"], a["s2"]).stdout.split() == changed_paths
    for change in diff.changes:
        path = f"classes/{change.name}/source.py"
        plain = git(store, "diff", c1, c2, "--", path).stdout
        assert _changed_lines(plain) == _changed_lines(change.source_diff) != []
    # The CLI prints the same, and exits 0.
    assert main(["--store", str(store), "pipeline", "diff", "train", a["s1"][:8]]) == 0


def _changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_gc_keeps_every_version_a_snapshot_pins_when_no_class_ref_does(
    tmp_path: Path, machine_dirs: tuple[Path, Path], served: tuple[Path, str]
) -> None:
    root, url = served
    bare_repo(root / "gc.git")
    a = _run_machine_a(tmp_path, machine_dirs, f"{url}/gc.git")
    store_path = tmp_path / "a.git"
    store = GitStore(store_path)
    # An unrelated version no ref keeps: gc must prune it (so gc really prunes).
    orphan = run_python(
        "import sys\nfrom gitpet import PetClassManager\nclass Orphan:\n    x = 1\n"
        "print(PetClassManager(sys.argv[1]).push(Orphan))",
        str(store_path),
        cwd=tmp_path,
    ).strip()
    for name in ["Chain", "Offset", "Orphan", "Scale"]:
        git(store_path, "update-ref", "-d", f"refs/heads/{name}")
    assert store.names() == []
    report = store.gc(prune_older_than=0)
    assert report.pruned > 0
    assert git(store_path, "cat-file", "-e", orphan, check=False).returncode != 0
    pinned = {a["ids1"][n] for n in ("Scale", "Offset", "Chain")} | {
        a["ids2"][n] for n in ("Scale", "Offset")
    }
    for version_id in pinned:
        assert git(store_path, "cat-file", "-e", f"{version_id}:class.pkl").returncode == 0
    assert store.verify().ok
    assert git(store_path, "fsck", "--strict").returncode == 0
    b = _run_machine_b(tmp_path, machine_dirs[1], store_path, "-", a)
    assert (b["s1"]["out"], b["s2"]["out"]) == (a["out1"], a["out2"])


# -- in one process ---------------------------------------------------------


@pytest.fixture
def container(store_path: Path) -> Iterator[PetContainer]:
    made = PetContainer(store_path)
    yield made
    made.store.close()


def _scale_module(user_module: ModuleWriter, container: PetContainer, extra: str = "") -> Any:
    module = user_module(
        f"""
        from gitpet import BasePlugin

        class Scale(BasePlugin):
            def __init__(self, k=1):
                super().__init__(k=k)
                self.k = k

            def __call__(self, x):
                return x * self.k{extra}

        class Pair(BasePlugin):
            def __init__(self, first, second):
                super().__init__(first=first, second=second)
                self.first, self.second = first, second

            def __call__(self, x):
                return (self.first(x), self.second(x))
        """,
        name="pipeline_steps",  # one module, edited: Pair keeps its id across edits of Scale
    )
    container.bind(persist=True)(module.Scale)
    container.bind(persist=True)(module.Pair)
    return module


def test_two_components_may_pin_two_versions_of_one_class(
    tmp_path: Path, container: PetContainer, user_module: ModuleWriter
) -> None:
    old_module = _scale_module(user_module, container)
    container.ppif.push_all()
    old_id = container.ppif.version_control["Scale"]
    new_module = _scale_module(user_module, container, " + 100")
    new_id = container.ppif.hash_of(new_module.Scale)
    old_scale = container.ppif.get_version("Scale", old_id)
    assert loaded_version(old_scale).version_id == old_id  # type: ignore[union-attr]
    assert old_module is new_module  # the same module, edited and reloaded
    pipeline = new_module.Pair(old_scale(2), new_module.Scale(2))
    snapshot = container.save_pipeline("pair", pipeline)
    # The new Scale was pushed first (and is the latest); both versions are pinned.
    assert container.store.latest_id("Scale") == new_id
    entries = git(container.store.path, "ls-tree", "--name-only", f"{snapshot}:classes").stdout.split()
    # pipeline.json order (sorted keys): Pair, then "first" (the old Scale), then "second".
    assert entries == ["Pair", "Scale", f"Scale@{new_id[:12]}"]
    assert git(container.store.path, "rev-parse", f"{snapshot}:classes/Scale").stdout.strip() == old_id
    rebuilt = run_python(
        """
        import sys
        from gitpet import PetContainer
        print(PetContainer(sys.argv[1]).load_pipeline("pair")(1))
        """,
        str(container.store.path),
        cwd=tmp_path,
    )
    assert rebuilt.strip() == "(2, 102)"


def test_status_reads_valid_combinations_from_the_snapshot_history(
    container: PetContainer, user_module: ModuleWriter
) -> None:
    old = _scale_module(user_module, container)
    first = container.save_pipeline("pair", old.Pair(old.Scale(1), old.Scale(2)))
    old_id = container.ppif.version_control["Scale"]
    pair_id = container.ppif.version_control["Pair"]
    history = container.store.pipeline("pair")
    status = history.status()
    assert status.up_to_date and [c.name for c in status.classes] == ["Pair", "Scale"]

    new = _scale_module(user_module, container, " + 1")
    container.ppif.push_all()
    new_id = container.ppif.version_control["Scale"]
    status = history.status(first[:7])
    scale = {c.name: c for c in status.classes}["Scale"]
    assert scale.newer and scale.latest == new_id and scale.pinned == (old_id,) and scale.behind == 1
    assert scale.saved_with_latest == () and status.all_latest_saved_in == ()
    assert not {c.name: c for c in status.classes}["Pair"].newer

    # Another pipeline saves Pair with the new Scale: that combination is now known.
    other = container.save_pipeline("other", new.Pair(new.Scale(1), new.Scale(3)))
    status = history.status(first)
    scale = {c.name: c for c in status.classes}["Scale"]
    assert [str(ref) for ref in scale.saved_with_latest] == [f"other@{other[:12]}"]
    assert [ref.id for ref in status.all_latest_saved_in] == [other]
    assert not status.up_to_date
    assert {(p.name, p.id) for p in history.read().pins} == {("Pair", pair_id), ("Scale", old_id)}


def test_snapshot_specs_tags_and_history(container: PetContainer, user_module: ModuleWriter) -> None:
    module = _scale_module(user_module, container)
    first = container.save_pipeline("p", module.Scale(1), "first\n\nlonger text")
    assert container.save_pipeline("p", module.Scale(1), "same again") == first  # nothing new
    second = container.save_pipeline("p", module.Scale(2))
    history = container.store.pipeline("p")
    snapshots = history.snapshots()
    assert [s.id for s in snapshots] == [second, first]
    assert snapshots[1].message.startswith("p: first\n\nlonger text\n\nSnapshot: " + first)
    assert history.read("~1").id == first and history.read(snapshots[1].commit[:9]).id == first
    assert history.tag("prod", first) == first
    assert history.read("prod").dump["params"] == {"k": 1}
    assert git(container.store.path, "rev-parse", "refs/tags/pipelines/p/prod^{tree}").stdout.strip() == first
    with pytest.raises(TagExistsError, match="pipeline 'p'"):
        history.tag("prod", second)
    assert history.tag("prod", second, force=True) == second
    assert history.tags() == {"prod": second}
    assert container.load_pipeline("p", "prod").k == 2
    report = container.store.verify()
    assert report.ok and report.refs == 3  # the class, the pipeline and its tag
    for bad, error in (
        ("~5", SnapshotNotFoundError),
        ("nope", SnapshotNotFoundError),
        ("a b", SnapshotNotFoundError),
    ):
        with pytest.raises(error):
            history.read(bad)
    with pytest.raises(PipelineNotFoundError):
        container.load_pipeline("missing")
    with pytest.raises(KeyError):  # PipelineNotFoundError is a KeyError too
        container.store.pipeline("missing").snapshots()
    with pytest.raises(InvalidNameError):
        container.save_pipeline("a/b", module.Scale(1))
    assert container.store.pipelines() == ["p"] and container.store.names() == ["Scale"]


def test_a_failed_save_changes_nothing(container: PetContainer, user_module: ModuleWriter) -> None:
    module = _scale_module(user_module, container)
    unregistered = user_module("from gitpet import BasePlugin\nclass Loose(BasePlugin):\n    pass\n").Loose
    before = store_snapshot(container.store.path)
    with pytest.raises(UnsupportedClassError, match="Loose"):
        container.save_pipeline("p", module.Pair(module.Scale(1), unregistered()))
    with pytest.raises(InvalidDumpError, match=r"dump\.params\.k"):
        container.save_pipeline("p", module.Scale({1, 2}))
    with pytest.raises(InvalidDumpError, match="not a str"):
        container.save_pipeline("p", module.Scale({1: "a"}))
    with pytest.raises(InvalidDumpError):
        container.save_pipeline("p", "not a plugin")  # type: ignore[arg-type]
    assert store_snapshot(container.store.path) == before


def test_a_pinned_version_the_store_lacks_is_a_clear_error(
    container: PetContainer, user_module: ModuleWriter
) -> None:
    module = _scale_module(user_module, container)
    container.save_pipeline("p", module.Scale(1))
    store = container.store.path
    ghost = "0123456789abcdef0123456789abcdef01234567"
    dump = {"clazz": "Scale", "params": {"k": 1}, "version_hash": ghost}
    blob = git(store, "hash-object", "-w", "--stdin", input=json.dumps(dump)).stdout.strip()
    commit_on_top(store, "pipelines/p", f"100644 blob {blob}\tpipeline.json\n")
    with pytest.raises(VersionNotFoundError) as caught:
        container.load_pipeline("p")
    assert "Scale" in str(caught.value) and ghost in str(caught.value) and "pipeline 'p'" in str(caught.value)
    report = container.store.verify()
    assert not report.ok and any("does not hold it" in p.detail for p in report.problems)
    with pytest.raises(VersionNotFoundError, match="push the class first"):
        container.store.pipeline("q").save(dump)


def _shared_pipeline(
    tmp_path: Path, container: PetContainer, user_module: ModuleWriter, k: int
) -> tuple[Any, Path, str]:
    """Pipeline ``p`` = Scale(k), saved and pushed (everything) to a new bare remote."""
    module = _scale_module(user_module, container)
    remote = bare_repo(tmp_path / "remote.git")
    snapshot = container.save_pipeline("p", module.Scale(k))
    container.store.push(str(remote))
    return module, remote, snapshot


def test_pipelines_are_shared_and_concurrent_saves_keep_both(
    tmp_path: Path, container: PetContainer, user_module: ModuleWriter
) -> None:
    module, remote, base = _shared_pipeline(tmp_path, container, user_module, k=1)
    other = GitStore(tmp_path / "other.git")
    other.fetch(str(remote), pipelines="p", trusted=True)
    assert other.names() == [] and other.pipeline("p").read().id == base
    ours = container.save_pipeline("p", module.Scale(2))
    scale_id = container.ppif.version_control["Scale"]
    dump = {"clazz": "Scale", "version_hash": scale_id, "params": {"k": 3}}
    theirs = other.pipeline("p").save(dump).id  # pins a version only the pipeline brought
    other.push(str(remote), pipelines=["p"])
    report = container.store.push(str(remote), [], pipelines=["p"])
    assert [u.status for u in report.updates] == ["rebased"]
    on_remote = git(remote, "log", "--format=%T", "refs/heads/pipelines/p").stdout.split()
    assert on_remote == [ours, theirs, base]
    assert git(remote, "fsck", "--strict").returncode == 0
    with pytest.raises(PipelineNotFoundError):
        container.store.push(str(remote), pipelines=["missing"])


def test_a_pipeline_from_an_untrusted_remote_is_not_unpickled_until_reviewed(
    tmp_path: Path, container: PetContainer, user_module: ModuleWriter
) -> None:
    _module, remote, snapshot = _shared_pipeline(tmp_path, container, user_module, k=4)
    reader = PetContainer(tmp_path / "reader.git", remote=str(remote))
    with pytest.raises(UntrustedVersionError):
        reader.load_pipeline("p")
    assert reader.store.pipeline("p").trust(snapshot) == [container.ppif.version_control["Scale"]]
    assert reader.load_pipeline("p")(2) == 8


def test_cli_pipeline_commands(
    tmp_path: Path, container: PetContainer, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _scale_module(user_module, container)
    first = container.save_pipeline("p", old.Pair(old.Scale(1), old.Scale(2)), "first")
    new = _scale_module(user_module, container, " - 1")
    container.ppif.push_all()
    second = container.save_pipeline("p", new.Pair(new.Scale(1), new.Scale(2)), "second")
    store = str(container.store.path)

    def run(*args: str) -> Any:
        capsys.readouterr()
        assert main(["--store", store, *args]) == 0
        return json.loads(capsys.readouterr().out)

    assert [(r["name"], r["id"], r["snapshots"]) for r in run("pipelines", "--json")] == [("p", second, 2)]
    assert [r["id"] for r in run("pipeline", "log", "p", "--json")] == [second, first]
    shown = run("pipeline", "show", f"p@{first[:8]}", "--json")
    assert shown["id"] == first and {p["class"] for p in shown["pins"]} == {"Pair", "Scale"}
    diff = run("pipeline", "diff", "p", first[:8], "--json")
    assert [c["class"] for c in diff["changes"]] == ["Scale"] and "- 1" in diff["changes"][0]["source_diff"]
    status = run("pipeline", "status", "p", "~1", "--json")
    assert status["up_to_date"] is False
    assert {c["class"]: c["newer"] for c in status["classes"]} == {"Pair": False, "Scale": True}
    assert status["all_latest_saved_in"] == [f"p@{second[:12]}"]
    capsys.readouterr()
    assert main(["--store", store, "pipeline", "status", "p", "~1"]) == 0
    text = capsys.readouterr().out
    assert "1 version(s) behind" in text and f"saved with the latest in p@{second[:12]}" in text
    assert main(["--store", store, "pipeline", "tag", "p", "v1", first[:8]]) == 0
    assert run("pipeline", "tag", "p", "--json") == {"v1": first}
    assert main(["--store", store, "pipeline", "log", "missing"]) == 1
    assert "no pipeline named 'missing'" in capsys.readouterr().err


# -- properties -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5).filter(lambda key: key != "clazz"), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(params=st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=4))
def test_any_json_params_round_trip_and_give_one_snapshot_id(
    tmp_path_factory: pytest.TempPathFactory, params: dict[str, Any]
) -> None:
    store = GitStore(tmp_path_factory.mktemp("prop") / "s.git")
    history = store.pipeline("p")
    dump = {"clazz": "Framework", "version_hash": None, "params": params}
    saved = history.save(dump)
    reordered = {"params": dict(reversed(list(params.items()))), "version_hash": None, "clazz": "Framework"}
    again = history.save(reordered)
    assert again.id == saved.id and not again.created
    assert history.read().dump == dump
    assert git(store.path, "fsck", "--strict").returncode == 0
    store.close()


@given(
    pins=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["1", "2", "3"])), max_size=8)
)
def test_pin_entries_are_unique_and_name_their_class(pins: list[tuple[str, str]]) -> None:
    full = [(name, digit * 40) for name, digit in pins]
    entries = pin_entries(full)
    assert len({e.entry for e in entries}) == len(entries) == len(set(full))
    for pin in entries:
        assert pin.entry.split("@")[0] == pin.name
        assert pin.entry == pin.name or pin.entry == f"{pin.name}@{pin.id[:12]}"
    first_of_each = {}
    for name, version in full:
        first_of_each.setdefault(name, version)
    assert {e.name: e.id for e in entries if e.entry == e.name} == first_of_each
