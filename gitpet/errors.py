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
    "CodecError",
    "DifferentClassError",
    "GitpetError",
    "IncompatiblePythonError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidDumpError",
    "InvalidInputError",
    "InvalidNameError",
    "MissingDependencyError",
    "NotAGitRepositoryError",
    "NotAStoreError",
    "NotFoundError",
    "PipelineNotFoundError",
    "RemoteError",
    "RemoteRejectedError",
    "SigningError",
    "SnapshotNotFoundError",
    "SourceMismatchError",
    "StaleSourceError",
    "StoreBusyError",
    "StoreError",
    "StoreWriteError",
    "SyncError",
    "TagExistsError",
    "TrustError",
    "UnpicklableClassError",
    "UnsupportedClassError",
    "UntrustedVersionError",
    "UnvouchedPushError",
    "VersionNotFoundError",
    "WrongClassVersionError",
]


class GitpetError(Exception):
    """Root of every error gitpet raises on purpose.

    Every error has the same two attributes: ``name``, the class or pipeline it is
    about, and ``version``, the version or snapshot (an id, or the spec that was
    given); each is None when the error is about no one class or version.

    Examples:
        >>> try:
        ...     raise InvalidNameError("a b", "contains a space")
        ... except GitpetError as err:
        ...     print(err, err.name, err.version)
        invalid class name 'a b': contains a space a b None
    """

    name: str | None = None
    """The class or pipeline the error is about, if one."""
    version: str | None = None
    """The version or snapshot (an id, or the spec given) the error is about, if one."""


class NotFoundError(GitpetError, LookupError):
    """Category: a class, version, pipeline or snapshot asked for by name is not there.

    Examples:
        >>> err = ClassNotFoundError("Model", "store s")
        >>> isinstance(err, NotFoundError) and isinstance(err, LookupError)
        True
    """


class InvalidInputError(GitpetError, ValueError):
    """Category: a name, argument or dump gitpet cannot use; nothing was written.

    Examples:
        >>> err = InvalidNameError("a b", "contains a space")
        >>> isinstance(err, InvalidInputError) and isinstance(err, ValueError)
        True
    """


class CodecError(GitpetError):
    """Category: a class cannot become a version here, or a version cannot become a class here.

    Examples:
        >>> err = UnsupportedClassError(len, "not a class")
        >>> isinstance(err, CodecError)
        True
    """


class StoreError(GitpetError):
    """Category: the store cannot be read or written as asked (damaged, busy, full, not a store).

    Examples:
        >>> err = IntegrityError("abc123", "object is missing")
        >>> isinstance(err, StoreError)
        True
    """


class SyncError(GitpetError):
    """Category: a push or fetch could not do everything it was asked to.

    Examples:
        >>> err = RemoteError("origin", "cannot connect")
        >>> isinstance(err, SyncError)
        True
    """


class TrustError(GitpetError, PermissionError):
    """Category: trust forbids it (a version nobody here vouched for, a push that would carry one).

    Examples:
        >>> err = UntrustedVersionError("Model", "0" * 40, "a remote that is not trusted")
        >>> isinstance(err, TrustError) and isinstance(err, PermissionError)
        True
    """


class InvalidNameError(InvalidInputError):
    """A class, tag or pipeline name git would reject, or a reserved one.

    Examples:
        >>> from gitpet import PetClassManager
        >>> class Model:
        ...     pass
        >>> PetClassManager("unused.gitpet").push(Model, "my model")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.InvalidNameError: invalid class name 'my model': contains ' ', which git does not ...
    """

    def __init__(self, name: object, reason: str, kind: str = "class") -> None:
        self.value = name
        self.name = name if isinstance(name, str) else repr(name)
        self.reason = reason
        self.kind = kind
        super().__init__(f"invalid {kind} name {name!r}: {reason}")


class InvalidArgumentError(InvalidInputError, TypeError):
    """An argument has a type or a value gitpet cannot use.

    ``None`` where a name is needed, a negative number of seconds, a path with a NUL
    byte. A ``TypeError`` and a ``ValueError`` both, so code catching either keeps working.

    Examples:
        >>> err = InvalidArgumentError("limit", -1, "must be None or an int >= 0")
        >>> print(err)
        invalid limit -1: must be None or an int >= 0
        >>> isinstance(err, TypeError) and isinstance(err, ValueError)
        True
    """

    def __init__(self, what: str, value: object, detail: str) -> None:
        self.what = what
        self.value = value
        self.detail = detail
        shown = repr(value)
        if len(shown) > 200:
            shown = shown[:100] + f"... ({len(shown)} characters)"
        super().__init__(f"invalid {what} {shown}: {detail}")


class UnsupportedClassError(CodecError, TypeError):
    """The object cannot be versioned: not a class, a builtin, a C type...

    Examples:
        >>> from gitpet import PetClassManager
        >>> PetClassManager("unused.gitpet").get_class_hash(int)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.UnsupportedClassError: cannot version <class 'int'>: it is a builtin or C-extension ...
    """

    def __init__(self, obj: object, reason: str) -> None:
        self.obj = obj
        self.name = obj.__qualname__ if isinstance(obj, type) else None
        self.reason = reason
        super().__init__(f"cannot version {obj!r}: {reason}")


class UnpicklableClassError(CodecError, TypeError):
    """The class references something that would not load on another machine.

    Examples:
        >>> err = UnpicklableClassError("Model", "Model.lock", "a _thread.lock cannot be pickled")
        >>> print(err)
        cannot store Model by value: Model.lock: a _thread.lock cannot be pickled
        >>> isinstance(err, TypeError)
        True
    """

    def __init__(self, qualname: str, offender: str, reason: str) -> None:
        self.qualname = self.name = qualname
        self.offender = offender
        self.reason = reason
        super().__init__(f"cannot store {qualname} by value: {offender}: {reason}")


class StaleSourceError(CodecError, ValueError):
    """The source file on disk no longer matches the class that is running.

    Examples:
        >>> print(StaleSourceError("Model", "models.py", "line 3 no longer defines fit"))
        ... # doctest: +NORMALIZE_WHITESPACE
        the source of Model in models.py changed after it was imported (line 3 no longer defines
        fit); reload the module (importlib.reload) before pushing
    """

    def __init__(self, qualname: str, filename: str, detail: str) -> None:
        self.qualname = self.name = qualname
        self.filename = filename
        super().__init__(
            f"the source of {qualname} in {filename} changed after it was imported "
            f"({detail}); reload the module (importlib.reload) before pushing"
        )


class ClassNotFoundError(NotFoundError, KeyError, AttributeError, ValueError):
    """No class of that name in memory, in the store or in the fallback.

    Examples:
        >>> import tempfile
        >>> from gitpet import PetClassManager
        >>> try:
        ...     PetClassManager(tempfile.mkdtemp()).pull("Missing")
        ... except KeyError as err:  # also AttributeError and ValueError, as labchain raised
        ...     print(type(err).__name__, isinstance(err, AttributeError), isinstance(err, ValueError))
        ClassNotFoundError True True
    """

    def __init__(self, name: str, where: str = "the store") -> None:
        self.name = name
        # KeyError.__str__ would repr() the whole message: store it plainly.
        self.message = f"no class named {name!r} in {where}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class VersionNotFoundError(NotFoundError, KeyError, ValueError):
    """No version of the class matches the given id, prefix or spec.

    Examples:
        >>> import tempfile
        >>> from gitpet import PetClassManager
        >>> pcm = PetClassManager(tempfile.mkdtemp())
        >>> class Model:
        ...     pass
        >>> _ = pcm.push(Model)
        >>> pcm.pull("Model", "v9")
        Traceback (most recent call last):
        ...
        gitpet.VersionNotFoundError: no version 'v9' of class 'Model': Model has no tag 'v9'
    """

    name: str
    version: str

    def __init__(self, name: str, version: str, detail: str = "") -> None:
        self.name = name
        self.version = version
        self.detail = detail
        self.message = f"no version {version!r} of class {name!r}" + (f": {detail}" if detail else "")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class PipelineNotFoundError(NotFoundError, KeyError):
    """No pipeline of that name has been saved in the store (or on the remote).

    Examples:
        >>> import tempfile
        >>> from gitpet import GitStore
        >>> GitStore(tempfile.mkdtemp()).pipeline("train").read()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.PipelineNotFoundError: no pipeline named 'train' in store /...
    """

    def __init__(self, name: str, where: str = "the store") -> None:
        self.name = name
        self.message = f"no pipeline named {name!r} in {where}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class SnapshotNotFoundError(NotFoundError, KeyError, ValueError):
    """No snapshot of the pipeline matches the given id, prefix, tag or ``~N``.

    Examples:
        >>> print(SnapshotNotFoundError("train", "~5", "train has only 2 snapshot(s)"))
        no snapshot '~5' of pipeline 'train': train has only 2 snapshot(s)
    """

    def __init__(self, pipeline: str, version: str, detail: str = "") -> None:
        self.pipeline = self.name = pipeline
        self.version = version
        self.detail = detail
        self.message = f"no snapshot {version!r} of pipeline {pipeline!r}" + (f": {detail}" if detail else "")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class AmbiguousVersionError(VersionNotFoundError):
    """A version prefix matches more than one version of the class.

    Examples:
        >>> err = AmbiguousVersionError("Model", "3f2a", ["3f2a91" + "0" * 34, "3f2ab7" + "0" * 34])
        >>> print(err)
        no version '3f2a' of class 'Model': prefix is ambiguous (3f2a91000000, 3f2ab7000000)
        >>> isinstance(err, VersionNotFoundError)
        True
    """

    def __init__(self, name: str, version: str, candidates: list[str]) -> None:
        self.candidates = candidates
        shown = ", ".join(c[:12] for c in candidates[:5])
        super().__init__(name, version, f"prefix is ambiguous ({shown})")


class WrongClassVersionError(VersionNotFoundError):
    """The version id exists in the store but belongs to another class.

    Examples:
        >>> print(WrongClassVersionError("Model", "3f2a91c", "Scaler"))
        no version '3f2a91c' of class 'Model': that version belongs to class 'Scaler'
    """

    def __init__(self, name: str, version: str, owner: str) -> None:
        self.owner = owner
        super().__init__(name, version, f"that version belongs to class {owner!r}")


class IncompatiblePythonError(CodecError, RuntimeError):
    """The version was pickled by another Python minor, and its text does not build it.

    A source-complete version loads on any Python minor (built from its text);
    ``reason`` says why this one is not.

    Examples:
        >>> err = IncompatiblePythonError("Model", "3f2a91" + "0" * 34, "3.10", "3.11", "it is nested")
        >>> print(err)
        ... # doctest: +NORMALIZE_WHITESPACE
        version 3f2a91000000 of 'Model' was pickled by Python 3.10, this is Python 3.11, and it
        cannot be built from its text (it is nested): load it with Python 3.10, or push
        the class again from Python 3.11
    """

    def __init__(self, name: str, version: str, stored: str, running: str, reason: str = "") -> None:
        self.name = name
        self.version = version
        self.stored = stored
        self.running = running
        self.reason = reason
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"version {version[:12]} of {name!r} was pickled by Python {stored}, "
            f"this is Python {running}, and it cannot be built from its text{why}: "
            f"load it with Python {stored}, or push the class again from Python {running}"
        )


class IntegrityError(StoreError, ValueError):
    """A stored object is missing, malformed or not what was asked for.

    Examples:
        >>> print(IntegrityError("3f2a91c", "class.pkl blob is missing"))
        store integrity: 3f2a91c: class.pkl blob is missing
    """

    def __init__(self, what: str, detail: str) -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"store integrity: {what}: {detail}")


class NotAGitRepositoryError(StoreError, ValueError):
    """The store path exists but is not a bare git repository.

    Examples:
        >>> import tempfile, pathlib
        >>> from gitpet import GitStore
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
        >>> _ = file.write_text("not a repository")
        >>> GitStore(file).names()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.NotAGitRepositoryError: store path '.../notes.txt' is not a git repository: ...
    """

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        super().__init__(f"store path {path!r} is not a git repository: {detail}")


class NotAStoreError(NotAGitRepositoryError):
    """The store path is a git repository, but not one gitpet may write into.

    A store is a bare repository that gitpet created or recognises as its
    own. A project's repository (one with a work tree) is refused outright:
    writing class branches into it would move its branches and put gitpet's
    files in its work tree. A bare repository with refs gitpet did not write
    is refused for writing. Nothing was written.

    Examples:
        >>> import subprocess, tempfile
        >>> from gitpet import GitStore
        >>> project = tempfile.mkdtemp()
        >>> _ = subprocess.run(["git", "init", "-q", project], check=True)
        >>> GitStore(project).names()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.NotAStoreError: store path '...' is not a gitpet store: it is a git repository with a work...
    """

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        GitpetError.__init__(self, f"store path {path!r} is not a gitpet store: {detail}")


class StoreBusyError(StoreError, TimeoutError):
    """A lock file stayed in place for longer than the retry budget.

    Examples:
        >>> err = StoreBusyError("refs/heads/Model", 30.0, "store/refs/heads/Model.lock")
        >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
        refs/heads/Model stayed locked for 30.0s by store/refs/heads/Model.lock; a writer is still working,
        or one that took no gitpet lock (git) crashed: if no process is writing, remove the lock file
        >>> isinstance(err, TimeoutError)
        True
    """

    def __init__(self, what: str, waited: float, lock_file: str | None = None) -> None:
        self.ref = what
        self.waited = waited
        self.lock_file = lock_file
        where = lock_file or f"{what}.lock"
        super().__init__(
            f"{what} stayed locked for {waited:.1f}s by {where}; a writer is still working, or one "
            "that took no gitpet lock (git) crashed: if no process is writing, remove the lock file"
        )


class SigningError(StoreError, RuntimeError):
    """A commit could not be signed (no ``ssh-keygen``, an unreadable key...); nothing was written.

    Examples:
        >>> print(SigningError("ssh-keygen is not installed; it signs and checks gitpet commits"))
        ssh-keygen is not installed; it signs and checks gitpet commits
        >>> isinstance(SigningError("x"), RuntimeError)
        True
    """


class StoreWriteError(StoreError, OSError):
    """The store could not be written: the disk is full, the store is read-only, or access is denied.

    What was being written is not half there: objects are written to
    temporary files and renamed, a ref moves by one rename, a line of the
    trust list is whole or ignored. Free space (or fix the permissions) and
    run the same operation again. ``errno``, ``strerror`` and ``filename``
    are those of the underlying error.

    Examples:
        >>> import errno
        >>> full = OSError(errno.ENOSPC, "No space left on device", "/data/store/x")
        >>> err = StoreWriteError("/data/store", full)
        >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
        cannot write to store /data/store: No space left on device (/data/store/x); nothing was half-written:
        free space or fix permissions, then run it again
        >>> isinstance(err, OSError), err.errno == errno.ENOSPC
        (True, True)
    """

    def __init__(self, store: str, cause: OSError) -> None:
        shown = cause.strerror or str(cause)
        where = f" ({cause.filename})" if cause.filename else ""
        self._message = (
            f"cannot write to store {store}: {shown}{where}; nothing was half-written: "
            "free space or fix permissions, then run it again"
        )
        GitpetError.__init__(self, self._message)
        self.store = store
        self.errno = cause.errno
        self.strerror = cause.strerror
        self.filename = cause.filename

    def __str__(self) -> str:
        # OSError would print "[Errno N] ...": say what happened to the store instead.
        return self._message


class DifferentClassError(InvalidInputError):
    """A push would make another class (another module or qualname) the latest version of a name.

    ``a_model.Model`` and ``b_model.Model`` are two classes: pushing the second as
    ``Model`` would silently continue the first one's history. Push it under
    another name, or, when it really is the same class moved to another module,
    say so with ``moved=True``.

    Examples:
        >>> import tempfile
        >>> from gitpet import PetClassManager
        >>> pcm = PetClassManager(tempfile.mkdtemp())
        >>> First = type("Model", (), {"__module__": "a_model"})
        >>> Second = type("Model", (), {"__module__": "b_model", "x": 1})
        >>> _ = pcm.push(First)
        >>> pcm.push(Second)
        Traceback (most recent call last):
        ...
        gitpet.DifferentClassError: Model is stored as a_model.Model; this is b_model.Model, ...
    """

    def __init__(self, name: str, stored: str, given: str) -> None:
        self.name = name
        self.stored = stored
        self.given = given
        module, _, qualname = given.rpartition(".")
        prefix = module.rpartition(".")[2].strip("_<>")
        other = f"{prefix}_{qualname}" if prefix else f"{qualname}2"
        super().__init__(
            f"{name} is stored as {stored}; this is {given}, another class. Push it under another "
            f'name (push(cls, name="{other}")), or, if it is the same class moved, push(cls, moved=True)'
        )


class InvalidDumpError(InvalidInputError):
    """A pipeline dump given to ``build_from_dump`` is malformed.

    Examples:
        >>> from gitpet import BaseFactory, BasePlugin
        >>> BasePlugin.build_from_dump({"clazz": "Model", "params": "not a dict"}, BaseFactory())
        Traceback (most recent call last):
        ...
        gitpet.InvalidDumpError: invalid dump at dump: 'params' must be a mapping with str keys
    """

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        super().__init__(f"invalid dump at {path}: {detail}")


class MissingDependencyError(CodecError, ImportError):
    """A stored class needs a package this process cannot import.

    Examples:
        >>> err = MissingDependencyError("Model", "3f2a91" + "0" * 34, ImportError(name="lightgbm"))
        >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
        version 3f2a91000000 of 'Model' needs module 'lightgbm', which is not installed here:
        install it (classes from installed packages are stored by reference)
        >>> isinstance(err, ImportError)
        True
    """

    def __init__(self, name: str, version: str, cause: ImportError) -> None:
        self.class_name = self.name = name
        self.version = version
        missing = getattr(cause, "name", None) or str(cause)
        super().__init__(
            f"version {version[:12]} of {name!r} needs module {missing!r}, which is "
            f"not installed here: install it (classes from installed packages are "
            f"stored by reference)"
        )


class RemoteError(SyncError, ConnectionError):
    """A git remote could not be reached, or is not a repository gitpet can use.

    Examples:
        >>> import tempfile
        >>> from gitpet import GitStore
        >>> GitStore(tempfile.mkdtemp()).push("origin")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.RemoteError: remote origin: no remote of that name is configured (add one with ...
    """

    def __init__(self, remote: str, detail: str) -> None:
        self.remote = remote
        self.detail = detail
        super().__init__(f"remote {remote}: {detail}")


class RemoteRejectedError(SyncError, RuntimeError):
    """Some refs could not be synchronised; ``report`` says what happened to each.

    Examples:
        >>> err = RemoteRejectedError("origin", [("refs/tags/Model/v1", "tag differs")], report=None)
        >>> print(err)
        remote origin: 1 ref(s) rejected: refs/tags/Model/v1: tag differs
    """

    def __init__(self, remote: str, rejected: list[tuple[str, str]], report: object) -> None:
        self.remote = remote
        self.rejected = rejected
        self.report = report
        shown = "; ".join(f"{ref}: {why}" for ref, why in rejected[:5])
        more = f" (and {len(rejected) - 5} more)" if len(rejected) > 5 else ""
        super().__init__(f"remote {remote}: {len(rejected)} ref(s) rejected: {shown}{more}")


class TagExistsError(InvalidInputError):
    """The tag already names another version (or snapshot); re-pointing it needs ``force=True``.

    Examples:
        >>> print(TagExistsError("Model", "v1", "3f2a91" + "0" * 34))  # doctest: +NORMALIZE_WHITESPACE
        tag 'v1' of class 'Model' already names version 3f2a91000000;
        pass force=True (CLI: --force) to move it
    """

    def __init__(self, name: str, tag: str, current: str, kind: str = "class") -> None:
        self.name = name
        self.tag = tag
        self.current = self.version = current
        self.kind = kind
        what = "version" if kind == "class" else "snapshot"
        super().__init__(
            f"tag {tag!r} of {kind} {name!r} already names {what} {current[:12]}; "
            f"pass force=True (CLI: --force) to move it"
        )


class UntrustedVersionError(TrustError):
    """A version did not come from this machine or a trusted remote, and the policy refuses it.

    Nothing of it was unpickled.

    Examples:
        >>> err = UntrustedVersionError("Model", "3f2a91" + "0" * 34, "fetched from an untrusted remote")
        >>> print(err)
        version 3f2a91000000 of Model is not trusted: fetched from an untrusted remote
        >>> isinstance(err, PermissionError)
        True
    """

    def __init__(self, name: str, version_id: str, reason: str) -> None:
        self.name = name
        self.version_id = self.version = version_id
        self.reason = reason
        super().__init__(f"version {version_id[:12]} of {name} is not trusted: {reason}")


class SourceMismatchError(TrustError):
    """A version's ``class.pkl`` is not what its text builds: what a reviewer read is not what would run.

    Nothing of it was unpickled, and nobody vouched for it.

    Examples:
        >>> err = SourceMismatchError("Model", "3f2a91" + "0" * 34, "class.pkl is not the pickle ...")
        >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
        version 3f2a91000000 of Model does not run what its text says (class.pkl is not the
        pickle ...): it is refused; push the class again from its source, or run what its text
        says with PetClassManager.build_from_text('Model', '3f2a91000000')
        >>> isinstance(err, PermissionError)
        True
    """

    def __init__(self, name: str, version: str, reason: str) -> None:
        self.name = name
        self.version = version
        self.reason = reason
        super().__init__(
            f"version {version[:12]} of {name} does not run what its text says ({reason}): "
            "it is refused; push the class again from its source, or run what its text says with "
            f"PetClassManager.build_from_text({name!r}, {version[:12]!r})"
        )


class UnvouchedPushError(TrustError):
    """A push would carry versions this machine does not vouch for; nothing was sent.

    Others may trust the remote, so what arrives there must be code someone
    here vouched for (see :mod:`gitpet.trust.trustlist`). ``versions`` lists each
    ``(class, version id)``.

    Examples:
        >>> err = UnvouchedPushError("origin", [("Evil", "3f2a91" + "0" * 34)])
        >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
        push to origin refused: it would carry 1 version(s) this machine does not vouch for:
        Evil@3f2a91000000. Review each (gitpet show NAME@ID) and vouch for it (gitpet trust NAME ID),
        leave its class out of the push, or pass allow_unvouched=True (CLI: --allow-unvouched)
        >>> isinstance(err, PermissionError)
        True
    """

    def __init__(self, remote: str, versions: list[tuple[str, str]]) -> None:
        self.remote = remote
        self.versions = versions
        shown = ", ".join(f"{name}@{vid[:12]}" for name, vid in versions[:10])
        more = f" (and {len(versions) - 10} more)" if len(versions) > 10 else ""
        super().__init__(
            f"push to {remote} refused: it would carry {len(versions)} version(s) this machine does not "
            f"vouch for: {shown}{more}. Review each (gitpet show NAME@ID) and vouch for it "
            "(gitpet trust NAME ID), leave its class out of the push, or pass allow_unvouched=True "
            "(CLI: --allow-unvouched)"
        )
