"""Reading git objects that are what their id says (pure functions over an object store).

dulwich's ``get_raw`` returns whatever bytes a loose file or pack holds; a
loose file replaced by other valid content comes back without complaint.
Everything gitpet reads therefore hashes the content again and turns every
way a read can fail into :class:`~gitpet.IntegrityError`:

* :func:`find_object` also parses the object and runs git's format checks;
* :func:`find_raw` (the load path) returns the checked bytes unparsed, and
  :func:`commit_tree` / :func:`tree_entries` parse just what loading needs.
  Parsing and checking a commit with dulwich was 80% of reading it; the
  full format checks still run in ``gitpet verify``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from typing import Any, NamedTuple, Protocol

from dulwich.errors import ApplyDeltaError, ChecksumMismatch, ObjectFormatException
from dulwich.objects import Commit, ObjectID, ShaFile, object_class

from gitpet.errors import IntegrityError

__all__ = [
    "READ_ERRORS",
    "RawReader",
    "TreeEntries",
    "CommitFields",
    "check_commit",
    "commit_fields",
    "commit_tree",
    "content_id",
    "find_object",
    "find_raw",
    "read_object",
    "read_raw",
    "tree_entries",
    "tree_links",
]

# What dulwich raises on a damaged loose file or pack (its pack reader
# reports some truncations with assert).
READ_ERRORS: tuple[type[Exception], ...] = (
    ChecksumMismatch,
    ApplyDeltaError,
    ObjectFormatException,
    zlib.error,
    struct.error,
    AssertionError,
    EOFError,
    OSError,
    ValueError,
    IndexError,
)


def content_id(type_name: bytes, raw: bytes) -> bytes:
    """The git object id of content ``raw`` of type ``type_name``.

    Examples:
        >>> content_id(b"blob", b"")
        b'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    digest = hashlib.sha1(b"%s %d\0" % (type_name, len(raw)))
    digest.update(raw)  # not header + raw: that copied the content on every read
    return digest.hexdigest().encode("ascii")


_TYPE_NAMES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
_HEX = frozenset(b"0123456789abcdef")


class RawReader(Protocol):
    """Anything with dulwich's ``get_raw``: an object store, or a store's raw object reader."""

    def get_raw(self, name: Any) -> tuple[int, bytes]:
        """``(type number, content)`` of object ``name``; KeyError if it is not stored."""


def find_raw(objects: RawReader, sha: bytes) -> tuple[bytes, bytes] | None:
    """``(type name, content)`` of object ``sha``, hashed again; None if the store does not have it.

    Raises:
        IntegrityError: it is stored but unreadable, or its content hashes to another id.
    """
    try:
        type_num, raw = objects.get_raw(ObjectID(sha))
    except KeyError:
        return None
    except READ_ERRORS as err:
        raise IntegrityError(_named(sha), f"object cannot be read: {type(err).__name__}: {err}") from err
    type_name = _TYPE_NAMES.get(type_num)
    if type_name is None:
        raise IntegrityError(_named(sha), f"object has unknown type {type_num}")
    actual = content_id(type_name, raw)
    if actual != sha:
        raise IntegrityError(_named(sha), f"content does not match its id (it hashes to {actual.decode()})")
    return type_name, raw


def _named(sha: bytes) -> str:
    return sha.decode("ascii", "replace")


def commit_tree(sha: bytes, raw: bytes) -> bytes:
    """The tree id a commit's content names (its first line, as git writes every commit).

    Examples:
        >>> commit_tree(b"c" * 40, b"tree " + b"a" * 40 + b"\\nauthor x <x> 0 +0000\\n")
        b'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
    """
    tree = raw[5:45]
    if not raw.startswith(b"tree ") or raw[45:46] != b"\n" or not _HEX.issuperset(tree) or len(tree) != 40:
        raise IntegrityError(
            sha.decode("ascii", "replace"), "malformed commit: it does not start with a tree"
        )
    return tree


class CommitFields(NamedTuple):
    """What walking and listing history need of a commit (named as dulwich's ``Commit`` names them)."""

    id: bytes
    tree: bytes
    parents: tuple[bytes, ...]
    commit_time: int
    """The committer time (seconds since the epoch)."""
    author: bytes
    """``Name <email>``, as the author line has it."""
    message: bytes


# What commit_fields reads, when the author line follows the parents and the committer line
# the author's (as git writes them): read with one pattern, the same fields as the general way
# (a name is what comes before the last two space-separated fields of its line). The first
# parent and the blank line before the message are groups of their own: a history's commits
# have one parent and no other header, and then nothing is left to search for.
_PLAIN_FIELDS = re.compile(
    rb"tree ([0-9a-f]{40})\n(?:parent ([0-9a-f]{40})\n)?((?:parent [0-9a-f]{40}\n)*)"
    rb"author ([^\n]*) -?[0-9]+ [^ \n]*\n"
    rb"committer [^\n]* (-?[0-9]+) [^ \n]*\n(\n)?"
)


def commit_fields(sha: bytes, raw: bytes) -> CommitFields:
    """The tree, parents, committer time, author and message of a commit's content.

    Read in the order git writes them. Parsing and checking a commit with
    dulwich costs ten times this, and a walk over thousands of commits needs
    only these; ``verify`` still applies every format check.

    Examples:
        >>> raw = b"tree " + b"a" * 40 + b"\\nparent " + b"b" * 40 + b"\\nauthor A <a@x> 5 +0000\\n"
        >>> fields = commit_fields(b"c" * 40, raw + b"committer C <c@x> 7 +0000\\n\\nmessage\\n")
        >>> fields.parents == (b"b" * 40,), fields.commit_time, fields.author, fields.message
        (True, 7, b'A <a@x>', b'message\\n')
    """
    plain = _PLAIN_FIELDS.match(raw)
    if plain is not None:  # tree, parents, author, committer, in that order: one pattern reads them
        if plain.group(6) is not None:
            message = raw[plain.end() :]
        else:  # other headers before the message (a signature), or no message
            header_end = raw.find(b"\n\n", plain.end() - 1)
            message = raw[header_end + 2 :] if header_end >= 0 else b""
        return _matched_fields(sha, plain, message)
    tree = commit_tree(sha, raw)
    parents = []
    position = 46
    while raw.startswith(b"parent ", position):
        parent = raw[position + 7 : position + 47]
        if raw[position + 47 : position + 48] != b"\n" or not _HEX.issuperset(parent) or len(parent) != 40:
            raise IntegrityError(sha.decode("ascii", "replace"), "malformed commit: a parent is not an id")
        parents.append(parent)
        position += 48
    header_end = raw.find(b"\n\n", position - 1)
    if header_end < 0:
        header_end = len(raw)
    header = raw[position - 1 : header_end]
    author = _person(sha, header, b"\nauthor ")[0]
    time = _person(sha, header, b"\ncommitter ")[1]
    return CommitFields(sha, tree, tuple(parents), time, author, raw[header_end + 2 :])


def _matched_fields(sha: bytes, plain: re.Match[bytes], message: bytes) -> CommitFields:
    """The fields a plain commit's pattern read.

    Its groups: the tree, the first parent, the other parents' lines, the author, the committer time.
    """
    tree, first, more, author, time = plain.group(1, 2, 3, 4, 5)
    if more:
        listed: tuple[bytes, ...] = (first, *(more[at + 7 : at + 47] for at in range(0, len(more), 48)))
    else:
        listed = () if first is None else (first,)
    return CommitFields(sha, tree, listed, int(time), author, message)


# A commit as git and gitpet write it without a signature: tree, parents, author,
# committer (each identity ``Name <email>``, a time, a zone), nothing else before
# the message. Everything it matches passes dulwich's checks (property-tested).
# Its groups are _PLAIN_FIELDS' first five: what it matches, it also reads.
_PLAIN_COMMIT = re.compile(
    rb"tree ([0-9a-f]{40})\n(?:parent ([0-9a-f]{40})\n)?((?:parent [0-9a-f]{40}\n)*)"
    rb"author ([^<>\n\0]* <[^<>\n\0]*>) \d{1,18} [+-]\d{4}\n"
    rb"committer [^<>\n\0]* <[^<>\n\0]*> (\d{1,18}) [+-]\d{4}\n(?:\n|\Z)"
)


def check_commit(sha: bytes, raw: bytes) -> CommitFields:
    """Like :func:`commit_fields`, after every format check ``verify`` applies to a commit.

    For content that has already been hashed (a fetched pack, indexed as it was
    read). A commit in the plain form git writes is checked by one pattern;
    any other (signed, with an encoding or other headers, odd times) goes
    through dulwich's parser and checks, as ``verify`` does.

    Raises:
        IntegrityError: the commit is malformed.
    """
    plain = _PLAIN_COMMIT.match(raw)
    if plain is not None:
        return _matched_fields(sha, plain, raw[plain.end() :])
    try:
        commit = Commit.from_raw_string(Commit.type_num, raw, ObjectID(sha))
        commit.check()
    except Exception as err:  # dulwich's parser raises IndexError and others on odd input
        raise IntegrityError(sha.decode("ascii", "replace"), f"malformed commit: {err}") from err
    return commit_fields(sha, raw)


def _person(sha: bytes, header: bytes, key: bytes) -> tuple[bytes, int]:
    """The ``Name <email>`` and time of the author or committer line ``key`` starts."""
    start = header.find(key)
    end = header.find(b"\n", start + 1)
    fields = header[start + len(key) : end if end >= 0 else len(header)].rsplit(b" ", 2)
    # A time before 1970 is negative: git writes it, dulwich reads it.
    if start < 0 or len(fields) != 3 or not fields[1].removeprefix(b"-").isdigit():
        what = key.strip().decode()
        raise IntegrityError(sha.decode("ascii", "replace"), f"malformed commit: no valid {what} line")
    return fields[0], int(fields[1])


TreeEntries = dict[bytes, tuple[int, bytes]]


def read_raw(objects: RawReader, sha: bytes, type_name: bytes, what: str) -> bytes:
    """Like :func:`find_raw`, for an object that must be there and be a ``type_name``."""
    found = find_raw(objects, sha)
    if found is None:
        raise IntegrityError(_named(sha), f"{what} is missing")
    if found[0] != type_name:
        raise IntegrityError(_named(sha), f"expected a {type_name.decode()}, found a {found[0].decode()}")
    return found[1]


# What git (and dulwich's Tree.check, which verify applies) accepts as a tree entry's mode.
_TREE_MODES = frozenset({0o100644, 0o100755, 0o100664, 0o120000, 0o040000, 0o160000})
_DIRECTORY = 0o040000
_BAD_NAMES = frozenset({b"", b".", b"..", b".git"})


def tree_links(sha: bytes, raw: bytes) -> TreeEntries:
    """Like :func:`tree_entries`, each id binary (20 bytes): for a walk of many trees.

    Examples:
        >>> tree_links(b"t" * 40, b"100644 a.py\\0" + bytes(20)) == {b"a.py": (0o100644, bytes(20))}
        True
    """
    return _checked_tree(sha, raw, hex_ids=False)


def tree_entries(sha: bytes, raw: bytes) -> TreeEntries:
    """name -> (mode, hex id) of each entry of a tree's content, checked by git's tree rules.

    The rules are those of ``verify`` (dulwich's ``Tree.check``, as ``git
    fsck``): no duplicate or unsorted entries, no ``/``, ``.``, ``..`` or
    ``.git`` names, known modes without a leading zero. A load must never
    read a tree ``git show`` would read differently (two ``class.pkl``
    entries: git shows the first).

    Examples:
        >>> tree_entries(b"t" * 40, b"100644 a.py\\0" + bytes(20))
        {b'a.py': (33188, b'0000000000000000000000000000000000000000')}
        >>> tree_entries(b"t" * 40, (b"100644 a.py\\0" + bytes(20)) * 2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gitpet.IntegrityError: store integrity: ttt...: malformed tree: duplicate entry b'a.py'
    """
    return _checked_tree(sha, raw, hex_ids=True)


# A tree of entries with valid modes and names (no "/", not empty), end to end: what git
# writes. Read with two patterns (the same entries as the parse below, which it must
# equal: property-tested); the order, duplicates and reserved names are checked after.
_MODE_TEXTS = {b"%o" % mode: mode for mode in _TREE_MODES}
_ANY_MODE = b"|".join(sorted(_MODE_TEXTS))
_WHOLE_TREE = re.compile(rb"(?:(?:%s) [^/\0]+\0.{20})*" % _ANY_MODE, re.DOTALL)
_TREE_ENTRY = re.compile(rb"(%s) ([^/\0]+)\0(.{20})" % _ANY_MODE, re.DOTALL)


def _plain_tree(raw: bytes, *, hex_ids: bool) -> TreeEntries | None:
    """The entries of a well-formed tree, read a third faster than entry by entry; None: anything else."""
    if _WHOLE_TREE.fullmatch(raw) is None:
        return None
    found = _TREE_ENTRY.findall(raw)
    modes = _MODE_TEXTS
    if hex_ids:
        entries = {name: (modes[mode], binary.hex().encode("ascii")) for mode, name, binary in found}
    else:
        entries = {name: (modes[mode], binary) for mode, name, binary in found}
    if len(entries) != len(found) or not _BAD_NAMES.isdisjoint(entries):
        return None
    # git sorts a directory as if its name ended with "/" (no directory: the names themselves).
    if b"40000 " in raw:
        keys = [name + b"/" if mode == b"40000" else name for mode, name, _ in found]
    else:
        keys = list(entries)
    return entries if keys == sorted(keys) else None


def _checked_tree(sha: bytes, raw: bytes, *, hex_ids: bool) -> TreeEntries:
    plain = _plain_tree(raw, hex_ids=hex_ids)
    if plain is not None:
        return plain
    entries: TreeEntries = {}
    position = 0
    last_key = b""
    try:
        while position < len(raw):
            space = raw.index(b" ", position)
            nul = raw.index(b"\0", space)
            end = nul + 21
            if end > len(raw) or space == position or nul == space + 1:
                raise ValueError("entry cut short")
            mode_text, name = raw[position:space], raw[space + 1 : nul]
            if mode_text.startswith(b"0"):
                raise ValueError(f"mode with a leading zero: {mode_text!r}")
            mode = int(mode_text, 8)
            if mode not in _TREE_MODES:
                raise ValueError(f"invalid mode {mode:06o}")
            if b"/" in name or name in _BAD_NAMES:
                raise ValueError(f"invalid name {name!r}")
            key = name + b"/" if mode == _DIRECTORY else name
            if key < last_key:
                raise ValueError("entries not sorted")
            if name in entries:
                raise ValueError(f"duplicate entry {name!r}")
            last_key = key
            entries[name] = (
                mode,
                raw[nul + 1 : end].hex().encode("ascii") if hex_ids else raw[nul + 1 : end],
            )
            position = end
    except ValueError as err:
        raise IntegrityError(sha.decode("ascii", "replace"), f"malformed tree: {err}") from err
    return entries


def find_object(objects: RawReader, sha: bytes) -> ShaFile | None:
    """The object ``sha``, checked; None if the store does not have it.

    Raises:
        IntegrityError: it is stored but unreadable, its content hashes to
            another id, or it is malformed.
    """
    found = find_raw(objects, sha)
    if found is None:
        return None
    type_name, raw = found
    cls = object_class(type_name)
    assert cls is not None  # find_raw knows every type it returns
    where = sha.decode("ascii", "replace")
    try:
        obj = cls.from_raw_string(cls.type_num, raw, ObjectID(sha))
        obj.check()
    except (ObjectFormatException, ValueError) as err:
        raise IntegrityError(where, f"malformed {cls.type_name.decode()}: {err}") from err
    return obj


def read_object(objects: RawReader, sha: bytes, what: str = "object") -> ShaFile:
    """Like :func:`find_object`, but a missing object is an :class:`IntegrityError` too."""
    obj = find_object(objects, sha)
    if obj is None:
        raise IntegrityError(sha.decode("ascii", "replace"), f"{what} is missing")
    return obj
