"""The exception hierarchy: one root, subclasses that also inherit a builtin.

Every error raised on purpose by gitpet is a :class:`GitpetError`. Each
subclass also inherits the builtin a caller would naturally catch
(``KeyError`` for a missing thing, ``ValueError`` for a bad value, ...), so
code written against labchain's ``PetFactory`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousVersionError",
    "ClassNotFoundError",
    "GitpetError",
    "IncompatiblePythonError",
    "IntegrityError",
    "InvalidNameError",
    "NotAGitRepositoryError",
    "StaleSourceError",
    "UnpicklableClassError",
    "UnsupportedClassError",
    "VersionNotFoundError",
    "WrongClassVersionError",
    "InvalidDumpError",
    "MissingDependencyError",
    "PipelineNotFoundError",
    "SnapshotNotFoundError",
    "StoreBusyError",
    "RemoteError",
    "RemoteRejectedError",
    "TagExistsError",
    "UntrustedVersionError",
]


class GitpetError(Exception):
    """Root of every error gitpet raises on purpose.

    Examples:
        >>> try:
        ...     raise InvalidNameError("a b", "contains a space")
        ... except GitpetError as err:
        ...     print(err)
        invalid class name 'a b': contains a space
    """


class InvalidNameError(GitpetError, ValueError):
    """A class, tag or pipeline name git would reject, or a reserved one."""

    def __init__(self, name: object, reason: str, kind: str = "class") -> None:
        self.name = name
        self.reason = reason
        self.kind = kind
        super().__init__(f"invalid {kind} name {name!r}: {reason}")


class UnsupportedClassError(GitpetError, TypeError):
    """The object cannot be versioned: not a class, a builtin, a C type..."""

    def __init__(self, obj: object, reason: str) -> None:
        self.obj = obj
        self.reason = reason
        super().__init__(f"cannot version {obj!r}: {reason}")


class UnpicklableClassError(GitpetError, TypeError):
    """The class references something that would not load on another machine."""

    def __init__(self, qualname: str, offender: str, reason: str) -> None:
        self.qualname = qualname
        self.offender = offender
        self.reason = reason
        super().__init__(f"cannot store {qualname} by value: {offender}: {reason}")


class StaleSourceError(GitpetError, ValueError):
    """The source file on disk no longer matches the class that is running."""

    def __init__(self, qualname: str, filename: str, detail: str) -> None:
        self.qualname = qualname
        self.filename = filename
        super().__init__(
            f"the source of {qualname} in {filename} changed after it was imported "
            f"({detail}); reload the module (importlib.reload) before pushing"
        )


class ClassNotFoundError(GitpetError, KeyError, AttributeError):
    """No class of that name in memory, in the store or in the fallback."""

    def __init__(self, name: str, where: str = "the store") -> None:
        self.name = name
        # KeyError.__str__ would repr() the whole message: store it plainly.
        self.message = f"no class named {name!r} in {where}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class VersionNotFoundError(GitpetError, KeyError, ValueError):
    """No version of the class matches the given id, prefix or spec."""

    def __init__(self, name: str, version: str, detail: str = "") -> None:
        self.name = name
        self.version = version
        self.detail = detail
        self.message = f"no version {version!r} of class {name!r}" + (f": {detail}" if detail else "")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class PipelineNotFoundError(GitpetError, KeyError):
    """No pipeline of that name has been saved in the store (or on the remote)."""

    def __init__(self, name: str, where: str = "the store") -> None:
        self.name = name
        self.message = f"no pipeline named {name!r} in {where}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class SnapshotNotFoundError(GitpetError, KeyError, ValueError):
    """No snapshot of the pipeline matches the given id, prefix, tag or ``~N``."""

    def __init__(self, pipeline: str, version: str, detail: str = "") -> None:
        self.pipeline = pipeline
        self.version = version
        self.detail = detail
        self.message = f"no snapshot {version!r} of pipeline {pipeline!r}" + (f": {detail}" if detail else "")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class AmbiguousVersionError(VersionNotFoundError):
    """A version prefix matches more than one version of the class."""

    def __init__(self, name: str, version: str, candidates: list[str]) -> None:
        self.candidates = candidates
        shown = ", ".join(c[:12] for c in candidates[:5])
        super().__init__(name, version, f"prefix is ambiguous ({shown})")


class WrongClassVersionError(VersionNotFoundError):
    """The version id exists in the store but belongs to another class."""

    def __init__(self, name: str, version: str, owner: str) -> None:
        self.owner = owner
        super().__init__(name, version, f"that version belongs to class {owner!r}")


class IncompatiblePythonError(GitpetError, RuntimeError):
    """The stored pickle was made by another Python minor version."""

    def __init__(self, name: str, version: str, stored: str, running: str) -> None:
        self.name = name
        self.version = version
        self.stored = stored
        self.running = running
        super().__init__(
            f"version {version[:12]} of {name!r} was pickled by Python {stored}, "
            f"this is Python {running}: load it with Python {stored}, or push the "
            f"class again from Python {running}"
        )


class IntegrityError(GitpetError, ValueError):
    """A stored object is missing, malformed or not what was asked for."""

    def __init__(self, what: str, detail: str) -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"store integrity: {what}: {detail}")


class NotAGitRepositoryError(GitpetError, ValueError):
    """The store path exists but is not a bare git repository."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        super().__init__(f"store path {path!r} is not a git repository: {detail}")


class StoreBusyError(GitpetError, TimeoutError):
    """A lock file stayed in place for longer than the retry budget."""

    def __init__(self, what: str, waited: float, lock_file: str | None = None) -> None:
        self.ref = what
        self.waited = waited
        self.lock_file = lock_file
        where = lock_file or f"{what}.lock"
        super().__init__(
            f"{what} stayed locked for {waited:.1f}s by {where}; a writer is still working, or one "
            "that took no gitpet lock (git) crashed: if no process is writing, remove the lock file"
        )


class InvalidDumpError(GitpetError, ValueError):
    """A pipeline dump given to ``build_from_dump`` is malformed."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        super().__init__(f"invalid dump at {path}: {detail}")


class MissingDependencyError(GitpetError, ImportError):
    """A stored class needs a package this process cannot import."""

    def __init__(self, name: str, version: str, cause: ImportError) -> None:
        self.class_name = name
        self.version = version
        missing = getattr(cause, "name", None) or str(cause)
        super().__init__(
            f"version {version[:12]} of {name!r} needs module {missing!r}, which is "
            f"not installed here: install it (classes from installed packages are "
            f"stored by reference)"
        )


class RemoteError(GitpetError, ConnectionError):
    """A git remote could not be reached, or is not a repository gitpet can use."""

    def __init__(self, remote: str, detail: str) -> None:
        self.remote = remote
        self.detail = detail
        super().__init__(f"remote {remote}: {detail}")


class RemoteRejectedError(GitpetError, RuntimeError):
    """Some refs could not be synchronised; ``report`` says what happened to each."""

    def __init__(self, remote: str, rejected: list[tuple[str, str]], report: object) -> None:
        self.remote = remote
        self.rejected = rejected
        self.report = report
        shown = "; ".join(f"{ref}: {why}" for ref, why in rejected[:5])
        more = f" (and {len(rejected) - 5} more)" if len(rejected) > 5 else ""
        super().__init__(f"remote {remote}: {len(rejected)} ref(s) rejected: {shown}{more}")


class TagExistsError(GitpetError, ValueError):
    """The tag already names another version (or snapshot); re-pointing it needs ``force=True``."""

    def __init__(self, name: str, tag: str, current: str, kind: str = "class") -> None:
        self.name = name
        self.tag = tag
        self.current = current
        self.kind = kind
        what = "version" if kind == "class" else "snapshot"
        super().__init__(
            f"tag {tag!r} of {kind} {name!r} already names {what} {current[:12]}; "
            f"pass force=True (CLI: --force) to move it"
        )


class UntrustedVersionError(GitpetError, PermissionError):
    """A version did not come from this machine or a trusted remote, and the policy refuses it.

    Nothing of it was unpickled.
    """

    def __init__(self, name: str, version_id: str, reason: str) -> None:
        self.name = name
        self.version_id = version_id
        self.reason = reason
        super().__init__(f"version {version_id[:12]} of {name} is not trusted: {reason}")
