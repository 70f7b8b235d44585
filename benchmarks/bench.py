"""gitpet benchmark suite: every row against its baseline, in one run, on the same classes.

Each row is the median of ``--rounds`` rounds, per unit (per class, per
lookup, per process), next to a baseline measured in the same run; the ratio
is row / baseline. Store sizes are reported in bytes. Prints a table and
writes everything as JSON. Not a test: nothing here fails on timing.

Usage: python benchmarks/bench.py [--classes N] [--rounds R] [--json PATH]
(``make bench``: 1000 classes, 5 rounds; the scale rows use 10, N and 10 N classes.)
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import gc
import importlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

import cloudpickle

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.servers: git daemon on 127.0.0.1

from baselines import (
    CatFile,
    FastImport,
    HistoryWalk,
    LayoutLoad,
    PlainFileStore,
    load_floor,
    push_floor,
    write_floor_files,
)
from corpus import import_module, plugin_classes, plugin_source, small_classes

import gitpet
from gitpet import BaseFactory, BasePlugin, GitStore, ModulePolicy, PetClassManager, PetContainer, PetFactory
from gitpet.cli.main import main as gitpet_cli
from gitpet.codec.captured import capture
from gitpet.codec.from_source import check_source_complete
from gitpet.codec.pickler import dumps_class
from gitpet.codec.source import SourceFinder
from gitpet.trust.trustlist import TrustList
from tests.servers import git_daemon

SAMPLE = 10  # classes looked up per round in the lookup rows


class CurveAxes(NamedTuple):
    """What a scaling curve's x axis counts, and what gitpet is drawn beside."""

    grows: str = "versions in the history"
    smallest: int | None = None
    """For a curve against the smallest store (not git): its size, drawn as the curve's first
    point, with the row's bound (its target times that cost) as the dashed line."""

    @classmethod
    def of_store(cls, smallest: int) -> CurveAxes:
        return cls("classes in the store", smallest)


@dataclass(frozen=True)
class Row:
    """One measured operation against its baseline (seconds per unit, medians)."""

    name: str
    seconds: float
    baseline: str
    baseline_seconds: float
    target: float | None = None
    ratios: tuple[float, ...] = ()  # one per run, when the suite ran several times

    @property
    def ratio(self) -> float:
        """The median of the runs' ratios (each run's row against its own baseline)."""
        return statistics.median(self.ratios) if self.ratios else self.seconds / self.baseline_seconds

    @classmethod
    def across(cls, runs: list[Row]) -> Row:
        """One row from the same row of several runs: median times, and every run's ratio."""
        first = runs[0]
        return cls(
            first.name,
            statistics.median(r.seconds for r in runs),
            first.baseline,
            statistics.median(r.baseline_seconds for r in runs),
            first.target,
            tuple(r.ratio for r in runs),
        )

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target


@dataclass(frozen=True)
class Size:
    name: str
    bytes: int


@dataclass(frozen=True)
class Memory:
    """Peak resident memory of one operation in its own process, against its baseline's (KiB)."""

    name: str
    kib: int
    baseline: str
    baseline_kib: int
    target: float | None = None

    @property
    def ratio(self) -> float:
        return self.kib / self.baseline_kib


@dataclass(frozen=True)
class Op:
    """Something to time, and what to do (untimed) before each run of it."""

    run: Callable[[], object]
    setup: Callable[[], object] | None = None


def median_time(op: Op, rounds: int) -> float:
    """Median wall time of ``op`` over ``rounds`` runs."""
    return paired(op, None, rounds)[0]


def paired(ours: Op, theirs: Op | None, rounds: int) -> tuple[float, float]:
    """Median times of an operation and its baseline, measured in alternation.

    Both see the same state of the machine: on the benchmark machine CPU speed
    and file creation vary several-fold over minutes, and a ratio of two
    medians taken minutes apart measured that, not gitpet.
    """
    ours_times: list[float] = []
    theirs_times: list[float] = []
    for _ in range(rounds):
        for op, times in ((ours, ours_times), (theirs, theirs_times)):
            if op is None:
                continue
            if op.setup is not None:
                op.setup()
            started = time.perf_counter()
            op.run()
            times.append(time.perf_counter() - started)
    return statistics.median(ours_times), statistics.median(theirs_times) if theirs_times else float("nan")


def settle_disk() -> None:
    """Write out what earlier rows left in the page cache, so its writeback is not timed here."""
    os.sync()


def forget_loaded_classes() -> None:
    """Drop classes loaded earlier (gitpet keeps them only weakly), so the next pull loads again."""
    gc.collect()


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Bench:
    def __init__(self, workdir: Path, count: int, rounds: int) -> None:
        self.workdir = workdir
        self.count = count
        self.rounds = rounds
        self.rows: list[Row] = []
        self.single_push: dict[str, float] = {}
        self.sizes: list[Size] = []
        self.memory: list[Memory] = []
        self.curves: dict[str, list[tuple[int, int]]] = {}  # curve -> (versions, row index)
        self.axes: dict[str, CurveAxes] = {}
        self._stores = iter(range(10**6))

    def store_path(self) -> Path:
        return self.workdir / f"store{next(self._stores)}"

    def manager(self, path: Path | None = None) -> PetClassManager:
        return PetClassManager(path or self.store_path())

    def row(self, *args: object, **kwargs: object) -> None:
        row = Row(*args, **kwargs)  # type: ignore[arg-type]
        self.rows.append(row)
        print(_format_row(row), flush=True)

    def point(self, curve: str, size: int, axes: CurveAxes | None = None) -> None:
        """The last row is one point of a scaling curve (plotted by --plot) at ``size``."""
        self.curves.setdefault(curve, []).append((size, len(self.rows) - 1))
        self.axes[curve] = axes or CurveAxes()

    # -- pushing ---------------------------------------------------------------

    def push_rows(self) -> PetClassManager:
        count, rounds = self.count, self.rounds
        classes = small_classes(self.workdir, count, "bench_small")
        names = [f"C{i}" for i in range(count)]
        reference = self.manager()
        versions = [reference.encode(cls, name) for name, cls in zip(names, classes, strict=True)]
        payloads = [(v.files.source, v.files.meta) for v in versions]
        factories: list[PetFactory] = []

        def register_and_push() -> None:
            for name, cls in zip(names, classes, strict=True):
                factories[-1][name] = cls
            factories[-1].push_all()

        pushed, floor = paired(
            Op(
                register_and_push,
                lambda: (settle_disk(), factories.append(PetFactory(self.manager(), BaseFactory()))),
            ),
            Op(lambda: push_floor(classes, payloads)),
            rounds,
        )
        pushed, floor = pushed / count, floor / count
        self.row(f"register + push_all, {count} new classes", pushed, "push floor", floor, 4.0)

        # The git-writing part alone (classes already encoded) against git fast-import.
        items = list(zip(names, versions, strict=True))
        stream = FastImport.stream(items)
        fast_imports = iter(range(10**6))
        stores = iter(GitStore(self.store_path()) for _ in range(10**6))
        written, fast = paired(
            Op(lambda: next(stores).write_versions(items), settle_disk),
            Op(lambda: FastImport.run(self.workdir / f"fi{next(fast_imports)}", stream), settle_disk),
            rounds,
        )
        written, fast = written / count, fast / count
        self.row("git-writing part of push_all", written, "git fast-import, same trees", fast, 1.0)

        factory = factories[-1]
        unchanged = median_time(Op(factory.push_all), rounds) / count
        self.row("push_all, nothing changed", unchanged, "push_all of new classes", pushed, 0.1)

        # One interactive push of a changed class, small and realistic, against the plain file store.
        manager = factory.manager
        plain = PlainFileStore(self.workdir / "plain")
        for kind, make in (
            ("small", lambda r: small_classes(self.workdir, 1, "bench_single", edit=r, copy=r)[0]),
            ("plugin", lambda r: plugin_classes(self.workdir, "bench_plugin_single", 1, edit=r, copy=r)[0]),
        ):
            # More rounds than the rest: one push is short, and file creation here is noisy.
            single_rounds = max(rounds, 15)
            variants = [make(r) for r in range(single_rounds)]
            ours, theirs = iter(variants), iter(variants)
            pushed_one, plain_one = paired(
                Op(lambda it=ours, kind=kind: manager.push(next(it), f"Single_{kind}"), settle_disk),
                Op(lambda it=theirs, kind=kind: plain.push(f"Single_{kind}", next(it)), settle_disk),
                single_rounds,
            )
            self.row(
                f"single push of a changed class ({kind})",
                pushed_one,
                "plain file store push",
                plain_one,
                1.0,
            )
            self.single_push[kind] = pushed_one
        return manager

    def source_check_rows(self) -> None:
        """What checking that a version is source-complete costs, within one push (issue 17)."""
        policy = ModulePolicy()
        for kind, classes in (
            ("small", small_classes(self.workdir, min(self.count, 200), "bench_small_check")),
            ("plugin", plugin_classes(self.workdir, "bench_check_plugins")),
        ):
            finder = SourceFinder()
            prepared = []
            for cls in classes:
                found = finder.find(cls)
                pickled = dumps_class(
                    cls,
                    policy,
                    source_text=found.text,
                    filename=found.filename,
                    first_line=found.first_line,
                    last_line=found.last_line,
                )
                prepared.append((cls, pickled.data, found.text))

            def check_all(
                items: list[tuple[type, bytes, str]] = prepared, finder: SourceFinder = finder
            ) -> None:
                for cls, data, text in items:
                    result = check_source_complete(
                        cls, data, text, capture(cls, text, policy, finder), policy
                    )
                    assert result.complete, result.reason

            checked = median_time(Op(check_all), self.rounds) / len(classes)
            self.row(
                f"source-complete check at push ({kind})",
                checked,
                f"single push of a changed class ({kind})",
                self.single_push[kind],
            )

    def hash_rows(self) -> None:
        for kind, classes in (
            ("small", small_classes(self.workdir, min(self.count, 200), "bench_small_hash")),
            ("plugin", plugin_classes(self.workdir, "bench_hash_plugins")),
        ):
            hashers: list[PetClassManager] = []
            hashing, dumps = paired(
                Op(
                    lambda cs=classes, hs=hashers: [hs[-1].get_class_hash(c) for c in cs],
                    lambda hs=hashers: hs.append(self.manager()),
                ),
                Op(lambda cs=classes: [cloudpickle.dumps(c) for c in cs]),
                self.rounds,
            )
            self.row(
                f"get_class_hash on registration ({kind})",
                hashing / len(classes),
                "cloudpickle.dumps",
                dumps / len(classes),
            )

    # -- loading ---------------------------------------------------------------

    def load_rows(self, manager: PetClassManager) -> None:
        count, rounds = self.count, self.rounds
        names = [f"C{i}" for i in range(count)]
        stored = [manager.store.read_version(name) for name in names]
        floor_files = write_floor_files(self.workdir / "floor", [s.files.pickle for s in stored])
        floor = Op(lambda: load_floor(floor_files), forget_loaded_classes)
        managers: list[PetClassManager] = []
        factories: list[PetFactory] = []

        def fresh_manager() -> None:
            factories.clear()  # a factory holds the classes it loaded: drop them before collecting
            forget_loaded_classes()
            managers[:] = [self.manager(manager.store.path)]
            managers[-1].store.names()  # open the store: "warm" is an open store, not a loaded class

        def fresh_factory(fallback: BaseFactory | None = None) -> None:
            fresh_manager()
            factories.append(PetFactory(managers[-1], fallback))

        def per_class(ours: Op, theirs: Op, label: str, baseline: str, target: float | None = None) -> None:
            seconds, base = paired(ours, theirs, rounds)
            self.row(label, seconds / count, baseline, base / count, target)

        first = Op(lambda: [managers[-1].pull(n) for n in names], fresh_manager)
        per_class(first, floor, "pull latest, warm store (first load)", "load floor", 1.5)
        catfile = CatFile(manager.store.path)
        cat = Op(
            lambda: [cloudpickle.loads(catfile.read(f"refs/heads/{n}:class.pkl")) for n in names],
            forget_loaded_classes,
        )
        per_class(first, cat, "pull latest, warm store (first load)", "git cat-file --batch + loads")
        catfile.close()
        # The part of the gap to the load floor that gitpet's layout itself costs (seven reads, not one).
        layout = LayoutLoad(manager.store.path)
        layout_floor = Op(lambda: [layout.load(n) for n in names], forget_loaded_classes)
        per_class(layout_floor, floor, "layout floor: ref + 6 objects + loads", "load floor")
        per_class(first, layout_floor, "pull latest, warm store (first load)", "layout floor")

        held = [manager.pull(n) for n in names]
        again = Op(lambda: [manager.pull(n) for n in names])
        per_class(
            again, Op(lambda: load_floor(floor_files)), "pull latest again (class in memory)", "load floor"
        )
        del held

        ids = [s.id for s in stored]
        for label, spec in (("id", lambda i: ids[i]), ("12-hex prefix", lambda i: ids[i][:12])):
            by = Op(
                lambda spec=spec: [factories[-1].get_version(n, spec(i)) for i, n in enumerate(names)],
                fresh_factory,
            )
            per_class(by, floor, f"get_version by {label} (first load)", "load floor")
        lazy = Op(lambda: [factories[-1][n] for n in names], lambda: fresh_factory(BaseFactory()))
        per_class(lazy, floor, "lazy factory[name] (first load)", "load floor")

        # One class in a fresh process: interpreter + import + open + load. gitpet's bytecode is
        # compiled first, as an install does (dulwich's and cloudpickle's already is).
        compileall.compile_dir(str(Path(gitpet.__file__).parent), quiet=1)
        path = str(manager.store.path)
        bare = Op(_python("import dulwich.repo, cloudpickle"))
        load_one = Op(_python(f"import gitpet; gitpet.PetClassManager({path!r}).pull('C0')"))
        fresh, base = paired(load_one, bare, rounds)
        self.row(
            "pull in a fresh process (import + open + load)",
            fresh,
            "import dulwich.repo, cloudpickle",
            base,
            1.5,
        )
        imports, base = paired(Op(_python("import gitpet")), bare, rounds)
        self.row("import gitpet (fresh process)", imports, "import dulwich.repo, cloudpickle", base)

    def scale_rows(self) -> None:
        """Loading cost with 10, N and 10 N classes in the store: it must stay flat."""
        sizes = sorted({10, self.count, 10 * self.count})
        classes = small_classes(self.workdir, max(sizes), "bench_scale")
        # The same classes in every store, none of them the one loaded to open the store.
        names = [f"C{i}" for i in range(min(min(sizes) - 1, SAMPLE))]
        paths = {}
        for size in sizes:
            manager = self.manager()
            manager.push_many([(f"C{i}", classes[i]) for i in range(size)])
            # The same storage in every store (one pack): a small batch is written as loose
            # objects and a large one as a pack, which would compare storage forms, not sizes.
            manager.store.gc(prune_older_than=0)
            paths[size] = manager.store.path
        # The largest store again as ten push_many batches left it: packs pile up until a gc.
        largest = max(sizes)
        piled = self.manager()
        for batch in range(10):
            part = range(batch * largest // 10, (batch + 1) * largest // 10)
            piled.push_many([(f"C{i}", classes[i]) for i in part])
        packs = len(list((piled.store.path / "objects" / "pack").glob("*.pack")))
        # Each store measured in turn, several times over, so all see the same machine.
        samples: dict[int, list[float]] = {size: [] for size in sizes}
        piled_samples: list[float] = []
        for _ in range(max(self.rounds, 5)):
            for size in sizes:
                samples[size].append(self._first_loads_elsewhere(paths[size], f"C{size - 1}", names))
            piled_samples.append(self._first_loads_elsewhere(piled.store.path, f"C{largest - 1}", names))
        per_lookup = {size: statistics.median(found) for size, found in samples.items()}
        smallest = min(sizes)
        for size in sizes:
            if size != smallest:
                self.row(
                    f"load latest, {size} classes in the store",
                    per_lookup[size],
                    f"load latest, {smallest} classes",
                    per_lookup[smallest],
                    1.3,
                )
                self.point("first load of a class, per class", size, CurveAxes.of_store(smallest))
        self.row(
            f"load latest, {largest} classes in {packs} packs as pushed",
            statistics.median(piled_samples),
            f"load latest, {smallest} classes",
            per_lookup[smallest],
            1.3,
        )

    def first_pull_rows(self) -> None:
        """The first pull of a new process (open, trust check, load) in a store of 100 N classes.

        The large store is written by git fast-import (one pack, as after a gc), its trust
        list holding every version, as a store that pushed them all would have.
        """
        sizes = (10, 100 * self.count)
        paths = {size: self._imported_store(size) for size in sizes}
        samples: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(max(self.rounds, 5)):
            for size in sizes:
                samples[size].append(self._first_pull_elsewhere(paths[size]))
        small, large = (statistics.median(samples[size]) for size in sizes)
        self.row(
            f"first pull in a new process, {sizes[1]} classes",
            large,
            f"the same, {sizes[0]} classes",
            small,
            1.3,
        )
        self.point("first pull in a new process", sizes[1], CurveAxes.of_store(sizes[0]))

    def _imported_store(self, size: int) -> Path:
        reference = self.manager()
        items = []
        for start in range(0, size, 1000):  # modules of 1000 classes, as a large code base has
            classes = small_classes(self.workdir, min(1000, size - start), f"bench_imported_{size}_{start}")
            items += [
                (f"C{start + i}", reference.encode(cls, f"C{start + i}")) for i, cls in enumerate(classes)
            ]
        path = self.workdir / f"imported-{size}.git"
        FastImport.run(path, FastImport.stream(items))
        subprocess.run(["git", f"--git-dir={path}", "config", "gitpet.store", "true"], check=True)
        listed = ["git", f"--git-dir={path}", "for-each-ref", "--format=%(tree)", "refs/heads/"]
        trees = subprocess.run(listed, check=True, capture_output=True, text=True).stdout
        TrustList(path).add(trees.split())  # sorted, as pushes leave a list past its short tail
        return path

    @staticmethod
    def _first_pull_elsewhere(path: Path) -> float:
        # Collected first, as _first_loads_elsewhere does: whether the import's garbage is
        # collected inside the timed pull depends on where the allocation count happens to fall
        # (one module imported lazily moved it there: 0.8 ms, a third of the row).
        code = (
            "import gc, sys, time, gitpet\n"
            "gc.collect()\n"
            "started = time.perf_counter()\n"
            "gitpet.PetClassManager(sys.argv[1]).pull('C0')\n"
            "print(time.perf_counter() - started)\n"
        )
        return float(
            subprocess.run(
                [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
            ).stdout
        )

    def _first_loads_elsewhere(self, path: Path, warm: str, names: list[str]) -> float:
        """Median seconds per pull of ``names`` (first loads) from an open store at ``path``.

        In a new process: the heap this one built while making the stores (10 N classes and
        their encodings) would otherwise slow every load it measures. Loading class ``warm``
        first opens the pack and reads the trust list: one-time costs of a process, not a lookup's."""
        code = (
            "import gc, statistics, sys, time, gitpet\n"
            "path, rounds, warm, names = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]\n"
            "times = []\n"
            "for _ in range(rounds):\n"
            "    gc.collect(); manager = gitpet.PetClassManager(path); manager.pull(warm)\n"
            "    started = time.perf_counter(); [manager.pull(n) for n in names]\n"
            "    times.append(time.perf_counter() - started)\n"
            "print(statistics.median(times) / len(names))\n"
        )
        rounds = 10  # 10 lookups are short next to this machine's jitter
        command = [sys.executable, "-c", code, str(path), str(rounds), warm, *names]
        return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    def pipeline_rows(self) -> None:
        """build_from_dump of a 20-component pipeline of realistic plugins, in a fresh container."""
        rounds = self.rounds
        source = plugin_source(20) + (
            "\n\nclass Pipeline(BasePlugin):\n"
            "    def __init__(self, steps=()):\n"
            "        super().__init__(steps=steps)\n"
        )
        module = import_module(self.workdir, "bench_pipeline", source)
        path = self.store_path()
        container = PetContainer(path)
        for name in ["Pipeline", *(f"Plugin{i}" for i in range(20))]:
            container.bind(persist=True)(getattr(module, name))
        container.ppif.push_all()
        pipeline = module.Pipeline([getattr(module, f"Plugin{i}")(width=i + 2) for i in range(20)])
        dump = pipeline.item_dump(container.ppif)
        components = [dump, *dump["params"]["steps"]]
        store = container.store
        pickles = [store.read_version(c["clazz"], c["version_hash"]).files.pickle for c in components]
        floor_files = write_floor_files(self.workdir / "pipeline-floor", pickles)

        def floor_build() -> None:
            loaded = load_floor(floor_files)
            steps = [cls(**c["params"]) for cls, c in zip(loaded[1:], components[1:], strict=True)]
            loaded[0](steps=steps)

        fresh: list[PetContainer] = []

        def fresh_container() -> None:
            fresh.clear()
            forget_loaded_classes()
            fresh.append(PetContainer(path))

        built, floor = paired(
            Op(lambda: BasePlugin.build_from_dump(dump, fresh[-1].ppif), fresh_container),
            Op(floor_build, forget_loaded_classes),
            rounds,
        )
        self.row(
            "build_from_dump, 20-component pipeline (fresh container)",
            built,
            "load floor + construct, same classes",
            floor,
        )

    # -- push and fetch against git itself ---------------------------------------

    def sync_rows(self) -> None:
        """Push and fetch onto a class with 10, N and 10 N versions: the cost must be the new versions'.

        The long history is written by git fast-import (one pack, as after a gc); each
        round pushes a new version on top with gitpet. git runs the same push and fetch
        between copies of the same repositories, over a path and over git daemon.
        """
        served = self.workdir / "served"
        served.mkdir()
        with git_daemon(served) as daemon:
            for versions in sorted({10, self.count, 10 * self.count}):
                self._sync_rows_for(versions, served, daemon)

    def _sync_rows_for(self, versions: int, served: Path, daemon: str) -> None:
        rounds = self.rounds
        history = small_classes(self.workdir, versions, f"bench_history_{versions}")
        reference = self.manager()
        items = [("Hist", reference.encode(cls, "Hist")) for cls in history]
        template = served / f"template-{versions}.git"
        FastImport.run(template, FastImport.stream(items))
        subprocess.run(["git", f"--git-dir={template}", "config", "gitpet.store", "true"], check=True)
        work = self.workdir / f"work-{versions}.git"
        shutil.copytree(template, work)
        manager = self.manager(work)
        remotes = {}
        for side in ("gitpet", "git"):
            for transport in ("path", "git daemon"):
                name = f"r-{versions}-{side}-{transport.replace(' ', '-')}.git"
                shutil.copytree(template, served / name)
                remotes[side, transport] = str(served / name) if transport == "path" else f"{daemon}/{name}"
        edits = iter(range(10**6))

        def new_version() -> None:
            edit = next(edits)
            [cls] = small_classes(self.workdir, 1, f"bench_new_{versions}", edit=edit, copy=edit)
            manager.push(cls, "Hist", moved=True)

        def git_push(url: str) -> None:
            subprocess.run(["git", f"--git-dir={work}", "push", "-q", url, "refs/heads/Hist"], check=True)

        for transport in ("path", "git daemon"):
            ours, theirs = remotes["gitpet", transport], remotes["git", transport]
            pushed, base = paired(
                Op(lambda url=ours: manager.store.push(url), new_version),
                Op(lambda url=theirs: git_push(url)),
                rounds,
            )
            self.row(f"push 1 new version onto {versions} ({transport})", pushed, "git push, same", base, 1.5)
            self.point(f"push 1 new version ({transport})", versions)

        copies = iter(range(10**6))

        def behind() -> tuple[Path, Path]:
            number = next(copies)
            ours, theirs = (
                self.workdir / f"behind{versions}-{number}.git",
                self.workdir / f"behind-git{versions}-{number}.git",
            )
            shutil.copytree(template, ours)
            shutil.copytree(template, theirs)
            return ours, theirs

        def empty() -> tuple[Path, Path]:
            number = next(copies)
            ours, theirs = (
                self.workdir / f"empty{versions}-{number}.git",
                self.workdir / f"empty-git{versions}-{number}.git",
            )
            GitStore(ours).init()
            subprocess.run(["git", "init", "-q", "--bare", str(theirs)], check=True)
            return ours, theirs

        for label, make in (("the new versions onto", behind), ("all", empty)):
            for transport in ("path", "git daemon"):
                fetched, base = self._paired_fetch(
                    make, remotes["gitpet", transport], remotes["git", transport]
                )
                what = f"fetch all {versions} versions" if label == "all" else f"fetch {label} {versions}"
                self.row(f"{what} ({transport})", fetched, "git fetch, same", base, 1.5)
                self.point(f"fetch {'all' if label == 'all' else 'the new'} versions ({transport})", versions)
        logged = Op(
            lambda: subprocess.run(
                ["git", f"--git-dir={work}", "log", "--format=%H %T %an %at %s", "refs/heads/Hist"],
                check=True,
                capture_output=True,
            )
        )
        listed, base = paired(Op(lambda: manager.store.versions("Hist")), logged, rounds)
        self.row(f"versions(), {versions} versions (one pack)", listed, "git log (real git)", base, 2.0)
        self.point("versions() / git log", versions)
        # What any walk in Python costs (find, inflate, hash, one pattern per commit): the floor
        # under versions() and gitpet log, and how far git's C is below it.
        history_walk = HistoryWalk(work)
        walked, base = paired(Op(lambda: history_walk.walk("Hist")), logged, rounds)
        self.row(f"history walk floor (Python), {versions} versions", walked, "git log (real git)", base)
        self.row(f"versions(), {versions} versions", listed, "history walk floor (Python), same", walked)
        # The command, as a user runs it in a process that has gitpet imported: a store opened
        # afresh each time (its pack index read again), the history printed.
        cli_log = Op(lambda: _quiet(lambda: gitpet_cli(["--store", str(work), "log", "Hist"])))
        cli, base = paired(cli_log, logged, rounds)
        self.row(
            f"gitpet log (in process), {versions} versions (one pack)", cli, "git log (real git)", base, 2.0
        )
        self.point("gitpet log (in process) / git log", versions)
        self.row(
            f"gitpet log (in process), {versions} versions", cli, "history walk floor (Python), same", walked
        )

    def _paired_fetch(
        self, make: Callable[[], tuple[Path, Path]], ours: str, theirs: str
    ) -> tuple[float, float]:
        """gitpet's fetch from ``ours`` and git's from ``theirs``, each into a fresh copy ``make`` makes."""
        targets: list[tuple[Path, Path]] = []

        def git_fetch() -> None:
            into = f"--git-dir={targets[-1][1]}"
            subprocess.run(
                ["git", into, "fetch", "-q", theirs, "refs/heads/Hist:refs/heads/Hist"], check=True
            )

        return paired(
            Op(lambda: GitStore(targets[-1][0]).fetch(ours), lambda: targets.append(make())),
            Op(git_fetch),
            self.rounds,
        )

    # -- gc, and what gc and a whole fetch cost in memory ---------------------------------

    def gc_rows(self) -> None:
        """gc against git gc, each in its own process (time and peak memory), on three stores.

        10 N versions loose (as pushed); the same store once gc has packed it (nothing to do);
        two versions of a class holding 1 MB of random bytes (nothing to delta). Then a whole
        fetch of the 10 N versions, for its peak memory beside git fetch's.
        """
        versions = 10 * self.count
        history = small_classes(self.workdir, versions, f"bench_gc_{versions}")
        reference = self.manager()
        packed = self.workdir / f"gc-packed-{versions}.git"
        FastImport.run(
            packed, FastImport.stream([("Hist", reference.encode(cls, "Hist")) for cls in history])
        )
        subprocess.run(["git", f"--git-dir={packed}", "config", "gitpet.store", "true"], check=True)
        loose = self.workdir / f"gc-loose-{versions}.git"
        subprocess.run(["git", "init", "-q", "--bare", str(loose)], check=True)
        [pack] = (packed / "objects" / "pack").glob("*.pack")
        with pack.open("rb") as stream:
            subprocess.run(["git", f"--git-dir={loose}", "unpack-objects", "-q"], stdin=stream, check=True)
        tip = (
            subprocess.run(
                ["git", f"--git-dir={packed}", "rev-parse", "refs/heads/Hist"],
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .strip()
        )
        subprocess.run(["git", f"--git-dir={loose}", "update-ref", "refs/heads/Hist", tip], check=True)
        subprocess.run(["git", f"--git-dir={loose}", "config", "gitpet.store", "true"], check=True)
        gitpet_packed = self.workdir / "gc-gitpet-packed.git"
        shutil.copytree(loose, gitpet_packed)
        GitStore(gitpet_packed).gc(prune_older_than=0)
        git_packed = self.workdir / "gc-git-packed.git"
        shutil.copytree(loose, git_packed)
        subprocess.run(["git", f"--git-dir={git_packed}", "gc", "-q", "--prune=now"], check=True)
        stores = [
            (f"{versions} versions, loose", loose, loose),
            (f"{versions} versions, already packed by the same gc", gitpet_packed, git_packed),
            ("two versions holding 1 MB of random bytes", *([self._random_megabyte_store()] * 2)),
        ]
        for label, ours, theirs in stores:
            self._gc_row(label, ours, theirs)
        self._fetch_memory_row(packed, versions)

    def _random_megabyte_store(self) -> Path:
        path = self.store_path()
        manager = self.manager(path)
        for edit in range(2):
            source = f"DATA = {os.urandom(1_000_000)!r}\nclass Big:\n    data = DATA\n    edit = {edit}\n"
            module = import_module(self.workdir, "bench_random", source, copy=edit)
            manager.push(module.Big, "Big", moved=True)
        return path

    def _gc_row(self, label: str, ours: Path, theirs: Path) -> None:
        copies = iter(range(10**6))
        runs: list[tuple[float, int, float, int]] = []
        for _ in range(min(self.rounds, 3)):
            number = next(copies)
            mine, git_copy = self.workdir / f"gc-mine-{number}", self.workdir / f"gc-git-{number}"
            shutil.copytree(ours, mine)
            shutil.copytree(theirs, git_copy)
            settle_disk()
            collect = f"import gitpet; gitpet.GitStore({str(mine)!r}).gc(prune_older_than=0)"
            ours_time, ours_peak = _time_and_peak([sys.executable, "-c", collect])
            their_time, their_peak = _time_and_peak(
                ["git", f"--git-dir={git_copy}", "gc", "-q", "--prune=now"]
            )
            runs.append((ours_time, ours_peak, their_time, their_peak))
            shutil.rmtree(mine)
            shutil.rmtree(git_copy)
        median = [statistics.median(run[column] for run in runs) for column in range(4)]
        self.row(f"gc, {label} (own process)", median[0], "git gc --prune=now", median[2], 2.0)
        self.peak(f"gc, {label}", int(median[1]), "git gc --prune=now", int(median[3]), 2.0)

    def _fetch_memory_row(self, served: Path, versions: int) -> None:
        peaks = []
        for _ in range(min(self.rounds, 3)):
            ours, theirs = self.store_path(), self.store_path()
            subprocess.run(["git", "init", "-q", "--bare", str(theirs)], check=True)
            fetch = f"import gitpet; s = gitpet.GitStore({str(ours)!r}); s.init(); s.fetch({str(served)!r})"
            git_fetch = [
                "git",
                f"--git-dir={theirs}",
                "fetch",
                "-q",
                str(served),
                "refs/heads/Hist:refs/heads/Hist",
            ]
            peaks.append((_time_and_peak([sys.executable, "-c", fetch])[1], _time_and_peak(git_fetch)[1]))
        mine, theirs_peak = (int(statistics.median(peak[column] for peak in peaks)) for column in range(2))
        self.peak(f"fetch all {versions} versions (path)", mine, "git fetch, same", theirs_peak, 2.0)
        # What any gitpet process holds before it does anything: the floor of the rows above.
        floor = _time_and_peak([sys.executable, "-c", "import gitpet"])[1]
        self.peak(
            "python -c 'import gitpet' (the floor)",
            floor,
            "git version",
            _time_and_peak(["git", "version"])[1],
        )

    def peak(self, *args: object, **kwargs: object) -> None:
        memory = Memory(*args, **kwargs)  # type: ignore[arg-type]
        self.memory.append(memory)
        print(_format_memory(memory), flush=True)

    def history_rows(self) -> None:
        """A realistic class with 1000 versions (one push per edit): history reads and store size."""
        versions = 1000 if self.count >= 1000 else max(self.count, 3)
        path = self.store_path()
        manager = self.manager(path)
        plain = PlainFileStore(self.workdir / "plain-history")
        module = import_module(self.workdir, "bench_history", plugin_source(1, edit=0))
        module_file = Path(module.__file__ or "")
        for edit in range(versions):
            module_file.write_text(plugin_source(1, edit=edit))
            module = importlib.reload(module)
            manager.push(module.Plugin0)
            plain.push("Plugin0", module.Plugin0)
        rounds = self.rounds
        git_log = ["git", f"--git-dir={path}", "log", "--format=%H %T %an %at %s", "refs/heads/Plugin0"]
        logged = Op(lambda: subprocess.run(git_log, check=True, capture_output=True))
        listed, base = paired(Op(lambda: manager.store.versions("Plugin0")), logged, rounds)
        self.row(f"versions(), {versions} versions", listed, "git log (real git)", base)
        cli_log = Op(lambda: _quiet(lambda: gitpet_cli(["--store", str(path), "log", "Plugin0"])))
        cli, base = paired(cli_log, logged, rounds)
        self.row(f"gitpet log (in process), {versions} versions", cli, "git log (real git)", base)

        self.sizes.append(Size(f"plain file store, {versions} versions", tree_size(plain.root / "Plugin0")))
        self.sizes.append(Size(f"gitpet store, {versions} versions, before gc", tree_size(path / "objects")))
        copy = self.workdir / "git-gc-copy"
        shutil.copytree(path, copy)
        manager.store.gc(prune_older_than=0)
        after = tree_size(path / "objects")
        self.sizes.append(Size(f"gitpet store, {versions} versions, after gitpet gc", after))
        subprocess.run(["git", f"--git-dir={copy}", "gc", "--quiet", "--prune=now"], check=True)
        self.sizes.append(
            Size(f"same store after git gc (deltas), {versions} versions", tree_size(copy / "objects"))
        )
        for size in self.sizes:
            print(f"{size.name:58} {size.bytes / 1024:12.1f} KiB", flush=True)


# Runs a command and reports its wall time, peak memory and exit code. A process forked
# from the bench would start with the bench's own memory counted as its peak (fork copies
# it, and exec keeps the high-water mark): the command is forked from this small one.
_MEASURED_RUN = """
import os, sys, time
started = time.perf_counter()
child = os.fork()
if child == 0:
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_pid, status, usage = os.wait4(child, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _time_and_peak(command: list[str]) -> tuple[float, int]:
    """Wall time and peak resident memory (KiB) of ``command`` and the processes it waited for."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _MEASURED_RUN, *command],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed, peak, code = done.stdout.split()
    if int(code) != 0:
        raise subprocess.CalledProcessError(int(code), command, stderr=done.stderr)
    return float(elapsed), int(peak)


def _format_memory(memory: Memory) -> str:
    target = (
        ""
        if memory.target is None
        else f"≤{memory.target:g}x " + ("ok" if memory.ratio <= memory.target else "MISS")
    )
    return (
        f"| {memory.name} | {memory.kib / 1024:.1f} MiB | {memory.baseline} | "
        f"{memory.baseline_kib / 1024:.1f} MiB | {memory.ratio:.2f}x | {target} |"
    )


def _python(code: str) -> Callable[[], object]:
    return lambda: subprocess.run([sys.executable, "-c", code], check=True)


def _quiet(run: Callable[[], object]) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        run()


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def _format_row(row: Row) -> str:
    target = "" if row.target is None else f"≤{row.target:g}x " + ("ok" if row.meets_target else "MISS")
    spread = f"{min(row.ratios):.2f}-{max(row.ratios):.2f}" if len(row.ratios) > 1 else ""
    return (
        f"| {row.name} | {_fmt(row.seconds)} | {row.baseline} | {_fmt(row.baseline_seconds)} "
        f"| {row.ratio:.2f}x | {spread} | {target} |"
    )


def table(rows: list[Row], sizes: list[Size], memory: Sequence[Memory] = ()) -> Iterator[str]:
    yield "| operation | time | baseline | baseline time | ratio | runs' ratios | target |"
    yield "| --- | ---: | --- | ---: | ---: | ---: | --- |"
    yield from (_format_row(row) for row in rows)
    if memory:
        yield ""
        yield "| peak memory | gitpet | baseline | baseline's | ratio | target |"
        yield "| --- | ---: | --- | ---: | ---: | --- |"
        yield from (_format_memory(peak) for peak in memory)
    yield ""
    yield "| store size | KiB |"
    yield "| --- | ---: |"
    yield from (f"| {size.name} | {size.bytes / 1024:.1f} |" for size in sizes)


PARTS = ("push", "load", "scale", "pipeline", "history", "sync", "gc")


def run_suite(count: int, rounds: int, parts: tuple[str, ...] = PARTS) -> Bench:
    workdir = Path(tempfile.mkdtemp(prefix="gitpet-bench-"))
    bench = Bench(workdir, count, rounds)
    try:
        if "push" in parts or "load" in parts:
            manager = bench.push_rows()
            bench.source_check_rows()
            bench.hash_rows()
            if "load" in parts:
                bench.load_rows(manager)
        if "scale" in parts:
            bench.scale_rows()
            bench.first_pull_rows()
        if "pipeline" in parts:
            bench.pipeline_rows()
        if "history" in parts:
            bench.history_rows()
        if "sync" in parts:
            bench.sync_rows()
        if "gc" in parts:
            bench.gc_rows()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--classes", type=int, default=1000, help="small classes for the scale rows")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per row (the median is reported)")
    parser.add_argument("--json", type=Path, default=Path("bench.json"), help="where to write the rows")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the whole suite this many times (file creation on a "
        "shared disk varies over minutes; the table gives the median of the runs and their spread)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        help="also draw the scaling curves there (a PNG; needs matplotlib, as make bench installs)",
    )
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="run only these parts of the suite (default: all)"
    )
    args = parser.parse_args(argv)
    runs = []
    for run in range(args.repeat):
        print(f"run {run + 1} of {args.repeat}", flush=True)
        runs.append(run_suite(args.classes, args.rounds, tuple(args.only or PARTS)))
    rows = [Row.across(list(same)) for same in zip(*(bench.rows for bench in runs), strict=True)]
    sizes = runs[-1].sizes  # deterministic: the same in every run
    memory = runs[-1].memory
    print()
    print("\n".join(table(rows, sizes, memory)))
    payload = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.processor() or 'unknown cpu'}, {_cores()} cores",
        "python": platform.python_version(),
        "classes": args.classes,
        "rounds": args.rounds,
        "repeat": args.repeat,
        "rows": [{**asdict(row), "ratio": row.ratio, "meets_target": row.meets_target} for row in rows],
        "sizes": [asdict(size) for size in sizes],
        "memory": [{**asdict(peak), "ratio": peak.ratio} for peak in memory],
    }
    args.json.write_text(json.dumps(payload, indent=2))
    print(f"wrote {args.json}")
    if args.plot is not None:
        plot(rows, runs[-1].curves, runs[-1].axes, args.plot, f"{payload['date']}, {payload['machine']}")
        print(f"wrote {args.plot}")
    return 0


def plot(
    rows: list[Row],
    curves: dict[str, list[tuple[int, int]]],
    axes_of: dict[str, CurveAxes],
    path: Path,
    measured: str,
) -> None:
    """Each scaling curve, gitpet beside its baseline (git, or the smallest store), log-log."""
    import matplotlib  # only --plot needs it (make bench installs it)

    matplotlib.use("Agg")
    from matplotlib import pyplot

    columns = min(4, len(curves))
    lines = -(-len(curves) // columns)
    figure, axes = pyplot.subplots(lines, columns, figsize=(4 * columns, 3.4 * lines), squeeze=False)
    for axis in axes.flat[len(curves) :]:
        axis.set_visible(False)
    for axis, (curve, points) in zip(axes.flat, sorted(curves.items()), strict=False):
        shape = axes_of[curve]
        sizes = [count for count, _index in points]
        ours = [rows[i].seconds * 1e3 for _c, i in points]
        if shape.smallest is None:
            axis.loglog(sizes, ours, "o-", label="gitpet")
            axis.loglog(sizes, [rows[i].baseline_seconds * 1e3 for _c, i in points], "s--", label="git")
        else:
            first = rows[points[0][1]]
            sizes = [shape.smallest, *sizes]
            axis.loglog(sizes, [first.baseline_seconds * 1e3, *ours], "o-", label="gitpet")
            bound = (first.target or 1.0) * first.baseline_seconds * 1e3
            axis.loglog(
                sizes, [bound] * len(sizes), "--", label=f"{first.target or 1.0}x at {shape.smallest}"
            )
        axis.set_title(curve, fontsize=9)
        axis.set_xlabel(shape.grows)
        axis.set_ylabel("ms (median)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"gitpet as the history and the store grow ({measured})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
