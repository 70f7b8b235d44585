"""gitpet: versions of Python classes in a plain bare git repository.

Examples:
    >>> import tempfile
    >>> from gitpet import GitStore, PetClassManager
    >>> pcm = PetClassManager(GitStore(tempfile.mkdtemp() + "/store"))
    >>> class Adder:
    ...     def add(self, a, b):
    ...         return a + b
    >>> version = pcm.push(Adder)
    >>> pcm.pull("Adder", version[:7])().add(2, 3)
    5
"""

import importlib
from typing import TYPE_CHECKING

from gitpet._codec import ClassCodec, LoadedVersion, loaded_version
from gitpet._config import StoreConfig
from gitpet._container import Container, PetContainer
from gitpet._errors import (
    AmbiguousVersionError,
    ClassNotFoundError,
    CodecError,
    GitpetError,
    IncompatiblePythonError,
    IntegrityError,
    InvalidArgumentError,
    InvalidDumpError,
    InvalidInputError,
    InvalidNameError,
    MissingDependencyError,
    NotAGitRepositoryError,
    NotAStoreError,
    NotFoundError,
    PipelineNotFoundError,
    RemoteError,
    RemoteRejectedError,
    SnapshotNotFoundError,
    StaleSourceError,
    StoreBusyError,
    StoreError,
    StoreWriteError,
    SyncError,
    TagExistsError,
    TrustError,
    UnpicklableClassError,
    UnsupportedClassError,
    UntrustedVersionError,
    UnvouchedPushError,
    VersionNotFoundError,
    WrongClassVersionError,
)
from gitpet._factory import BaseFactory, PetFactory
from gitpet._manager import PetClassManager
from gitpet._modpolicy import ModulePolicy
from gitpet._objects import VersionFiles, VersionTree
from gitpet._plugin import BasePlugin
from gitpet._records import PushResult, SnapshotInfo, VersionInfo
from gitpet._store import GitStore, StoredVersion
from gitpet._trust import TrustPolicy

if TYPE_CHECKING:
    from gitpet._gc import GcReport, StoreSize
    from gitpet._pipelines import (
        ClassChange,
        PinStatus,
        PipelineHistory,
        SnapshotDiff,
        SnapshotRef,
        SnapshotStatus,
    )
    from gitpet._remote import RefUpdate, SyncReport
    from gitpet._snapshots import Pin, Snapshot
    from gitpet._verify import Problem, VerifyReport

# Names whose modules load on first use: none of them is needed to push or
# load a class, and importing them all made ``import gitpet`` 1.5x slower.
_LAZY_NAMES = {
    "GcReport": "gitpet._gc",
    "ClassChange": "gitpet._pipelines",
    "Pin": "gitpet._snapshots",
    "PinStatus": "gitpet._pipelines",
    "PipelineHistory": "gitpet._pipelines",
    "Problem": "gitpet._verify",
    "RefUpdate": "gitpet._remote",
    "Snapshot": "gitpet._snapshots",
    "SnapshotDiff": "gitpet._pipelines",
    "SnapshotRef": "gitpet._pipelines",
    "SnapshotStatus": "gitpet._pipelines",
    "StoreSize": "gitpet._gc",
    "SyncReport": "gitpet._remote",
    "VerifyReport": "gitpet._verify",
}


def _publish(value: object) -> None:
    """Give a public class or function the package as ``__module__`` (as httpx does).

    Pickles name classes by ``__module__``: user code that refers to
    ``BasePlugin`` or an error class stores ``gitpet.BasePlugin``, a name that
    never moves, rather than a private module path.
    """
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        value.__module__ = __name__


def __getattr__(name: str) -> object:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'gitpet' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    _publish(value)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "AmbiguousVersionError",
    "BaseFactory",
    "BasePlugin",
    "ClassChange",
    "ClassCodec",
    "ClassNotFoundError",
    "CodecError",
    "Container",
    "GcReport",
    "GitStore",
    "GitpetError",
    "IncompatiblePythonError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidDumpError",
    "InvalidInputError",
    "InvalidNameError",
    "LoadedVersion",
    "MissingDependencyError",
    "ModulePolicy",
    "NotAGitRepositoryError",
    "NotAStoreError",
    "NotFoundError",
    "PetClassManager",
    "PetContainer",
    "PetFactory",
    "Pin",
    "PinStatus",
    "PipelineHistory",
    "PipelineNotFoundError",
    "Problem",
    "PushResult",
    "RefUpdate",
    "RemoteError",
    "RemoteRejectedError",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotInfo",
    "SnapshotNotFoundError",
    "SnapshotRef",
    "SnapshotStatus",
    "StaleSourceError",
    "StoreBusyError",
    "StoreConfig",
    "StoreError",
    "StoreSize",
    "StoreWriteError",
    "StoredVersion",
    "SyncError",
    "SyncReport",
    "TagExistsError",
    "TrustError",
    "TrustPolicy",
    "UnpicklableClassError",
    "UnsupportedClassError",
    "UntrustedVersionError",
    "UnvouchedPushError",
    "VerifyReport",
    "VersionFiles",
    "VersionInfo",
    "VersionNotFoundError",
    "VersionTree",
    "WrongClassVersionError",
    "loaded_version",
]

for _name in __all__:
    if _name not in _LAZY_NAMES:
        _publish(globals()[_name])
del _name

__version__ = "0.1.0"
