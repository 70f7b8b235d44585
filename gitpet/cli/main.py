"""The ``gitpet`` command: a thin shell over the public API.

Every command takes ``--store PATH`` (default ``$GITPET_STORE``, else
``./.gitpet``), exits 0 on success and 1 with a one-line ``gitpet: error:``
message otherwise (2 for a usage error). A VERSION is a version id, a unique
prefix of 7+ hex characters, a tag, or ``~N`` (N versions before the latest).
Nothing here unpickles a class: reading is safe on untrusted stores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, TextIO

from gitpet.codec.pickle_refs import pickle_globals
from gitpet.errors import GitpetError, RemoteError, RemoteRejectedError
from gitpet.format.version_files import CLASS_PICKLE, META, SOURCE
from gitpet.gitstore import GitStore, StoredVersion
from gitpet.pipelines.textdiff import unified_diff
from gitpet.records import SyncReport, VersionInfo
from gitpet.sync.remote import DEFAULT_RETRY_FOR

__all__ = ["main"]

_VERSION_HELP = "an id, a unique prefix (7+ hex), a tag, or ~N (N versions back)"


def _split_spec(spec: str) -> tuple[str, str | None]:
    # Tags cannot contain '@', so the last '@' separates the class from the version.
    name, at, version = spec.rpartition("@")
    if not at:
        return spec, None
    return name, version or None


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _print_mapping(mapping: dict[str, str], as_json: bool, shown_chars: int | None = None) -> None:
    if as_json:
        _print_json(mapping)
    else:
        for key, value in mapping.items():
            print(f"{key}\t{value[:shown_chars]}")


def _cmd_init(store: GitStore, args: argparse.Namespace) -> int:
    created = store.init()
    print(f"{'initialized empty' if created else 'existing'} gitpet store in {store.path}")
    return 0


def _cmd_ls(store: GitStore, args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for name in store.names():
        latest = store.versions(name, limit=1)[0]
        rows.append({"name": name, "id": latest.id, "time": latest.time.isoformat()})
    _print_rows(rows, args.json)
    return 0


def _print_rows(
    rows: list[dict[str, Any]], as_json: bool, extra: Callable[[dict[str, Any]], str] | None = None
) -> None:
    """Listing rows (``name``, ``id``, ``time``, ...) as JSON, or one tab-separated line each."""
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        line = f"{row['name']}\t{row['id'][:12]}\t{row['time']}"
        print(line + (f"\t{extra(row)}" if extra is not None else ""))


def _cmd_log(store: GitStore, args: argparse.Namespace) -> int:
    _print_history(store.versions(args.name), store.tags(args.name), args.json)
    return 0


def _print_history(entries: Sequence[VersionInfo], tags: Mapping[str, str], as_json: bool) -> None:
    """A class's versions or a pipeline's snapshots, newest first, each with its tags."""
    tags_by_id: dict[str, list[str]] = {}
    for tag, target in tags.items():
        tags_by_id.setdefault(target, []).append(tag)
    if as_json:
        _print_json(
            [
                {
                    "id": e.id,
                    "commit": e.commit,
                    "time": e.time.isoformat(),
                    "author": e.author,
                    "message": e.message,
                    "tags": tags_by_id.get(e.id, []),
                }
                for e in entries
            ]
        )
        return
    for e in entries:
        found = tags_by_id.get(e.id)
        decoration = f" ({', '.join(found)})" if found else ""
        subject = e.message.strip().split("\n", 1)[0]
        print(f"{e.id[:12]}  {e.commit[:12]}  {e.time.isoformat()}  {subject}{decoration}")


def _read(store: GitStore, spec: str) -> StoredVersion:
    name, version = _split_spec(spec)
    return store.read_version(name, version)  # reads files only: nothing is unpickled


def _pickle_imports(stored: StoredVersion) -> list[str]:
    """What ``class.pkl`` would import when loaded, read from its opcodes (nothing runs)."""
    try:
        return pickle_globals(stored.files.pickle)
    except ValueError as err:
        return [f"<class.pkl is not a well-formed pickle: {err}>"]


def _cmd_show(store: GitStore, args: argparse.Namespace) -> int:
    stored = _read(store, args.spec)
    # source.py is for people; class.pkl is what runs. A reviewer sees what the pickle imports too.
    imports = _pickle_imports(stored)
    if args.json:
        _print_json(
            {
                "id": stored.id,
                "meta": stored.meta,
                "source": stored.files.source.decode("utf-8", "replace"),
                "pickle_imports": imports,
            }
        )
    else:
        print(f"# version {stored.id}")
        print(stored.files.meta.decode("utf-8", "replace"))
        print(stored.files.source.decode("utf-8", "replace"), end="")
        print("# class.pkl imports (read from its opcodes, not run):")
        for name in imports:
            print(f"#   {name}")
    return 0


def _cmd_diff(store: GitStore, args: argparse.Namespace) -> int:
    old = store.read_version(args.name, args.a)
    new = store.read_version(args.name, args.b)
    a, b = f"a/{args.name}@{old.id[:12]}", f"b/{args.name}@{new.id[:12]}"
    # Every stored file, as git diff shows a tree: two different versions never print nothing.
    sys.stdout.write(unified_diff(old.files.source, new.files.source, f"{a}/source.py", f"{b}/source.py"))
    sys.stdout.write(unified_diff(old.files.meta, new.files.meta, f"{a}/meta.json", f"{b}/meta.json"))
    if old.files.pickle != new.files.pickle:
        print(f"Binary files {a}/class.pkl and {b}/class.pkl differ")
    return 0


def _cmd_checkout(store: GitStore, args: argparse.Namespace) -> int:
    stored = _read(store, args.spec)
    target = Path(args.dir)
    files = {
        SOURCE.decode(): stored.files.source,
        CLASS_PICKLE.decode(): stored.files.pickle,
        META.decode(): stored.files.meta,
    }
    if target.exists() and not target.is_dir():
        raise GitpetError(f"{target} exists and is not a directory")
    # Check everything before writing anything: a refused checkout changes nothing.
    clashes = [n for n, data in files.items() if (target / n).exists() and (target / n).read_bytes() != data]
    if clashes and not args.force:
        raise GitpetError(f"{target} already has a different {', '.join(clashes)}; use --force to overwrite")
    target.mkdir(parents=True, exist_ok=True)
    for filename, data in files.items():
        _write_atomically(target / filename, data)
    print(f"wrote version {stored.id} of {stored.name} to {target}")
    return 0


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _cmd_tag(store: GitStore, args: argparse.Namespace) -> int:
    if args.tag is None:
        _print_mapping(store.tags(args.name), args.json, shown_chars=12)
        return 0
    version_id = store.tag(args.name, args.tag, args.version, force=args.force)
    print(f"{args.name}@{args.tag} -> {version_id}")
    return 0


def _cmd_rollback(store: GitStore, args: argparse.Namespace) -> int:
    result = store.rollback(args.name, args.version)
    if result.created:
        print(f"{args.name}: latest is version {result.id} again (commit {result.commit[:12]})")
    else:
        print(f"{args.name}: version {result.id} already is the latest")
    return 0


def _default_remote(store: GitStore, given: str | None) -> str:
    if given is not None:
        return given
    remotes = store.remotes()
    if "origin" in remotes:
        return "origin"
    if len(remotes) == 1:
        return next(iter(remotes))
    if not remotes:
        raise RemoteError("(none)", "no remote given and none configured; run: gitpet remote add origin URL")
    raise RemoteError("(none)", f"several remotes configured ({', '.join(remotes)}); name one")


def _run_sync(
    store: GitStore, args: argparse.Namespace, run: Callable[..., SyncReport], **extra: bool | float
) -> int:
    remote = _default_remote(store, args.remote)
    try:
        report = run(remote, args.names, pipelines=args.pipelines, force_tags=args.force_tags, **extra)
    except RemoteRejectedError as err:
        if isinstance(err.report, SyncReport):
            _print_report(err.report, args.json)
        raise
    _print_report(report, args.json)
    return 0


def _print_report(report: SyncReport, as_json: bool) -> None:
    if as_json:
        _print_json(
            {
                "remote": report.remote,
                "direction": report.direction,
                "attempts": report.attempts,
                "updates": [
                    {"ref": u.ref, "status": u.status, "old": u.old, "new": u.new, "detail": u.detail}
                    for u in report.updates
                ],
            }
        )
    else:
        print(report)


def _cmd_push(store: GitStore, args: argparse.Namespace) -> int:
    return _run_sync(store, args, store.push, allow_unvouched=args.allow_unvouched, retry_for=args.retry_for)


def _cmd_fetch(store: GitStore, args: argparse.Namespace) -> int:
    return _run_sync(store, args, store.fetch, accept_rollbacks=args.accept_rollbacks)


def _cmd_remote(store: GitStore, args: argparse.Namespace) -> int:
    if args.action == "add":
        store.add_remote(args.remote_name, args.url, trusted=args.trusted)
        return 0
    if args.action == "remove":
        store.remove_remote(args.remote_name)
        return 0
    _print_mapping(store.remotes(), args.json)
    return 0


def _cmd_trust(store: GitStore, args: argparse.Namespace) -> int:
    for version_id in store.trust(args.name, args.version):
        print(f"trusted {args.name}@{version_id}")
    return 0


def _cmd_verify(store: GitStore, args: argparse.Namespace) -> int:
    report = store.verify()
    if args.json:
        _print_json(
            {
                "ok": report.ok,
                "refs": report.refs,
                "commits": report.commits,
                "versions": report.versions,
                "objects": report.objects,
                "packs": report.packs,
                "problems": [{"ref": p.ref, "object": p.object, "detail": p.detail} for p in report.problems],
                "leftovers": list(report.leftovers),
            }
        )
    else:
        for problem in report.problems:
            print(f"problem: {problem}")
        for leftover in report.leftovers:
            print(f"leftover: {leftover} (from an interrupted write; gitpet gc removes it once stale)")
        print(report.summary())
    return 0 if report.ok else 1


def _cmd_gc(store: GitStore, args: argparse.Namespace) -> int:
    report = store.gc(prune_older_than=args.prune_older_than)
    if args.json:
        _print_json(
            {
                "before": vars(report.before),
                "after": vars(report.after),
                "reachable": report.reachable,
                "loose_packed": report.loose_packed,
                "packs_removed": report.packs_removed,
                "pruned": report.pruned,
                "kept_young": report.kept_young,
                "leftovers_removed": list(report.leftovers_removed),
            }
        )
    else:
        for leftover in report.leftovers_removed:
            print(f"removed leftover {leftover}")
        print(report.summary())
    return 0


def _short(ids: Sequence[str]) -> str:
    return ", ".join(vid[:12] for vid in ids) or "-"


def _cmd_pipelines(store: GitStore, args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for name in store.pipelines():
        history = store.pipeline(name).snapshots()
        newest = history[0]
        rows.append(
            {"name": name, "id": newest.id, "time": newest.time.isoformat(), "snapshots": len(history)}
        )
    _print_rows(rows, args.json, lambda row: f"{row['snapshots']} snapshot(s)")
    return 0


def _cmd_pipeline_log(store: GitStore, args: argparse.Namespace) -> int:
    history = store.pipeline(args.name)
    _print_history(history.snapshots(), history.tags(), args.json)
    return 0


def _cmd_pipeline_show(store: GitStore, args: argparse.Namespace) -> int:
    name, version = _split_spec(args.spec)
    snapshot = store.pipeline(name).read(version)
    if args.json:
        _print_json(
            {
                "id": snapshot.id,
                "commit": snapshot.info.commit,
                "time": snapshot.info.time.isoformat(),
                "message": snapshot.info.message,
                "pins": [{"class": p.name, "id": p.id, "entry": p.entry} for p in snapshot.pins],
                "dump": snapshot.dump,
            }
        )
    else:
        print(f"# snapshot {snapshot.id} of pipeline {name} (commit {snapshot.info.commit[:12]})")
        for pin in snapshot.pins:
            print(f"# classes/{pin.entry} -> {pin.id}")
        print(json.dumps(snapshot.dump, indent=2, sort_keys=True))
    return 0


def _cmd_pipeline_diff(store: GitStore, args: argparse.Namespace) -> int:
    diff = store.pipeline(args.name).diff(args.a, args.b)
    if args.json:
        _print_json(
            {
                "old": diff.old.id,
                "new": diff.new.id,
                "changes": [
                    {"class": c.name, "old": list(c.old), "new": list(c.new), "source_diff": c.source_diff}
                    for c in diff.changes
                ],
                "dump_diff": diff.dump_diff,
            }
        )
        return 0
    print(f"pipeline {args.name}: snapshot {diff.old.id[:12]} -> {diff.new.id[:12]}")
    if diff.same:
        print("no changes")
    for change in diff.changes:
        print(f"class {change.name}: {_short(change.old)} -> {_short(change.new)}")
    for change in diff.changes:
        sys.stdout.write(change.source_diff)
    sys.stdout.write(diff.dump_diff)
    return 0


def _cmd_pipeline_status(store: GitStore, args: argparse.Namespace) -> int:
    status = store.pipeline(args.name).status(args.version)
    if args.json:
        _print_json(
            {
                "snapshot": status.snapshot.id,
                "up_to_date": status.up_to_date,
                "classes": [
                    {
                        "class": c.name,
                        "pinned": list(c.pinned),
                        "latest": c.latest,
                        "newer": c.newer,
                        "behind": c.behind,
                        "saved_with_latest": [str(ref) for ref in c.saved_with_latest],
                    }
                    for c in status.classes
                ],
                "all_latest_saved_in": [str(ref) for ref in status.all_latest_saved_in],
            }
        )
        return 0
    print(f"pipeline {args.name}: snapshot {status.snapshot.id[:12]} ({status.snapshot.time.isoformat()})")
    for c in status.classes:
        if c.latest is None:
            state = "no class ref in this store (only snapshots pin it)"
        elif not c.newer:
            state = "latest"
        else:
            behind = f"{c.behind} version(s) behind" if c.behind is not None else "not in its history"
            saved = ", ".join(map(str, c.saved_with_latest))
            combo = f"saved with the latest in {saved}" if saved else "never saved with the latest"
            state = f"newer {c.latest[:12]}, {behind}; {combo}"
        print(f"  {c.name}\t{_short(c.pinned)}\t{state}")
    if status.up_to_date:
        print("every pinned class is at its latest version")
    else:
        saved = ", ".join(map(str, status.all_latest_saved_in))
        print(f"all latest together: {'saved in ' + saved if saved else 'never saved'}")
    return 0


def _cmd_pipeline_tag(store: GitStore, args: argparse.Namespace) -> int:
    history = store.pipeline(args.name)
    if args.tag is None:
        _print_mapping(history.tags(), args.json, shown_chars=12)
        return 0
    snapshot_id = history.tag(args.tag, args.version, force=args.force)
    print(f"{args.name}@{args.tag} -> {snapshot_id}")
    return 0


def _cmd_pipeline_trust(store: GitStore, args: argparse.Namespace) -> int:
    for version_id in store.pipeline(args.name).trust(args.version):
        print(f"trusted {version_id}")
    return 0


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def _add(
    commands: Any, name: str, run: Callable[[GitStore, argparse.Namespace], int], help: str, json_output: bool
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help)
    if json_output:
        parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)
    return parser


def _tag_arguments(parser: argparse.ArgumentParser, owner: str, target: str, version_help: str) -> None:
    parser.add_argument("name")
    parser.add_argument("tag", nargs="?", help=f"tag to create; omit to list the {owner}'s tags")
    parser.add_argument("version", nargs="?", metavar="VERSION", help=version_help)
    parser.add_argument("--force", action="store_true", help=f"move the tag if it names another {target}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitpet",
        description="Versions of Python classes in a plain bare git repository.",
        epilog=f"VERSION is {_VERSION_HELP}.",
    )
    parser.add_argument("--store", help="store path (default: $GITPET_STORE, else ./.gitpet)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add(commands, "init", _cmd_init, "create the store (a bare git repository)", False)
    _add(commands, "ls", _cmd_ls, "classes with their latest version and its date", True)

    log = _add(commands, "log", _cmd_log, "version history of a class, newest first, with tags", True)
    log.add_argument("name")

    show = _add(commands, "show", _cmd_show, "source and meta of a version (never unpickles)", True)
    show.add_argument("spec", metavar="NAME[@VERSION]")

    diff = _add(
        commands, "diff", _cmd_diff, "unified diff of source.py and meta.json between two versions", False
    )
    diff.add_argument("name")
    diff.add_argument("a", metavar="A", help=f"old version: {_VERSION_HELP}")
    diff.add_argument("b", metavar="B", nargs="?", help="new version (default: the latest)")

    checkout = _add(commands, "checkout", _cmd_checkout, "write a version's files into a directory", False)
    checkout.add_argument("spec", metavar="NAME[@VERSION]")
    checkout.add_argument("dir", metavar="DIR")
    checkout.add_argument("--force", action="store_true", help="overwrite different files already there")

    tag = _add(commands, "tag", _cmd_tag, "name a version (default: the latest), or list tags", True)
    _tag_arguments(tag, "class", "version", _VERSION_HELP)

    rollback = _add(
        commands,
        "rollback",
        _cmd_rollback,
        "make an older version the latest again (history keeps all)",
        False,
    )
    rollback.add_argument("name")
    rollback.add_argument("version", metavar="VERSION", help=_VERSION_HELP)

    for name, run, verb in (
        ("push", _cmd_push, "send versions to"),
        ("fetch", _cmd_fetch, "bring versions from"),
    ):
        sync = _add(commands, name, run, f"{verb} a remote; no version is ever lost", True)
        sync.add_argument("remote", nargs="?", metavar="REMOTE", help="name, URL or path (default: origin)")
        sync.add_argument("--name", dest="names", action="append", metavar="NAME", help="only this class")
        sync.add_argument(
            "--pipeline", dest="pipelines", action="append", metavar="NAME", help="only this pipeline"
        )
        sync.add_argument("--force-tags", action="store_true", help="move tags that name another version")
        if name == "push":
            sync.add_argument(
                "--allow-unvouched",
                action="store_true",
                help="also carry versions this machine does not vouch for (others may trust the remote)",
            )
            sync.add_argument(
                "--retry-for",
                type=_seconds,
                default=DEFAULT_RETRY_FOR,
                metavar="SECONDS",
                help="keep reconciling with others pushing at once for this long (default: 60)",
            )
        else:
            sync.add_argument(
                "--accept-rollbacks",
                action="store_true",
                help="let a remote that is not trusted make an older version the latest again",
            )

    trust = _add(
        commands, "trust", _cmd_trust, "vouch for a version after review (default: the whole history)", False
    )
    trust.add_argument("name")
    trust.add_argument("version", nargs="?", metavar="VERSION", help=_VERSION_HELP)

    _add(commands, "verify", _cmd_verify, "check every stored object and version (never unpickles)", True)

    gc = _add(
        commands, "gc", _cmd_gc, "pack objects, prune old unreachable ones (safe while others write)", True
    )
    gc.add_argument(
        "--prune-older-than",
        type=_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="prune unreachable objects only when older than this (default: 3600)",
    )

    _add(commands, "pipelines", _cmd_pipelines, "pipelines with their newest snapshot", True)
    _add_pipeline_commands(commands)

    remote = _add(commands, "remote", _cmd_remote, "list, add or remove configured remotes", True)
    actions = remote.add_subparsers(dest="action", metavar="ACTION")
    add = actions.add_parser("add", help="configure a remote", description="configure a remote")
    add.add_argument("remote_name", metavar="NAME")
    add.add_argument("url", metavar="URL")
    add.add_argument(
        "--trusted", action="store_true", help="versions fetched from it load without ceremony (it runs code)"
    )
    remove = actions.add_parser("remove", help="forget a remote", description="forget a remote")
    remove.add_argument("remote_name", metavar="NAME")
    remote.set_defaults(action="list")
    return parser


_SNAPSHOT_HELP = "a snapshot id or commit, a unique prefix (7+ hex), a tag, or ~N"


def _add_pipeline_commands(commands: Any) -> None:
    pipeline = commands.add_parser(
        "pipeline", help="snapshots of one pipeline", description="snapshots of one pipeline"
    )
    actions = pipeline.add_subparsers(dest="action", required=True, metavar="ACTION")
    log = _add(actions, "log", _cmd_pipeline_log, "snapshots of a pipeline, newest first", True)
    log.add_argument("name")
    show = _add(actions, "show", _cmd_pipeline_show, "a snapshot's pinned versions and dump", True)
    show.add_argument("spec", metavar="NAME[@VERSION]")
    diff = _add(
        actions, "diff", _cmd_pipeline_diff, "classes whose pinned version changed, with source diffs", True
    )
    diff.add_argument("name")
    diff.add_argument("a", metavar="A", help=f"old snapshot: {_SNAPSHOT_HELP}")
    diff.add_argument("b", metavar="B", nargs="?", help="new snapshot (default: the newest)")
    status = _add(
        actions,
        "status",
        _cmd_pipeline_status,
        "pinned classes against their latest versions, and which combinations were saved",
        True,
    )
    status.add_argument("name")
    status.add_argument("version", nargs="?", metavar="VERSION", help=_SNAPSHOT_HELP)
    tag = _add(actions, "tag", _cmd_pipeline_tag, "name a snapshot (default: the newest), or list tags", True)
    _tag_arguments(tag, "pipeline", "snapshot", _SNAPSHOT_HELP)
    trust = _add(
        actions,
        "trust",
        _cmd_pipeline_trust,
        "vouch for the versions a snapshot pins after review (default: every snapshot)",
        False,
    )
    trust.add_argument("name")
    trust.add_argument("version", nargs="?", metavar="VERSION", help=_SNAPSHOT_HELP)


def command_names() -> list[str]:
    """Every subcommand, as the parser knows them (for help and tests)."""
    subparsers = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(subparsers.choices)


# What a terminal acts on instead of showing: C0 and C1 controls other than tab and newline
# (escape sequences, carriage return, backspace) and the bidirectional overrides that reorder
# a line on screen. Stored text is a remote's text: a reviewer must see every character of it.
_HIDING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    r"""``text`` with every character that could hide or rewrite what is shown written as an escape.

    Examples:
        >>> terminal_safe("ok = 1\x1b[2K\rok = 2\n")
        'ok = 1\\x1b[2K\\rok = 2\n'
        >>> terminal_safe("if admin:\u202e  # comment")
        'if admin:\\u202e  # comment'
    """
    return _HIDING.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class _TerminalSafe:
    """A text stream that writes through :func:`terminal_safe` (anything else: the stream's own).

    Not an ``io`` class: those close, and so flush, the wrapped stream when collected.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    out, err = _TerminalSafe(sys.stdout), _TerminalSafe(sys.stderr)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            return _main(argv)
    finally:
        out.flush()
        err.flush()


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(GitStore(args.store), args))
    except GitpetError as err:
        print(f"gitpet: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"gitpet: error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
