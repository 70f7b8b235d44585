"""gitpet benchmark suite (issue 6; started, see docs and the issue note for what is still missing).

Every row is measured in the same run as its baseline, on the same classes,
as the median of several rounds, and reported as a ratio. Prints a table and
writes JSON. Not a test: nothing here fails on timing.

Usage: python benchmarks/bench.py [--classes N] [--rounds R] [--json PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

import cloudpickle

from gitpet import BaseFactory, PetClassManager, PetFactory


@dataclass(frozen=True)
class Row:
    """One measured operation against its baseline (seconds per unit, medians)."""

    name: str
    seconds: float
    baseline: str
    baseline_seconds: float
    target: float | None = None

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target


def median_time(run: Callable[[], object], rounds: int, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``run`` over ``rounds`` (``setup`` runs before each, untimed)."""
    times = []
    for _ in range(rounds):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def small_classes(
    workdir: Path, count: int, module_name: str, edit: int = 0
) -> tuple[ModuleType, list[type]]:
    """``count`` small distinct classes in a real module file (user code, stored by value);
    a different ``edit`` changes every method."""
    (workdir / f"{module_name}.py").write_text(
        "".join(
            f"\nclass C{i}:\n    k = {i}\n\n    def f(self, x):\n        return x * {i} + self.k + {edit}\n"
            for i in range(count)
        )
    )
    if str(workdir) not in sys.path:
        sys.path.insert(0, str(workdir))
    module = importlib.import_module(module_name)
    return module, [getattr(module, f"C{i}") for i in range(count)]


class PlainFileStore:
    """What existing tools do: one pickle file per version and a ``latest`` pointer, by atomic rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def push(self, name: str, cls: type) -> str:
        data = cloudpickle.dumps(cls)
        digest = hashlib.sha1(data).hexdigest()
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(folder / f"{digest}.pkl", data)
        _write_atomically(folder / "latest", digest.encode())
        return digest

    def pull(self, name: str) -> type:
        folder = self.root / name
        digest = (folder / "latest").read_text()
        cls: type = pickle.loads((folder / f"{digest}.pkl").read_bytes())
        return cls


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


def _push_floor(pcm: PetClassManager, classes: list[type]) -> None:
    """The three payloads gitpet stores, pickled, hashed and compressed: no git at all."""
    for cls in classes:
        files = pcm.encode(cls).files
        for payload in (files.source, cloudpickle.dumps(cls), files.meta):
            hashlib.sha1(payload).digest()
            zlib.compress(payload)


def run(count: int, rounds: int) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="gitpet-bench-"))
    module, classes = small_classes(workdir, count, "bench_small")
    cloudpickle.register_pickle_by_value(module)
    rows: list[Row] = []
    stores = iter(range(10**6))

    def fresh_store() -> PetClassManager:
        return PetClassManager(workdir / f"store{next(stores)}")

    # Push floor per class, and register + push_all of every class into a new store.
    reference = fresh_store()
    floor = median_time(lambda: _push_floor(reference, classes), rounds) / count
    factories: list[PetFactory] = []

    def register_and_push() -> None:
        factory = factories[-1]
        for i, cls in enumerate(classes):
            factory[f"C{i}"] = cls
        factory.push_all()

    pushed = (
        median_time(
            register_and_push,
            rounds,
            setup=lambda: factories.append(PetFactory(fresh_store(), BaseFactory())),
        )
        / count
    )
    rows.append(Row(f"register + push_all of {count} new classes", pushed, "push floor", floor, 4.0))
    factory = factories[-1]
    unchanged = median_time(factory.push_all, rounds) / count
    rows.append(Row("push_all, nothing changed", unchanged, "push_all of new classes", pushed, 0.1))

    # A single interactive push of a changed class, against the plain file store.
    plain = PlainFileStore(workdir / "plain")
    pcm = factory.manager
    variants = [small_classes(workdir, 1, f"bench_single_{r}", edit=r)[1][0] for r in range(rounds)]
    single = iter(variants)
    single_plain = iter(variants)
    ours = median_time(lambda: pcm.push(next(single), "Single"), rounds)
    theirs = median_time(lambda: plain.push("Single", next(single_plain)), rounds)
    rows.append(Row("single push of a changed class", ours, "plain file store push", theirs, 1.0))

    # Pull latest, warm: against reading + decompressing + unpickling the same pickle.
    blobs = [zlib.compress(pcm.store.read_version(f"C{i}").files.pickle) for i in range(count)]
    load_floor = median_time(lambda: [cloudpickle.loads(zlib.decompress(b)) for b in blobs], rounds) / count
    names = [f"C{i}" for i in range(count)]
    warm = median_time(lambda: [pcm.pull(name) for name in names], rounds) / count
    rows.append(Row("pull latest, warm", warm, "load floor", load_floor, 1.5))

    # get_class_hash on registration (a new manager: nothing cached) against cloudpickle.dumps.
    dumps = median_time(lambda: [cloudpickle.dumps(cls) for cls in classes], rounds) / count
    hashers: list[PetClassManager] = []
    hashing = (
        median_time(
            lambda: [hashers[-1].get_class_hash(cls, f"C{i}") for i, cls in enumerate(classes)],
            rounds,
            setup=lambda: hashers.append(fresh_store()),
        )
        / count
    )
    rows.append(Row("get_class_hash on registration", hashing, "cloudpickle.dumps", dumps))

    # import gitpet in a fresh interpreter, against importing what it builds on.
    def python(code: str) -> Callable[[], object]:
        return lambda: subprocess.run([sys.executable, "-c", code], check=True)

    imports = median_time(python("import gitpet"), rounds)
    base_imports = median_time(python("import dulwich.repo, cloudpickle"), rounds)
    rows.append(
        Row("import gitpet (fresh process)", imports, "import dulwich.repo, cloudpickle", base_imports)
    )
    return rows


def _table(rows: list[Row]) -> str:
    lines = [f"{'operation':46} {'time':>12} {'baseline':34} {'time':>12} {'ratio':>7} {'target':>7}"]
    for row in rows:
        target = "" if row.target is None else f"{row.target:g}x " + ("ok" if row.meets_target else "MISS")
        lines.append(
            f"{row.name:46} {_fmt(row.seconds):>12} {row.baseline:34} {_fmt(row.baseline_seconds):>12}"
            f" {row.ratio:6.2f}x {target:>7}"
        )
    return "\n".join(lines)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--classes", type=int, default=1000, help="small classes for the scale rows")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per row (the median is reported)")
    parser.add_argument("--json", type=Path, default=Path("bench.json"), help="where to write the rows")
    args = parser.parse_args(argv)
    rows = run(args.classes, args.rounds)
    print(_table(rows))
    payload = [{**asdict(row), "ratio": row.ratio, "meets_target": row.meets_target} for row in rows]
    args.json.write_text(
        json.dumps({"classes": args.classes, "rounds": args.rounds, "rows": payload}, indent=2)
    )
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
