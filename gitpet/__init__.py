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

from gitpet.codec.classcodec import ClassCodec, LoadedVersion, loaded_version
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.codec.reads import GlobalReads
from gitpet.codec.source_check import SourceCheck
from gitpet.config import StoreConfig, WorkerConfig
from gitpet.errors import (
    AmbiguousVersionError,
    ClassNotFoundError,
    CodecError,
    DifferentClassError,
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
    SigningError,
    SnapshotNotFoundError,
    SourceMismatchError,
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
from gitpet.factory.container import Container, PetContainer, setup
from gitpet.factory.factory import BaseFactory, PetFactory
from gitpet.factory.manager import LargeVersionWarning, PetClassManager
from gitpet.factory.plugin import BasePlugin
from gitpet.format.requirements import Requirement
from gitpet.format.version_files import VersionFiles, VersionTree
from gitpet.gitstore import GitStore, StoredVersion
from gitpet.progress import human_size
from gitpet.records import Problem, PushResult, RefUpdate, SnapshotInfo, SyncReport, VersionInfo
from gitpet.trust.trustlist import TrustPolicy

if TYPE_CHECKING:
    from gitpet.maintenance.gc import GcReport, StoreSize
    from gitpet.maintenance.verify import VerifyReport
    from gitpet.pipelines.history import (
        ClassChange,
        ClassVersions,
        PinStatus,
        PipelineHistory,
        SnapshotDiff,
        SnapshotRef,
        SnapshotStatus,
    )
    from gitpet.pipelines.snapshots import Pin, Snapshot

# Names whose modules load on first use: none of them is needed to push or
# load a class, and importing them all made ``import gitpet`` 1.5x slower.
_LAZY_NAMES = {
    "GcReport": "gitpet.maintenance.gc",
    "ClassChange": "gitpet.pipelines.history",
    "ClassVersions": "gitpet.pipelines.history",
    "Pin": "gitpet.pipelines.snapshots",
    "PinStatus": "gitpet.pipelines.history",
    "PipelineHistory": "gitpet.pipelines.history",
    "Snapshot": "gitpet.pipelines.snapshots",
    "SnapshotDiff": "gitpet.pipelines.history",
    "SnapshotRef": "gitpet.pipelines.history",
    "SnapshotStatus": "gitpet.pipelines.history",
    "StoreSize": "gitpet.maintenance.gc",
    "VerifyReport": "gitpet.maintenance.verify",
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
    "ClassVersions",
    "ClassNotFoundError",
    "CodecError",
    "DifferentClassError",
    "Container",
    "GcReport",
    "GitStore",
    "GitpetError",
    "GlobalReads",
    "IncompatiblePythonError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidDumpError",
    "InvalidInputError",
    "InvalidNameError",
    "LargeVersionWarning",
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
    "Requirement",
    "RemoteError",
    "RemoteRejectedError",
    "SigningError",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotInfo",
    "SnapshotNotFoundError",
    "SnapshotRef",
    "SnapshotStatus",
    "SourceCheck",
    "SourceMismatchError",
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
    "WorkerConfig",
    "WrongClassVersionError",
    "human_size",
    "loaded_version",
    "setup",
]

for _name in __all__:
    if _name not in _LAZY_NAMES:
        _publish(globals()[_name])
del _name

__version__ = "0.1.0"
