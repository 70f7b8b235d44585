"""The class codec: a class <-> the three files of one version.

``encode`` turns a class into ``source.py``, a deterministic by-value
``class.pkl`` and ``meta.json``; ``decode`` loads a stored version back into a
class, once per process per pickle.

The modules that make a version (the pickler, the capture of a class's
module, the build of a class from its text) are imported on first use: a
process that only loads versions pickled by its own Python, as a worker
does, never runs them, and they were a third of ``import gitpet``.
"""

from __future__ import annotations

import hashlib
import linecache
import logging
import pickle
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitpet.cache import BoundedCache
from gitpet.codec.instances import pickle_by_version
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.codec.reads import GlobalReads
from gitpet.codec.requirements import installed_requirements
from gitpet.codec.source_check import SourceCheck
from gitpet.codec.stored_code import HEAPTYPE, canonical_filename
from gitpet.errors import (
    IncompatiblePythonError,
    IntegrityError,
    MissingDependencyError,
    UnsupportedClassError,
)
from gitpet.format.bounds import MAX_OBJECT_BYTES
from gitpet.format.meta import FORMAT_VERSION, READABLE_FORMATS, Meta, meta_json
from gitpet.format.version_files import StoredVersion, VersionFiles, VersionTree

if TYPE_CHECKING:
    from gitpet.codec.captured import Captured
    from gitpet.codec.source import SourceFinder

__all__ = [
    "ClassCodec",
    "LoadedVersion",
    "check_versionable",
    "loaded_class",
    "loaded_version",
    "running_python",
]

_CHECKS_KEPT = 4096
_LARGEST_CHECKED = 64 * 1024 * 1024


def _format1_lost_qualname(cls: type, qualname: str) -> bool:
    """Format 1 (cloudpickle) kept ``__name__`` but not a nested or local class's ``__qualname__``."""
    return cls.__qualname__ == cls.__name__ and qualname.rpartition(".")[2] == cls.__name__


def running_python() -> str:
    """The running Python as ``major.minor``, as meta.json records it."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class LoadedVersion:
    """What gitpet knows about a class it loaded from a store.

    Examples:
        >>> version = pcm.push(Model)
        >>> loaded = loaded_version(pcm.pull("Model"))
        >>> loaded.name, loaded.version_id == version, loaded.qualname
        ('Model', True, 'Model')
    """

    name: str
    version_id: str
    module: str
    qualname: str
    source: str
    captured: str = ""
    """``captured.py`` of the version (empty for formats 1 and 2)."""
    source_complete: bool = False
    """Whether the version's text builds the class its pickle holds (``meta.json`` says)."""
    source_problem: str = ""
    """Why not, when not."""
    built_on: str = ""
    """The Python ``major.minor`` whose pickle the version holds, when this one built it from
    its text instead (another minor cannot load that pickle); empty when it was unpickled."""
    files: VersionFiles | None = None
    """The version's files, when it was built from its text: the class *is* that version here."""
    data: tuple[tuple[str, bytes], ...] = ()
    """The version's ``data/`` files (the captured arrays ``captured.py`` binds)."""


class _LoadedClasses:
    """The classes this process loaded, by pickle digest and by class.

    Process-wide on purpose: cloudpickle's class tracker is process-wide, and
    unpickling a payload whose classes are already live makes cloudpickle
    re-apply their state (replacing methods of a class in use). Every store
    and manager must therefore share one answer to "is this pickle loaded?".
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._by_digest: weakref.WeakValueDictionary[bytes, type] = weakref.WeakValueDictionary()
        self._info: weakref.WeakKeyDictionary[type, LoadedVersion] = weakref.WeakKeyDictionary()
        self._by_version: weakref.WeakValueDictionary[tuple[str, str], type] = weakref.WeakValueDictionary()

    def load_once(self, digest: bytes, load: Callable[[], tuple[type, LoadedVersion]]) -> type:
        """The class loaded from the pickle with this digest, loading it if needed.

        A class loaded here pickles its instances by its version (:mod:`gitpet.codec.instances`).
        """
        with self._lock:
            cls = self._by_digest.get(digest)
            if cls is None:
                cls, info = load()
                self._by_digest[digest] = cls
                self._info.setdefault(cls, info)
                self._by_version.setdefault((info.name, info.version_id), cls)
                pickle_by_version(cls, info.name, info.version_id)
            return cls

    def by_version(self, name: str, version_id: str) -> type | None:
        with self._lock:
            return self._by_version.get((name, version_id))

    def info(self, cls: type) -> LoadedVersion | None:
        try:
            return self._info.get(cls)
        except TypeError:
            return None


_LOADED = _LoadedClasses()


def loaded_version(cls: object) -> LoadedVersion | None:
    """If ``cls`` was loaded from a gitpet store in this process, where from.

    Examples:
        >>> loaded_version(int) is None
        True
    """
    return _LOADED.info(cls) if isinstance(cls, type) else None


def loaded_class(name: str, version_id: str) -> type | None:
    """The class this process loaded as version ``version_id`` (a full id) of ``name``, if any.

    Examples:
        >>> version = pcm.push(Model)
        >>> loaded = pcm.pull("Model")
        >>> loaded_class("Model", version) is loaded, loaded_class("Other", version)
        (True, None)
    """
    return _LOADED.by_version(name, version_id)


def check_versionable(cls: object) -> type:
    """``cls`` if it is a class written in Python, else UnsupportedClassError."""
    if not isinstance(cls, type):
        raise UnsupportedClassError(cls, f"it is a {type(cls).__name__}, not a class")
    if not cls.__flags__ & HEAPTYPE or cls.__module__ == "builtins":
        raise UnsupportedClassError(
            cls, "it is a builtin or C-extension type; only classes written in Python can be versioned"
        )
    return cls


class ClassCodec:
    """Encodes classes into version trees and decodes stored versions.

    Args:
        policy: which modules are captured by value; default :class:`ModulePolicy`.

    Examples:
        >>> codec = ClassCodec()
        >>> class Greeter:
        ...     def hello(self):
        ...         return "hi"
        >>> version = codec.encode(Greeter, "Greeter")
        >>> version.id == codec.encode(Greeter, "Greeter").id
        True
    """

    def __init__(self, policy: ModulePolicy | None = None) -> None:
        self._policy = policy or ModulePolicy()
        self._sources: SourceFinder | None = None
        self._checks: BoundedCache[bytes, SourceCheck] = BoundedCache(_CHECKS_KEPT)

    @property
    def policy(self) -> ModulePolicy:
        """Which modules a class may come from and be pickled by reference."""
        return self._policy

    def encode(self, cls: object, name: str) -> VersionTree:
        """The version tree of ``cls`` registered as ``name`` (nothing is written).

        Examples:
            >>> tree = pcm.codec.encode(Model, "Model")
            >>> tree.id == pcm.push(Model)
            True
        """
        return self.encode_traced(cls, name)[0]

    def encode_traced(self, cls: object, name: str) -> tuple[VersionTree, GlobalReads]:
        """:meth:`encode`, and what the pickle read: while that is unchanged, so is the version.

        Examples:
            >>> tree, reads = pcm.codec.encode_traced(Model, "Model")
            >>> reads.unchanged(), tree == pcm.codec.encode(Model, "Model")
            (True, True)
        """
        from gitpet.codec.captured import Captured, capture
        from gitpet.codec.pickler import dumps_class
        from gitpet.codec.source import SourceFinder, missing_source_text

        klass = check_versionable(cls)
        sources = self._sources
        if sources is None:
            sources = self._sources = SourceFinder()
        loaded = _LOADED.info(klass)
        same_class = loaded is not None and (loaded.module, loaded.qualname) == (
            klass.__module__,
            klass.__qualname__,
        )
        indent = 0  # a version's source.py is dedented: its columns are in its captured.py
        if loaded is not None and same_class:
            text = loaded.source
            filename: str | None = canonical_filename(loaded.module, loaded.qualname, text)
            first, last = 1, text.count("\n") + 1
            source_found = True
            # Loaded from a version: its text, and whether it builds the class, were decided then.
            known: tuple[str, tuple[tuple[str, bytes], ...], SourceCheck] | None = (
                (loaded.captured, loaded.data, SourceCheck(loaded.source_complete, loaded.source_problem))
                if loaded.captured
                else None
            )
        else:
            known = None
            found = sources.find(klass)
            if found.missing_reason is None:
                text, filename = found.text, found.filename
                first, last = found.first_line, found.last_line
                indent = found.indent
                source_found = True
            else:
                text = missing_source_text(klass.__module__, klass.__qualname__, found.missing_reason)
                filename, first, last = None, 0, 0
                source_found = False
        pickled = dumps_class(
            klass, self._policy, source_text=text, filename=filename, first_line=first, last_line=last
        )
        built = _BUILT_PICKLES.get(klass)
        if loaded is not None and loaded.files is not None and built == hashlib.sha256(pickled.data).digest():
            # Built here from the text of a version another Python pickled, and unchanged since:
            # it is that version, so pushing it again from here writes nothing.
            return VersionTree.build(loaded.files), pickled.reads
        data: tuple[tuple[str, bytes], ...] = ()
        if known is not None:
            captured_text, data, check = known
        elif source_found:
            captured = capture(klass, text, self._policy, sources, indent=indent)
            captured_text = captured.text
            data = tuple((file.file_name, file.content) for file in captured.data)
            check = self._source_check(klass, pickled.data, text, captured)
        else:
            captured_text, check = Captured((), (), ()).text, SourceCheck(False, "it has no source text")
        meta: Meta = {
            "format": FORMAT_VERSION,
            "name": name,
            "module": klass.__module__,
            "qualname": klass.__qualname__,
            "python": running_python(),
            "bases": [f"{b.__module__}.{b.__qualname__}" for b in klass.__bases__],
            "by_value": list(pickled.by_value_modules),
            "source": "file" if source_found else "missing",
            "source_complete": check.complete,
        }
        if not check.complete:
            meta["source_problem"] = check.reason
        if len(pickled.data) > MAX_OBJECT_BYTES:
            raise UnsupportedClassError(
                cls,
                f"it pickles to {len(pickled.data)} bytes, more than the {MAX_OBJECT_BYTES} "
                "a stored object may hold",
            )
        files = VersionFiles(
            text.encode("utf-8"), pickled.data, meta_json(meta), captured_text.encode("utf-8"), data
        )
        requires = installed_requirements(pickled.by_reference_modules)
        return VersionTree.build(files, requires), pickled.reads

    def _source_check(self, cls: type, pickled: bytes, text: str, captured: Captured) -> SourceCheck:
        """Whether the text builds the class, once per (pickle, source, captured text).

        The answer depends on nothing else (the build runs only that text), and a
        factory hashes a class at registration and again at each push.
        """
        if len(pickled) > _LARGEST_CHECKED:
            # Building it again would hold a second copy of a class this large (and run the
            # code that made its data): it is stored, but not checked.
            return SourceCheck(False, f"it pickles to more than {_LARGEST_CHECKED} bytes: not built again")
        parts = (pickled, text.encode(), captured.text.encode(), *(file.content for file in captured.data))
        key = hashlib.sha256(b"\0".join(parts)).digest()
        check = self._checks.get(key)
        if check is None:
            from gitpet.codec.from_source import check_source_complete

            check = self._checks[key] = check_source_complete(cls, pickled, text, captured, self._policy)
        return check

    def decode(self, stored: StoredVersion) -> type:
        """Load a stored version; the same pickle loads once per process.

        Examples:
            >>> stored = store.read_version("Model", pcm.push(Model))
            >>> pcm.codec.decode(stored) is pcm.codec.decode(stored)
            True
        """
        meta = stored.meta
        where = f"{stored.name}@{stored.id[:12]}"
        stored_format = meta.get("format")
        if stored_format not in READABLE_FORMATS:
            readable = ", ".join(str(f) for f in sorted(READABLE_FORMATS))
            raise IntegrityError(
                where, f"unknown format {stored_format!r} (this gitpet reads formats {readable})"
            )
        if meta.get("name") != stored.name:
            raise IntegrityError(where, f"meta.json names class {meta.get('name')!r}")
        module, qualname = meta.get("module"), meta.get("qualname")
        if not isinstance(module, str) or not isinstance(qualname, str):
            raise IntegrityError(where, "meta.json lacks module/qualname")
        stored_python = meta.get("python")
        if stored_python != running_python():
            if meta.get("source_complete") is not True or not stored.files.captured:
                problem = meta.get("source_problem")
                reason = problem if isinstance(problem, str) else "it was stored before format 3"
                raise IncompatiblePythonError(
                    stored.name, stored.id, str(stored_python), running_python(), reason
                )
            return self._build_from_text(stored, module, qualname, str(stored_python), where)

        def load() -> tuple[type, LoadedVersion]:
            source = stored.files.source.decode("utf-8", "replace")
            filename = canonical_filename(module, qualname, source)
            lines = source.splitlines(keepends=True)
            # mtime None: linecache.checkcache() keeps entries it cannot stat.
            linecache.cache[filename] = (len(source), None, lines, filename)
            cls = self._unpickle(stored, where)
            if isinstance(cls, type) and stored_format == 1 and _format1_lost_qualname(cls, qualname):
                cls.__qualname__ = qualname
            if not isinstance(cls, type) or cls.__qualname__ != qualname:
                raise IntegrityError(where, f"class.pkl does not hold class {qualname}")
            complete = meta.get("source_complete") is True
            problem = meta.get("source_problem")
            return cls, LoadedVersion(
                stored.name,
                stored.id,
                module,
                qualname,
                source,
                stored.files.captured.decode("utf-8", "replace"),
                complete,
                problem if isinstance(problem, str) else "",
                data=stored.files.data,
            )

        return _LOADED.load_once(_code_digest(stored.files), load)

    def check_stored(self, stored: StoredVersion) -> SourceCheck:
        """Whether a stored version's ``class.pkl`` is what its text builds here; nothing is unpickled.

        For a version ``meta.json`` calls source-complete, pickled by this Python minor:
        the class is built from ``captured.py`` and ``source.py`` (the text a reviewer reads)
        and pickled again, and the bytes are compared. Any other version: ``complete`` is
        False and ``reason`` says why it was not checked.

        Examples:
            A class with no text to build (``Model`` was made by ``exec``) is not checked;
            tests/codec/test_source_complete.py checks ones that are:

            >>> pcm.codec.check_stored(store.read_version("Model", pcm.push(Model)))
            SourceCheck(complete=False, reason='it is not source-complete', checked=False)
        """
        meta = stored.meta
        if meta.get("source_complete") is not True or not stored.files.captured:
            return SourceCheck(False, "it is not source-complete", checked=False)
        if meta.get("python") != running_python():
            return SourceCheck(False, f"pickled by Python {meta.get('python')}", checked=False)
        module, qualname = meta.get("module"), meta.get("qualname")
        if not isinstance(module, str) or not isinstance(qualname, str):
            return SourceCheck(False, "meta.json lacks module/qualname")
        from gitpet.codec.data_files import by_constant
        from gitpet.codec.from_source import build_from_source, pickle_built

        source = stored.files.source.decode("utf-8", "replace")
        captured = stored.files.captured.decode("utf-8", "replace")
        try:
            data = by_constant(stored.files.data)
            built = build_from_source(module, qualname, source, captured, data=data)
            again = pickle_built(built, source, self._policy)
        except Exception as err:  # noqa: BLE001 - whatever the text raises says why it is not the class
            return SourceCheck(False, f"its text does not build the class: {type(err).__name__}: {err}")
        if again != stored.files.pickle:
            return SourceCheck(False, "class.pkl is not the pickle of the class its text builds")
        return SourceCheck(True)

    def build_text(self, stored: StoredVersion) -> type:
        """The class a version's text builds (captured.py, data/, source.py); ``class.pkl`` is not read.

        Unlike :meth:`decode`, this is not the version when its pickle is something else:
        the class is not recorded as loaded from it (a pipeline dumps it as the version
        its own pickle is).

        Raises:
            IncompatiblePythonError: the version has no ``captured.py`` (formats 1 and 2).
            MissingDependencyError: the text imports a module not installed here.
            IntegrityError: the text does not build the class.

        Examples:
            >>> class Scaler:
            ...     def scale(self, x):
            ...         return 2 * x
            >>> stored = store.read_version("Scaler", pcm.push(Scaler))
            >>> built = pcm.codec.build_text(stored)
            >>> built.__qualname__, built().scale(3), built is pcm.codec.decode(stored), loaded_version(built)
            ('Scaler', 6, False, None)
        """
        where = f"{stored.name}@{stored.id[:12]}"
        module, qualname = stored.meta.get("module"), stored.meta.get("qualname")
        if not isinstance(module, str) or not isinstance(qualname, str):
            raise IntegrityError(where, "meta.json lacks module/qualname")
        if not stored.files.captured:
            raise IncompatiblePythonError(
                stored.name,
                stored.id,
                str(stored.meta.get("python")),
                running_python(),
                "it was stored before format 3, without captured.py: its text alone is not the class",
            )
        return _built_from_text(stored, module, qualname, where)

    def _build_from_text(
        self, stored: StoredVersion, module: str, qualname: str, python: str, where: str
    ) -> type:
        """A source-complete version of another Python minor, built from its text (once per process)."""
        source = stored.files.source.decode("utf-8")
        captured = stored.files.captured.decode("utf-8")

        from gitpet.codec.from_source import pickle_built

        def load() -> tuple[type, LoadedVersion]:
            cls = _built_from_text(stored, module, qualname, where)
            _BUILT_PICKLES[cls] = hashlib.sha256(pickle_built(cls, source, self._policy)).digest()
            _notice_once(python)
            return cls, LoadedVersion(
                stored.name,
                stored.id,
                module,
                qualname,
                source,
                captured,
                True,
                "",
                python,
                stored.files,
                stored.files.data,
            )

        parts = (stored.files.source, stored.files.captured, *(content for _, content in stored.files.data))
        key = hashlib.sha256(b"\0".join((b"text", *parts))).digest()
        return _LOADED.load_once(key + stored.id.encode(), load)

    @staticmethod
    def _unpickle(stored: StoredVersion, where: str) -> Any:
        try:
            return pickle.loads(stored.files.pickle)
        except ImportError as err:
            raise MissingDependencyError(stored.name, stored.id, err) from err
        except (
            pickle.UnpicklingError,
            EOFError,
            ValueError,
            TypeError,
            AttributeError,
            KeyError,
            IndexError,
        ) as err:
            raise IntegrityError(where, f"class.pkl cannot be loaded: {type(err).__name__}: {err}") from err


def _code_digest(files: VersionFiles) -> bytes:
    """What makes a loaded class one class object: its pickle and its text, not its name.

    The same code pushed under two names loads once; two versions whose pickles are equal
    but whose text differs (a comment in captured.py) load as two classes, each its version.
    """
    digest = hashlib.sha256()
    parts = (files.pickle, files.source, files.captured, *(b for item in files.data for b in item[1:]))
    for part in (*parts, *(name.encode() for name, _content in files.data)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def _built_from_text(stored: StoredVersion, module: str, qualname: str, where: str) -> type:
    """The class a version's text builds, its source registered for tracebacks; errors as loads raise."""
    from gitpet.codec.data_files import by_constant
    from gitpet.codec.from_source import build_from_source

    source = stored.files.source.decode("utf-8")
    try:
        data = by_constant(stored.files.data)
        cls = build_from_source(module, qualname, source, stored.files.captured.decode("utf-8"), data=data)
    except ImportError as err:
        raise MissingDependencyError(stored.name, stored.id, err) from err
    except Exception as err:
        raise IntegrityError(
            where, f"its text does not build the class: {type(err).__name__}: {err}"
        ) from err
    filename = canonical_filename(module, qualname, source)
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    return cls


log = logging.getLogger("gitpet")
_NOTICED: set[str] = set()
# Classes built from the text of another Python's version -> the digest of their pickle here.
_BUILT_PICKLES: weakref.WeakKeyDictionary[type, bytes] = weakref.WeakKeyDictionary()


def _notice_once(python: str) -> None:
    """Say once per process and Python minor that versions are being built from their text."""
    if python not in _NOTICED:
        _NOTICED.add(python)
        log.warning(
            "gitpet: versions pickled on Python %s are built from their source here (Python %s); "
            "they are source-complete, so they behave the same",
            python,
            running_python(),
        )
