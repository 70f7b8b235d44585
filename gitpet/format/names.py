"""Pure validation of names and version ids, called before anything is written."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from gitpet.errors import InvalidArgumentError, InvalidNameError, SnapshotNotFoundError, VersionNotFoundError

__all__ = [
    "CLASS_REF_PREFIX",
    "PIPELINE_NAMESPACE",
    "TAG_REF_PREFIX",
    "VersionSpec",
    "check_class_name",
    "check_pipeline_name",
    "check_remote_name",
    "check_tag_name",
    "class_ref",
    "is_gitpet_ref",
    "is_ownable_ref",
    "is_pipeline_ref",
    "missing_tag_detail",
    "owner_of_ref",
    "parse_snapshot_spec",
    "parse_version_spec",
    "pipeline_ref",
    "pipeline_tag_prefix",
    "pipeline_tag_ref",
    "tag_prefix",
    "tag_ref",
]

CLASS_REF_PREFIX = b"refs/heads/"
TAG_REF_PREFIX = b"refs/tags/"
PIPELINE_NAMESPACE = "pipelines"
_RESERVED = frozenset({PIPELINE_NAMESPACE, "HEAD", "FETCH_HEAD", "ORIG_HEAD", "@"})
_MAX_NAME_LENGTH = 200
# git check-ref-format rules for one component, plus '/' (a class is one component).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\/]")
_HEX = re.compile(r"[0-9a-f]+")
MIN_PREFIX = 7
FULL_ID = 40


def _check_ref_component(value: object, kind: str) -> str:
    """Return ``value`` if it is one git ref component plain git will not misread."""
    if not isinstance(value, str):
        raise InvalidNameError(value, f"must be a str, not {type(value).__name__}", kind)
    if not value:
        raise InvalidNameError(value, "is empty", kind)
    if len(value) > _MAX_NAME_LENGTH:
        raise InvalidNameError(value, f"is longer than {_MAX_NAME_LENGTH} characters", kind)
    bad = _FORBIDDEN_CHARS.search(value)
    if bad:
        char = bad.group()
        if char == "/":
            raise InvalidNameError(value, "contains '/', which would nest refs; use a flat name", kind)
        raise InvalidNameError(value, f"contains {char!r}, which git does not allow in a ref name", kind)
    if value in _RESERVED:
        raise InvalidNameError(value, "is reserved by gitpet or git", kind)
    if value.startswith((".", "-")):
        raise InvalidNameError(value, "must not start with '.' or '-'", kind)
    if value.endswith((".", ".lock")):
        raise InvalidNameError(value, "must not end with '.' or '.lock'", kind)
    if ".." in value or "@{" in value:
        raise InvalidNameError(value, "must not contain '..' or '@{'", kind)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidNameError(value, "is not valid UTF-8", kind) from err
    return value


def check_class_name(name: object) -> str:
    """Return ``name`` if it can be a class name in the store, else raise.

    A class name becomes the ref ``refs/heads/<name>``, so it must be a single
    git ref component that plain git commands will not misread.

    Examples:
        >>> check_class_name("MyFilter")
        'MyFilter'
        >>> check_class_name("a/b")
        Traceback (most recent call last):
        ...
        gitpet.InvalidNameError: invalid class name 'a/b': contains '/', ...
    """
    return _check_ref_component(name, "class")


def check_class_names(names: object, what: str = "names") -> list[str]:
    """``names`` as a list of checked class names: any iterable of them, but not one str.

    Examples:
        >>> check_class_names(("Model", "Scale"))
        ['Model', 'Scale']
        >>> check_class_names("Model")
        Traceback (most recent call last):
        ...
        gitpet.InvalidArgumentError: invalid names 'Model': must be a list of class names, not a str
    """
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise InvalidArgumentError(
            what, names, f"must be a list of class names, not a {type(names).__name__}"
        )
    return [check_class_name(name) for name in names]


def check_pins(pins: object) -> list[tuple[str, str]]:
    """``pins`` as a list of ``(class name, version)`` pairs, each name checked.

    Examples:
        >>> check_pins([("Model", "3f2a91c")])
        [('Model', '3f2a91c')]
        >>> check_pins([("Model",)])
        Traceback (most recent call last):
        ...
        gitpet.InvalidArgumentError: invalid pin ('Model',): must be a (class name, version) pair of str
    """
    if isinstance(pins, (str, bytes)) or not isinstance(pins, Iterable):
        raise InvalidArgumentError("pins", pins, "must be a list of (class name, version) pairs")
    checked = []
    for pin in pins:
        if not (isinstance(pin, tuple) and len(pin) == 2 and all(isinstance(part, str) for part in pin)):
            raise InvalidArgumentError("pin", pin, "must be a (class name, version) pair of str")
        checked.append((check_class_name(pin[0]), pin[1]))
    return checked


def check_tag_name(tag: object) -> str:
    """Return ``tag`` if it can name a version (``refs/tags/<class>/<tag>``), else raise.

    A tag is accepted wherever a version id is, so it must not look like one:
    7 to 40 hexadecimal characters, or ``~N``, are refused.

    Examples:
        >>> check_tag_name("v1.0.0")
        'v1.0.0'
        >>> check_tag_name("deadbeef")
        Traceback (most recent call last):
        ...
        gitpet.InvalidNameError: invalid tag name 'deadbeef': looks like a version id ...
    """
    _check_ref_component(tag, "tag")
    assert isinstance(tag, str)
    if _looks_like_id(tag.lower()):
        raise InvalidNameError(tag, "looks like a version id (7 to 40 hex characters)", "tag")
    if "@" in tag:
        # The CLI writes NAME@VERSION: a tag with '@' would read ambiguously.
        raise InvalidNameError(tag, "must not contain '@'", "tag")
    return tag


def check_pipeline_name(name: object) -> str:
    """Return ``name`` if it can name a pipeline (``refs/heads/pipelines/<name>``), else raise.

    Examples:
        >>> check_pipeline_name("train")
        'train'
        >>> check_pipeline_name("a b")
        Traceback (most recent call last):
        ...
        gitpet.InvalidNameError: invalid pipeline name 'a b': contains ' ', ...
    """
    return _check_ref_component(name, "pipeline")


def check_remote_name(name: object) -> str:
    """Return ``name`` if it can name a configured remote (``remote.<name>.url``)."""
    return _check_ref_component(name, "remote")


def missing_tag_detail(name: str, tag: str) -> str:
    """Why a spec read as a tag found nothing; a short hex spec was probably meant as an id."""
    hint = ""
    if _HEX.fullmatch(tag.lower()):
        hint = f" (and a version id prefix is {MIN_PREFIX} to {FULL_ID} hexadecimal characters)"
    return f"{name} has no tag {tag!r}{hint}"


def _looks_like_id(text: str) -> bool:
    return MIN_PREFIX <= len(text) <= FULL_ID and _HEX.fullmatch(text) is not None


def class_ref(name: str) -> bytes:
    """The ref holding the latest version of class ``name`` (already checked)."""
    return CLASS_REF_PREFIX + name.encode("utf-8")


def tag_prefix(name: str) -> bytes:
    """The ref namespace of the tags of class ``name`` (already checked)."""
    return TAG_REF_PREFIX + name.encode("utf-8") + b"/"


def tag_ref(name: str, tag: str) -> bytes:
    """The ref of one tag of class ``name`` (both already checked)."""
    return tag_prefix(name) + tag.encode("utf-8")


def pipeline_ref(name: str) -> bytes:
    """The ref whose history is the snapshots of pipeline ``name`` (already checked)."""
    return CLASS_REF_PREFIX + _PIPELINES + name.encode("utf-8")


def pipeline_tag_prefix(name: str) -> bytes:
    """The ref namespace of the tags of pipeline ``name`` (already checked)."""
    return TAG_REF_PREFIX + _PIPELINES + name.encode("utf-8") + b"/"


def pipeline_tag_ref(name: str, tag: str) -> bytes:
    """The ref of one tag of pipeline ``name`` (both already checked)."""
    return pipeline_tag_prefix(name) + tag.encode("utf-8")


_PIPELINES = PIPELINE_NAMESPACE.encode() + b"/"


def is_pipeline_ref(ref: bytes) -> bool:
    """Whether ``ref`` is a pipeline's ref or one of its tags.

    Examples:
        >>> refs = (b"refs/heads/pipelines/p", b"refs/tags/pipelines/p/v1", b"refs/heads/p")
        >>> [is_pipeline_ref(r) for r in refs]
        [True, True, False]
    """
    if ref.startswith(CLASS_REF_PREFIX + _PIPELINES):
        return len(ref.split(b"/")) == 4
    if ref.startswith(TAG_REF_PREFIX + _PIPELINES):
        return len(ref.split(b"/")) == 5
    return False


def is_gitpet_ref(ref: bytes) -> bool:
    """Whether ``ref`` belongs to gitpet's layout: a class, a pipeline, or a tag of either.

    Examples:
        >>> [is_gitpet_ref(r) for r in (b"refs/heads/A", b"refs/tags/A/v1", b"refs/tags/v1", b"HEAD")]
        [True, True, False, False]
    """
    if is_pipeline_ref(ref):
        return True
    if ref.startswith(CLASS_REF_PREFIX):
        return b"/" not in ref[len(CLASS_REF_PREFIX) :]
    if ref.startswith(TAG_REF_PREFIX):
        parts = ref[len(TAG_REF_PREFIX) :].split(b"/")
        return len(parts) == 2 and parts[0] != PIPELINE_NAMESPACE.encode()
    return False


def is_ownable_ref(ref: bytes) -> bool:
    """Whether gitpet could have written ``ref``: its layout, with names gitpet's checks accept.

    A remote can advertise any bytes as a ref name; a fetch takes only these.

    Examples:
        >>> refs = (b"refs/heads/A", b"refs/heads/-x", b"refs/heads/HEAD", b"refs/heads/Caf\\xe9",
        ...         b"refs/tags/A/v1", b"refs/tags/A/0123abc", b"refs/heads/pipelines/p")
        >>> [is_ownable_ref(r) for r in refs]
        [True, False, False, False, True, False, True]
    """
    if not is_gitpet_ref(ref):
        return False
    try:
        parts = ref.decode("utf-8").split("/")[2:]
        if parts[0] == PIPELINE_NAMESPACE:
            parts = parts[1:]
            check_pipeline_name(parts[0])
        else:
            check_class_name(parts[0])
        if ref.startswith(TAG_REF_PREFIX):
            check_tag_name(parts[1])
    except (UnicodeDecodeError, InvalidNameError, IndexError):
        return False
    return True


def owner_of_ref(ref: str) -> str | None:
    """The class whose versions a gitpet ref's history holds; None for a pipeline ref or tag.

    Examples:
        >>> [owner_of_ref(r) for r in ("refs/heads/A", "refs/tags/A/v1", "refs/heads/pipelines/p")]
        ['A', 'A', None]
    """
    if is_pipeline_ref(ref.encode("utf-8", "surrogateescape")):
        return None
    if ref.startswith(TAG_REF_PREFIX.decode()):
        return ref[len(TAG_REF_PREFIX) :].split("/", 1)[0]
    return ref[len(CLASS_REF_PREFIX) :]


class VersionSpec(NamedTuple):
    """A parsed version spec: an id or prefix, a tag, or ``~N`` (N versions back)."""

    prefix: str | None = None
    tag: str | None = None
    back: int | None = None

    def __str__(self) -> str:
        if self.back is not None:
            return f"~{self.back}"
        return self.prefix or self.tag or ""


def parse_version_spec(name: str, spec: object) -> VersionSpec:
    """Parse what a user may give for a version, before anything is read.

    ``@~N`` is ``~N`` spelt so that a shell leaves it alone (as git's ``@`` is its
    ``HEAD``): bash turns a word-initial ``~`` into a home directory, which is then
    refused as such.

    Examples:
        >>> [str(parse_version_spec("A", spec)) for spec in ("ABCDEF0", "~", "~2", "@~2", "@", "v1")]
        ['abcdef0', '~1', '~2', '~2', '~0', 'v1']
        >>> parse_version_spec("A", "v1").tag
        'v1'
        >>> parse_version_spec("A", "/root")
        Traceback (most recent call last):
        ...
        gitpet.VersionNotFoundError: no version '/root' of class 'A': it looks like a path: ...
    """
    if not isinstance(spec, str):
        raise VersionNotFoundError(name, repr(spec), f"a version is a str, not {type(spec).__name__}")
    text = spec.strip()
    if text == "@":
        return VersionSpec(back=0)
    if text.startswith("@~"):
        text = text[1:]
    if text.startswith(("/", "~/")):
        raise VersionNotFoundError(
            name,
            spec,
            "it looks like a path: the shell expands an unquoted ~ to a directory before gitpet sees "
            "it; write @~N for N versions back (or quote it: '~N')",
        )
    if text.startswith("~"):
        count = text[1:] or "1"
        if not count.isdigit():
            raise VersionNotFoundError(name, spec, "'~N' needs a whole number of versions back")
        return VersionSpec(back=int(count))
    if _looks_like_id(text.lower()):
        return VersionSpec(prefix=text.lower())
    try:
        _check_ref_component(text, "tag")
    except InvalidNameError as err:
        raise VersionNotFoundError(
            name, spec, f"not a version id ({MIN_PREFIX} to {FULL_ID} hex characters), a tag or '@~N'"
        ) from err
    return VersionSpec(tag=text)


def parse_snapshot_spec(pipeline: str, version: object) -> VersionSpec:
    """Parse a snapshot spec (an id or commit prefix, a tag, ``~N``) before anything is read."""
    try:
        return parse_version_spec(pipeline, version)
    except VersionNotFoundError as err:
        raise SnapshotNotFoundError(pipeline, str(version), err.detail) from err
