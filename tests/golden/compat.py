"""``make compat``: prove every dependency release and Python minor that pyproject.toml declares.

For every Python minor the package declares (pyenv's interpreters; a
missing one is skipped with a message) and every cloudpickle release in the
declared range, with dulwich at both ends of its range, a virtualenv is made
(cached in ``.compat/``) and:

* the golden corpus is pushed; its ids must equal the committed ids of that
  Python minor (``tests/golden/ids``);
* the committed stores of that minor are loaded: every version must do what
  it did when it was stored (``tests/golden/stores/*.probe.json``);
* cross-loading: the store pushed with the oldest cloudpickle is loaded with
  the newest, and back; every class must behave as the corpus itself, hash
  to the id it was loaded by, and pushing it again must write nothing.

With dulwich at the low end, the store-level test modules also run, since
gitpet calls dulwich (and a few private names, all in
``gitpet/git/dulwich_private.py``) directly.

``--quick`` (what ``make test`` runs): the running Python only, the oldest
cloudpickle in a cached venv against the running environment's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitpet.format.meta import FORMAT_VERSION

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCRIPT = HERE / "golden.py"
CACHE = ROOT / ".compat"

PYTHON_MINORS = ("3.10", "3.11", "3.12", "3.13")
CLOUDPICKLE = ("3.1.0", "3.1.1", "3.1.2", "3.1.3")
# The low end is the first release with what gitpet imports (dulwich.client.TransportNotAllowed);
# today it is also the newest 1.2 release.
DULWICH_ENDS = ("1.2.21", "1.2.21")
# Run against the low end of dulwich's range: the modules that drive dulwich.
STORE_TESTS = (
    "tests/store/test_store.py",
    "tests/git/test_writers.py",
    "tests/maintenance/test_gc.py",
    "tests/maintenance/test_integrity.py",
    "tests/git/test_git_compat.py",
    "tests/sync/test_remote.py",
    "tests/sync/test_hostile_fetch.py",
)


@dataclass(frozen=True)
class Env:
    """One interpreter with one set of dependency releases."""

    python: Path
    minor: str
    cloudpickle: str
    dulwich: str
    test_deps: bool = False
    running: bool = False  # this process's own environment, not a venv of ours

    @property
    def label(self) -> str:
        return f"py{self.minor} cloudpickle {self.cloudpickle} dulwich {self.dulwich}"


@dataclass
class Report:
    rows: list[tuple[str, str, bool]] = field(default_factory=list)

    def add(self, env: str, check: str, ok: bool) -> None:
        self.rows.append((env, check, ok))
        print(f"{'ok  ' if ok else 'FAIL'} {env}: {check}", flush=True)

    @property
    def failed(self) -> int:
        return sum(1 for _, _, ok in self.rows if not ok)


def find_python(minor: str) -> Path | None:
    """An interpreter of this minor: pyenv's, else ``python3.X`` on PATH."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted((pyenv_root / "versions").glob(f"{minor}.*"), reverse=True):
        python = candidate / "bin" / "python3"
        if python.exists():
            return python
    found = shutil.which(f"python{minor}")
    return Path(found) if found else None


def venv_python(env: Env) -> Path:
    """The env's interpreter, making its virtualenv on first use (gitpet itself comes from PYTHONPATH)."""
    if env.running:
        return Path(sys.executable)
    name = f"py{env.minor}-cp{env.cloudpickle}-dw{env.dulwich}{'-tests' if env.test_deps else ''}"
    where = CACHE / name
    python = where / "bin" / "python"
    stamp = where / ".ready"
    if not stamp.exists():
        shutil.rmtree(where, ignore_errors=True)
        subprocess.run([str(env.python), "-m", "venv", str(where)], check=True)
        packages = [f"cloudpickle=={env.cloudpickle}", f"dulwich=={env.dulwich}"]
        if env.test_deps:
            packages += ["pytest>=8", "hypothesis>=6.100"]
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
            capture_output=True,
            text=True,
        )
        if pip.returncode != 0:
            raise RuntimeError(f"pip install {' '.join(packages)} for {env.label} failed:\n{pip.stderr}")
        stamp.write_text("\n".join(packages) + "\n")
    return python


def _environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GITPET_STORE", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(ROOT)
    env["GITPET_AUTHOR"] = "gitpet compat <compat@localhost>"
    return env


def golden(python: Path, *args: str, cwd: Path) -> None:
    subprocess.run([str(python), str(SCRIPT), *args], check=True, cwd=cwd, env=_environ(), timeout=600)


def copy_store(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    for empty in ("refs/tags", "objects/pack", "objects/info"):
        (dest / empty).mkdir(parents=True, exist_ok=True)
    return dest


def check_env(python: Path, env: Env, work: Path, report: Report) -> Path | None:
    """Push the corpus and load the committed stores; returns the pushed store."""
    store, ids_out = work / "store", work / "ids.json"
    try:
        golden(python, "push", str(store), str(ids_out), cwd=work)
    except subprocess.CalledProcessError as err:
        report.add(env.label, f"push the corpus: {err}", False)
        return None
    ids = json.loads(ids_out.read_text())
    committed_path = HERE / "ids" / f"format{FORMAT_VERSION}-py{env.minor}.json"
    if committed_path.exists():
        committed = json.loads(committed_path.read_text())
        same = sum(1 for name, version in ids.items() if committed.get(name) == version)
        report.add(env.label, f"ids equal to the committed ones: {same}/{len(committed)}", ids == committed)
    else:
        report.add(env.label, f"no committed ids for Python {env.minor} (run `make golden` with it)", False)
    for stored in sorted(HERE.glob(f"stores/*-py{env.minor}")):
        copy = copy_store(stored, work / f"committed-{stored.name}")
        ids_path = stored.parent / f"{stored.name}.ids.json"
        if not ids_path.exists():
            ids_path = HERE / "ids" / f"{stored.name}.json"
        out = work / f"{stored.name}.probe.json"
        golden(python, "probe", str(copy), str(ids_path), str(out), cwd=work)
        expected = json.loads((stored.parent / f"{stored.name}.probe.json").read_text())
        report.add(env.label, f"{stored.name} loads as stored", json.loads(out.read_text()) == expected)
    return store


def cross_load(python: Path, label: str, store: Path, live: object, work: Path, report: Report) -> None:
    """Load a store another env pushed: behaviour as the corpus, same ids, pushing again writes nothing."""
    copy = copy_store(store, work / f"cross-{len(report.rows)}")
    ids = work / f"cross-ids-{len(report.rows)}.json"
    refs = subprocess.run(
        ["git", f"--git-dir={copy}", "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    trees = {}
    for line in filter(None, refs):
        ref, _ = line.split(" ")
        trees[ref] = subprocess.run(
            ["git", f"--git-dir={copy}", "rev-parse", f"{ref}^{{tree}}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    ids.write_text(json.dumps(trees))
    out = work / f"cross-probe-{len(report.rows)}.json"
    golden(python, "probe", str(copy), str(ids), str(out), cwd=work)
    found = json.loads(out.read_text())
    ok = {n: r.get("behaviour") for n, r in found.items()} == live and all(
        r.get("same_id") is True and r.get("push_again") == "nothing" for r in found.values()
    )
    report.add(label, f"cross-load of {len(found)} classes", ok)


def run_minor(minor: str, envs: list[Env], report: Report, quick: bool) -> None:
    """Every check of one Python minor; ``envs`` from the oldest cloudpickle to the newest."""
    with tempfile.TemporaryDirectory(prefix=f"gitpet-compat-{minor}-") as tmp:
        work = Path(tmp)
        pythons = {env: venv_python(env) for env in envs}
        stores: dict[Env, Path] = {}
        for env, env_python in pythons.items():
            (work / env.label.replace(" ", "_")).mkdir()
            store = check_env(env_python, env, work / env.label.replace(" ", "_"), report)
            if store is not None:
                stores[env] = store
        live_out = work / "live.json"
        golden(pythons[envs[0]], "live", str(live_out), cwd=work)
        live = json.loads(live_out.read_text())
        oldest, newest = envs[0], envs[-1]
        if oldest in stores and newest in stores and oldest != newest:
            cross_load(
                pythons[newest],
                f"pushed by {oldest.label}, loaded by {newest.label}",
                stores[oldest],
                live,
                work,
                report,
            )
            cross_load(
                pythons[oldest],
                f"pushed by {newest.label}, loaded by {oldest.label}",
                stores[newest],
                live,
                work,
                report,
            )
        if quick:
            return
        low = Env(oldest.python, minor, oldest.cloudpickle, DULWICH_ENDS[0], test_deps=True)
        low_python = venv_python(low)
        (work / "low").mkdir()
        low_store = check_env(low_python, low, work / "low", report)
        if low_store is not None and newest in stores:
            cross_load(
                pythons[newest],
                f"pushed by {low.label}, loaded by {newest.label}",
                low_store,
                live,
                work,
                report,
            )
        tests = subprocess.run(
            [str(low_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *STORE_TESTS],
            cwd=ROOT,
            env=_environ(),
            capture_output=True,
            text=True,
        )
        last = (tests.stdout.strip().splitlines() or ["(no output)"])[-1]
        report.add(low.label, f"store tests: {last}", tests.returncode == 0)
        if tests.returncode != 0:
            print(tests.stdout[-4000:], tests.stderr[-2000:])


def cross_minor(minors: Sequence[str], report: Report) -> None:
    """A store pushed on one Python minor, loaded on every other one, both ways (format 3).

    Source-complete versions load (built from their text) and behave as the corpus, hash
    to the ids they were loaded by, and push again as nothing; the others are refused with
    IncompatiblePythonError. A pipeline saved on one minor rebuilds on the others.
    """
    pythons = {}
    for minor in minors:
        env = Env(find_python(minor) or Path("python"), minor, CLOUDPICKLE[-1], DULWICH_ENDS[-1])
        if find_python(minor) is not None and venv_python(env).exists():
            pythons[minor] = venv_python(env)
    with tempfile.TemporaryDirectory(prefix="gitpet-compat-cross-") as tmp:
        work = Path(tmp)
        stores: dict[str, Path] = {}
        expected_pipeline: dict[str, str] = {}
        for minor, python in pythons.items():
            stores[minor] = work / f"pushed-{minor}"
            golden(python, "push", str(stores[minor]), str(work / f"ids-{minor}.json"), cwd=work)
            code = work / f"code-{minor}"
            code.mkdir()
            expected_pipeline[minor] = _golden_output(
                python, "pipeline-push", str(stores[minor]), str(code), cwd=work
            )
        for pushed, store in stores.items():
            ids = work / f"ids-{pushed}.json"
            complete = _source_complete_names(store)
            stored_probe = json.loads(
                (HERE / "stores" / f"format{FORMAT_VERSION}-py{pushed}.probe.json").read_text()
            )
            for minor, python in pythons.items():
                if minor == pushed:
                    continue
                copy = copy_store(store, work / f"cross-{pushed}-{minor}")
                out = work / f"cross-{pushed}-{minor}.json"
                golden(python, "probe", str(copy), str(ids), str(out), cwd=work)
                found = json.loads(out.read_text())
                loadable = complete & set(found)
                # The corpus has two shapes that are not text: made in a function, renamed.
                ok = len(loadable) == len(found) - 2 and all(
                    (
                        found[name].get("behaviour") == stored_probe[name]["behaviour"]
                        and found[name].get("same_id") is True
                        and found[name].get("push_again") == "nothing"
                    )
                    if name in loadable
                    else "IncompatiblePythonError" in str(found[name].get("load"))
                    for name in found
                )
                report.add(
                    f"pushed by py{pushed}, loaded by py{minor}",
                    f"{len(loadable)} source-complete versions load from their text, "
                    f"{len(found) - len(loadable)} others refused",
                    ok,
                )
                rebuilt = _golden_output(python, "pipeline-load", str(copy), cwd=work)
                report.add(
                    f"pipeline saved by py{pushed}, rebuilt by py{minor}",
                    f"applies as saved: {rebuilt}",
                    rebuilt == expected_pipeline[pushed],
                )


def _golden_output(python: Path, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(python), str(SCRIPT), *args],
        check=True,
        cwd=cwd,
        env=_environ(),
        timeout=600,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _source_complete_names(store: Path) -> set[str]:
    names = subprocess.run(
        ["git", f"--git-dir={store}", "for-each-ref", "--format=%(refname:short)", "refs/heads"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    complete = set()
    for name in names:
        if "/" in name:
            continue  # a pipeline's ref
        meta = subprocess.run(
            ["git", f"--git-dir={store}", "show", f"{name}:meta.json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if json.loads(meta).get("source_complete") is True:
            complete.add(name)
    return complete


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="the running Python: oldest cloudpickle vs this env"
    )
    parser.add_argument(
        "--python", action="append", help="only these minors (e.g. 3.12); default: all declared"
    )
    args = parser.parse_args(argv)
    report = Report()
    if args.quick:
        from importlib.metadata import version

        minor = f"{sys.version_info.major}.{sys.version_info.minor}"
        base = Path(getattr(sys, "_base_executable", sys.executable))
        running = Env(base, minor, version("cloudpickle"), version("dulwich"), running=True)
        run_minor(minor, [Env(base, minor, CLOUDPICKLE[0], DULWICH_ENDS[-1]), running], report, quick=True)
    else:
        for minor in args.python or PYTHON_MINORS:
            python = find_python(minor)
            if python is None:
                print(f"SKIP Python {minor}: no interpreter found (pyenv install {minor}); not proven here")
                continue
            run_minor(
                minor, [Env(python, minor, cp, DULWICH_ENDS[-1]) for cp in CLOUDPICKLE], report, quick=False
            )
        cross_minor(args.python or PYTHON_MINORS, report)
    passed = len(report.rows) - report.failed
    print(f"compat: {passed} passed, {report.failed} failed")
    return 1 if report.failed or not report.rows else 0


if __name__ == "__main__":
    sys.exit(main())
