"""``GitStore.verify()``: check everything gitpet's refs reach, and say exactly what is wrong.

Checked, without unpickling anything: every object reachable from a class,
tag or pipeline ref is readable and hashes to its id (commits, trees, blobs,
annotated tags); every version tree has exactly ``source.py``, ``class.pkl``
and ``meta.json`` as plain files; meta.json is a sorted-key JSON object with
the keys a version needs and names the class whose history holds it; and
every pack passes its own checksums. Files an interrupted writer left behind
(lock files, temporary packs) are listed separately: they are not damage.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from dulwich.objects import Blob, Commit, ShaFile, Tag, Tree, TreeEntry
from dulwich.repo import Repo

from gitpet.errors import IntegrityError, InvalidDumpError
from gitpet.format.bounds import MAX_TAG_CHAIN, PIPELINE_JSON_MAX_BYTES, load_stored_json
from gitpet.format.dumps import normalize_dump
from gitpet.format.meta import meta_format, meta_problems
from gitpet.format.names import is_gitpet_ref, owner_of_ref
from gitpet.format.npy import constant_of, parse_npy
from gitpet.format.version_files import CAPTURED, CLASS_PICKLE, DATA, FILE_MODE, FOLDER_MODE, META, SOURCE
from gitpet.git.dulwich_private import pack_data_path
from gitpet.git.integrity import READ_ERRORS, read_object
from gitpet.pipelines.snapshots import PINNED_DIR, PIPELINE_JSON
from gitpet.records import Problem

__all__ = ["Problem", "VerifyReport", "leftover_files", "verify_repository"]

_VERSION_FILES = (SOURCE, CLASS_PICKLE, META)


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`GitStore.verify` checked and found; ``ok`` when nothing is wrong.

    Examples:
        >>> _ = pcm.push(Model)
        >>> report = store.verify()
        >>> report.ok, report.versions, report.problems
        (True, 1, ())
    """

    refs: int = 0
    commits: int = 0
    versions: int = 0
    objects: int = 0
    packs: int = 0
    problems: tuple[Problem, ...] = ()
    leftovers: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """What was checked and what was found, in one line (what ``gitpet verify`` prints).

        Examples:
            >>> version = pcm.push(Model)
            >>> print(store.verify().summary())  # doctest: +ELLIPSIS
            checked 1 refs, 1 commits, 1 versions, 6 objects, ...: no problems
        """
        checked = (
            f"checked {self.refs} refs, {self.commits} commits, {self.versions} versions, "
            f"{self.objects} objects, {self.packs} packs"
        )
        return f"{checked}: " + ("no problems" if self.ok else f"{len(self.problems)} problem(s)")


class _Checker:
    def __init__(self, repo: Repo) -> None:
        self.objects = repo.object_store
        self.read: dict[bytes, ShaFile | None] = {}
        self.versions_seen: set[tuple[bytes, str]] = set()
        self.trees_seen: set[bytes] = set()
        # Keyed by owner too: a tag of A may name a commit of B's history, and that commit's
        # version must then be checked as one of A's (it is not).
        self.commits_seen: set[tuple[bytes, str | None]] = set()
        self.problems: list[Problem] = []

    def problem(self, ref: str, sha: bytes, detail: str) -> None:
        found = Problem(ref, sha.decode("ascii", "replace"), detail)
        if found not in self.problems:
            self.problems.append(found)

    def load(self, ref: str, sha: bytes, what: str) -> ShaFile | None:
        if sha not in self.read:
            try:
                self.read[sha] = read_object(self.objects, sha, what)
            except IntegrityError as err:
                self.read[sha] = None
                self.problem(ref, sha, f"{what}: {err.detail}" if what not in err.detail else err.detail)
        return self.read[sha]

    def ref(self, ref: str, sha: bytes) -> None:
        owner = owner_of_ref(ref)
        target: ShaFile | None = self.load(ref, sha, "ref target")
        for _depth in range(MAX_TAG_CHAIN):
            if not isinstance(target, Tag):
                break
            sha = target.object[1]
            target = self.load(ref, sha, "tagged object")
        if target is None:
            return
        if not isinstance(target, Commit):
            self.problem(ref, sha, f"points at a {target.type_name.decode()}, not a commit")
            return
        self.history(ref, sha, owner)

    def history(self, ref: str, tip: bytes, owner: str | None) -> None:
        pending = [tip]
        while pending:
            sha = pending.pop()
            if (sha, owner) in self.commits_seen:
                continue
            self.commits_seen.add((sha, owner))
            commit = self.load(ref, sha, "commit")
            if commit is None:
                continue
            if not isinstance(commit, Commit):
                self.problem(ref, sha, f"history holds a {commit.type_name.decode()}, not a commit")
                continue
            if owner is None:
                self.snapshot(ref, commit.tree)
            else:
                self.version(ref, commit.tree, owner)
            pending.extend(commit.parents)

    def version(self, ref: str, sha: bytes, name: str) -> None:
        if (sha, name) in self.versions_seen:
            return
        self.versions_seen.add((sha, name))
        tree = self.load(ref, sha, "version tree")
        if tree is None:
            return
        if not isinstance(tree, Tree):
            self.problem(ref, sha, f"version is a {tree.type_name.decode()}, not a tree")
            return
        entries = {entry.path: entry for entry in tree.items()}
        # captured.py is in every version of format 3 and a data/ folder in some (none before):
        # meta.json says which format.
        format_3 = self._format_of(entries.get(META)) >= 3
        for path in sorted(set(entries) - {*_VERSION_FILES, CAPTURED, DATA}):
            self.problem(ref, sha, f"version has an unexpected entry {path.decode(errors='replace')!r}")
        required = (*_VERSION_FILES, CAPTURED) if format_3 else _VERSION_FILES
        for path in sorted(set(required) | (set(entries) & {CAPTURED})):
            entry = entries.get(path)
            if entry is None:
                self.problem(ref, sha, f"version has no {path.decode()}")
                continue
            blob = self.file(ref, sha, path.decode(), entry)
            if blob is not None and path == META:
                for detail in meta_problems(blob.as_raw_string(), name):
                    self.problem(ref, sha, detail)
        if DATA in entries:
            self.data_folder(ref, sha, entries[DATA])

    def file(self, ref: str, version: bytes, path: str, entry: TreeEntry) -> Blob | None:
        """The blob of one file of a version, after checking that it is a plain file."""
        if entry.mode != FILE_MODE:
            self.problem(ref, version, f"{path} has mode {entry.mode:o}, not {FILE_MODE:o}")
        blob = self.load(ref, entry.sha, f"{path} of version {version.decode()[:12]}")
        if blob is not None and not isinstance(blob, Blob):
            self.problem(ref, version, f"{path} is a {blob.type_name.decode()}, not a file")
            return None
        return blob

    def data_folder(self, ref: str, version: bytes, entry: TreeEntry) -> None:
        """``data/``: a folder of ``<CONSTANT>.npy`` files, each a ``.npy`` file as gitpet writes them."""
        if entry.mode != FOLDER_MODE:
            self.problem(ref, version, f"data has mode {entry.mode:o}, not a folder's {FOLDER_MODE:o}")
            return
        folder = self.load(ref, entry.sha, f"data/ of version {version.decode()[:12]}")
        if not isinstance(folder, Tree):
            if folder is not None:
                self.problem(ref, version, f"data is a {folder.type_name.decode()}, not a folder")
            return
        for item in folder.items():
            name = item.path.decode("utf-8", "replace")
            if constant_of(name) is None:
                self.problem(ref, version, f"data/ has an unexpected entry {name!r}")
                continue
            blob = self.file(ref, version, f"data/{name}", item)
            if blob is None:
                continue
            try:
                parse_npy(blob.as_raw_string())
            except ValueError as err:
                self.problem(ref, version, f"data/{name}: {err}")

    def _format_of(self, meta_entry: TreeEntry | None) -> int:
        """The format a version's meta.json says (0: none readable; its problems are reported apart)."""
        if meta_entry is None:
            return 0
        blob = self.read.get(meta_entry.sha) if meta_entry.sha in self.read else None
        if blob is None:
            try:
                blob = read_object(self.objects, meta_entry.sha, "meta.json")
            except IntegrityError:
                return 0
        return meta_format(blob.as_raw_string()) if isinstance(blob, Blob) else 0

    def snapshot(self, ref: str, sha: bytes) -> None:
        """A pipeline snapshot: every object whole, and pinned versions checked as versions."""
        tree = self.load(ref, sha, "snapshot tree")
        if not isinstance(tree, Tree):
            if tree is not None:
                self.problem(ref, sha, "snapshot is not a tree")
            return
        self.whole_tree(ref, sha)
        entries = {e.path: e.sha for e in tree.items()}
        pinned = entries.get(PINNED_DIR)
        pinned_tree = self.read.get(pinned) if pinned is not None else None
        pins: set[tuple[str, bytes]] = set()
        if isinstance(pinned_tree, Tree):
            for entry in pinned_tree.items():
                name = entry.path.decode("utf-8", "replace").split("@", 1)[0]
                pins.add((name, entry.sha))
                self.version(ref, entry.sha, name)
        dump = self.read.get(entries[PIPELINE_JSON]) if PIPELINE_JSON in entries else None
        if not isinstance(dump, Blob):
            self.problem(ref, sha, "snapshot has no pipeline.json file")
            return
        for detail in dump_problems(dump.as_raw_string(), pins):
            self.problem(ref, sha, detail)

    def whole_tree(self, ref: str, sha: bytes) -> None:
        pending = [sha]
        while pending:
            current = pending.pop()
            if current in self.trees_seen:
                continue
            self.trees_seen.add(current)
            tree = self.load(ref, current, "tree")
            if isinstance(tree, Tree):
                for entry in tree.items():
                    if entry.mode & 0o040000:
                        pending.append(entry.sha)
                    else:
                        self.load(ref, entry.sha, "blob")


def dump_problems(data: bytes, pins: set[tuple[str, bytes]]) -> list[str]:
    """What is wrong with a snapshot's pipeline.json, given the ``(class, id)`` its ``classes/`` pins.

    Examples:
        >>> dump = b'{"clazz": "A", "params": {}, "version_hash": "%s"}' % (b"1" * 40)
        >>> dump_problems(dump, set())
        ['pipeline.json pins A 111111111111 at dump, but classes/ does not hold it']
    """
    try:
        dump = load_stored_json(data, "pipeline.json", "", PIPELINE_JSON_MAX_BYTES)
    except IntegrityError as err:
        return [err.detail]
    found: list[str] = []

    def check_pinned(path: str, name: str, version: str) -> str:
        if (name, version.encode("ascii", "replace")) not in pins:
            found.append(f"pipeline.json pins {name} {version[:12]} at {path}, but classes/ does not hold it")
        return version

    try:
        normalize_dump(dump, check_pinned)
    except InvalidDumpError as err:
        found.append(f"pipeline.json is not a valid dump: {err}")
    return found


def leftover_files(gitdir: Path, older_than: float = 0.0) -> list[Path]:
    """Files an interrupted writer left, older than ``older_than`` seconds.

    Lock files, temporary packs and loose objects being written, a pack
    whose index was never written (no reader uses such a pack), and what a
    fetch held in quarantine (``objects/incoming-*``).
    """
    now = time.time()
    objects = gitdir / "objects"
    candidates = [*_walk_files(gitdir, ".lock"), *objects.glob("tmp_*"), *objects.glob("pack/tmp*")]
    candidates += objects.glob("??/tmp_obj_*")
    for quarantine in objects.glob("incoming-*"):
        candidates += _walk_files(quarantine)
    candidates += [pack for pack in objects.glob("pack/*.pack") if not pack.with_suffix(".idx").exists()]
    found = []
    for path in set(candidates):
        try:
            if path.is_file() and now - path.stat().st_mtime >= older_than:
                found.append(path)
        except FileNotFoundError:
            continue
    return sorted(found)


def _walk_files(top: Path, suffix: str = "") -> list[Path]:
    # os.walk, not glob("**"): a fetch may remove its quarantine while we look; walk skips
    # what vanished where glob raises.
    return [
        Path(directory, name)
        for directory, _subdirectories, files in os.walk(top)
        for name in files
        if name.endswith(suffix)
    ]


def verify_repository(repo: Repo, gitdir: Path) -> VerifyReport:
    """Check everything reachable from gitpet's refs in ``repo``, and every pack."""
    checker = _Checker(repo)
    refs = {bytes(ref): bytes(sha) for ref, sha in repo.refs.as_dict().items() if is_gitpet_ref(bytes(ref))}
    for ref, sha in sorted(refs.items()):
        checker.ref(ref.decode("utf-8", "replace"), sha)
    packs = list(repo.object_store.packs)
    for pack in packs:
        try:
            pack.check()
        except READ_ERRORS as err:
            name = Path(pack_data_path(pack)).name
            checker.problems.append(
                Problem(f"objects/pack/{name}", "", f"pack is damaged: {type(err).__name__}: {err}")
            )
    return VerifyReport(
        refs=len(refs),
        commits=len({sha for sha, _ in checker.commits_seen}),
        versions=len({sha for sha, _ in checker.versions_seen}),
        objects=len(checker.read),
        packs=len(packs),
        problems=tuple(checker.problems),
        leftovers=tuple(str(p.relative_to(gitdir)) for p in leftover_files(gitdir)),
    )
