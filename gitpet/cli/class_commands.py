"""The commands on classes, remotes and the store: one function per command, on the public API."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitpet import (
    GitpetError,
    GitStore,
    PetClassManager,
    RemoteError,
    RemoteRejectedError,
    StoredVersion,
    SyncReport,
    human_size,
)
from gitpet.cli.output import print_history, print_json, print_mapping, print_report, print_rows

VERSION_HELP = (
    "an id or commit, a unique prefix (7+ hex), a tag, or @~N (N versions back; unquoted ~N is "
    "expanded by the shell)"
)


def split_spec(spec: str) -> tuple[str, str | None]:
    """``NAME[@VERSION]`` as ``(NAME, VERSION or None)``."""
    # Tags cannot contain '@', so the last '@' separates the class from the version.
    name, at, version = spec.rpartition("@")
    if not at:
        return spec, None
    return name, version or None


def cmd_init(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet init``."""
    created = store.init()
    print(f"{'initialized empty' if created else 'existing'} gitpet store in {store.path}")
    return 0


def cmd_ls(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet ls``."""
    rows: list[dict[str, Any]] = []
    for name in store.names():
        latest = store.versions(name, limit=1)[0]
        row: dict[str, Any] = {"name": name, "id": latest.id, "time": latest.time.isoformat()}
        if args.long:
            row["bytes"] = version_bytes(store.read_version(name, latest.id))
        rows.append(row)
    if args.long:
        print_rows(rows, args.json, lambda row: human_size(row["bytes"]), ("NAME", "LATEST", "DATE", "SIZE"))
    else:
        print_rows(rows, args.json)
    return 0


def version_bytes(stored: StoredVersion) -> int:
    """What a version's files hold, in bytes (before git compresses them)."""
    return sum(len(content) for content in stored.files.by_name().values())


def cmd_log(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet log``."""
    print_history(store.versions(args.name), store.tags(args.name), args.json)
    return 0


def _read(store: GitStore, spec: str) -> StoredVersion:
    name, version = split_spec(spec)
    return store.read_version(name, version)  # reads files only: nothing is unpickled


def _pickle_imports(stored: StoredVersion) -> list[str]:
    """What ``class.pkl`` would import when loaded, read from its opcodes (nothing runs)."""
    try:
        return stored.pickle_imports()
    except ValueError as err:
        return [f"<class.pkl is not a well-formed pickle: {err}>"]


def cmd_show(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet show``."""
    stored = _read(store, args.spec)
    # source.py is for people; class.pkl is what runs. A reviewer sees what the pickle imports
    # too, what the class uses from its module (captured.py), and whether that text is all of it.
    imports = _pickle_imports(stored)
    captured = stored.files.captured.decode("utf-8", "replace")
    complete = stored.meta.get("source_complete")
    requires = store.requirements(stored.name, stored.id)
    if args.json:
        print_json(
            {
                "id": stored.id,
                "meta": stored.meta,
                "source": stored.files.source.decode("utf-8", "replace"),
                "captured": captured,
                "data": {f"data/{name}": len(content) for name, content in stored.files.data},
                "bytes": {name: len(content) for name, content in stored.files.by_name().items()},
                "pickle_imports": imports,
                "requires": [vars(r) for r in requires],
            }
        )
    else:
        print(f"# version {stored.id}")
        sizes = ", ".join(f"{name} {human_size(len(data))}" for name, data in stored.files.by_name().items())
        print(f"# {human_size(version_bytes(stored))}: {sizes}")
        print(stored.files.meta.decode("utf-8", "replace"))
        if complete is True:
            print("# source-complete: captured.py then source.py build exactly the class class.pkl holds")
        elif complete is False:
            print(f"# not source-complete: {stored.meta.get('source_problem', 'no reason recorded')}")
        if captured:
            print("# captured.py")
            print(captured, end="" if captured.endswith("\n") else "\n")
            for name, content in stored.files.data:
                print(f"# data/{name}: {len(content)} bytes (git show {stored.id[:12]}:data/{name})")
            print("# source.py")
        print(stored.files.source.decode("utf-8", "replace"), end="")
        print("# class.pkl imports (read from its opcodes, not run):")
        for name in imports:
            print(f"#   {name}")
        if requires:
            print("# pushed with (recorded in its commit):")
            for requirement in requires:
                print(f"#   {requirement.distribution} {requirement.version} (import {requirement.module})")
    return 0


def cmd_diff(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet diff``."""
    old = store.read_version(args.name, args.a)
    new = store.read_version(args.name, args.b)
    # Every stored file, as git diff shows a tree: two different versions never print nothing.
    sys.stdout.write(old.diff(new))
    return 0


def cmd_checkout(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet checkout``."""
    stored = _read(store, args.spec)
    target = Path(args.dir)
    files = stored.files.by_name()
    if target.exists() and not target.is_dir():
        raise GitpetError(f"{target} exists and is not a directory")
    # Check everything before writing anything: a refused checkout changes nothing.
    clashes = [n for n, data in files.items() if (target / n).exists() and (target / n).read_bytes() != data]
    if clashes and not args.force:
        raise GitpetError(f"{target} already has a different {', '.join(clashes)}; use --force to overwrite")
    target.mkdir(parents=True, exist_ok=True)
    for filename, data in files.items():
        (target / filename).parent.mkdir(exist_ok=True)  # data/
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


def cmd_tag(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet tag``."""
    if args.delete:
        if args.tag is None or args.version is not None:
            raise GitpetError("tag --delete takes a class and one tag: gitpet tag --delete NAME TAG")
        version_id = store.delete_tag(args.name, args.tag)
        print(f"deleted tag {args.name}@{args.tag} (was {version_id[:12]})")
        return 0
    if args.tag is None:
        print_mapping(store.tags(args.name), args.json, shown_chars=12)
        return 0
    version_id = store.tag(args.name, args.tag, args.version, force=args.force)
    print(f"{args.name}@{args.tag} -> {version_id}")
    return 0


def cmd_rollback(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet rollback``."""
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
        report = run(
            remote,
            args.names,
            pipelines=args.pipelines,
            force_tags=args.force_tags,
            progress=args.progress,
            **extra,
        )
    except RemoteRejectedError as err:
        if isinstance(err.report, SyncReport):
            print_report(err.report, args.json)
        raise
    print_report(report, args.json)
    return 0


def cmd_push(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet push``."""
    return _run_sync(store, args, store.push, allow_unvouched=args.allow_unvouched, retry_for=args.retry_for)


def cmd_fetch(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet fetch``."""
    return _run_sync(store, args, store.fetch, accept_rollbacks=args.accept_rollbacks)


def cmd_remote(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet remote``."""
    if args.action == "add":
        existing = store.remotes().get(args.remote_name)
        if existing is not None:
            raise GitpetError(
                f"remote {args.remote_name!r} already exists ({existing}); remove it first "
                f"(gitpet remote remove {args.remote_name}), or mark it with gitpet remote trust/untrust"
            )
        store.add_remote(args.remote_name, args.url, trusted=args.trusted)
        return 0
    if args.action == "remove":
        store.remove_remote(args.remote_name)
        return 0
    if args.action in ("trust", "untrust"):
        store.trust_remote(args.remote_name, args.action == "trust")
        if args.action == "trust":
            print(f"{args.remote_name} is trusted: what was fetched from it, and is, loads without review")
        else:
            print(f"{args.remote_name} is not trusted: what is fetched from it from now on needs review")
        return 0
    remotes = {name: (url, store.is_trusted_remote(name)) for name, url in store.remotes().items()}
    if args.json:
        print_json({name: {"url": url, "trusted": trusted} for name, (url, trusted) in remotes.items()})
        return 0
    if remotes:
        print("NAME\tURL\tTRUSTED")
    for name, (url, trusted) in remotes.items():
        print(f"{name}\t{url}\t{'yes' if trusted else 'no'}")
    return 0


def cmd_trust(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet trust``."""
    # Through the manager: a version whose class.pkl is not what its text builds is refused.
    for version_id in PetClassManager(store).vouch(args.name, args.version):
        print(f"trusted {args.name}@{version_id}")
    return 0


def cmd_untrust(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet untrust``."""
    for version_id in store.untrust(args.name, args.version):
        print(f"untrusted {args.name}@{version_id}")
    return 0


def cmd_verify(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet verify``."""
    report = store.verify()
    # --sources: build every vouched-for, source-complete version from its text (nothing unpickled).
    mismatched = PetClassManager(store).verify_sources() if args.sources else []
    if args.json:
        print_json(
            {
                "ok": report.ok,
                "refs": report.refs,
                "commits": report.commits,
                "versions": report.versions,
                "objects": report.objects,
                "packs": report.packs,
                "problems": [
                    {"ref": p.ref, "object": p.object, "detail": p.detail}
                    for p in (*report.problems, *mismatched)
                ],
                "leftovers": list(report.leftovers),
            }
        )
    else:
        for problem in (*report.problems, *mismatched):
            print(f"problem: {problem}")
        for leftover in report.leftovers:
            print(f"leftover: {leftover} (from an interrupted write; gitpet gc removes it once stale)")
        print(report.summary())
        if args.sources:
            print(f"sources: {len(mismatched)} version(s) whose class.pkl is not what their text builds")
    return 0 if report.ok and not mismatched else 1


def cmd_gc(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet gc``."""
    report = store.gc(prune_older_than=args.prune_older_than, progress=args.progress)
    if args.json:
        print_json(
            {
                "before": vars(report.before),
                "after": vars(report.after),
                "reachable": report.reachable,
                "loose_packed": report.loose_packed,
                "packs_removed": report.packs_removed,
                "pruned": report.pruned,
                "kept_young": report.kept_young,
                "leftovers_removed": list(report.leftovers_removed),
                "repacked": report.repacked,
            }
        )
    else:
        for leftover in report.leftovers_removed:
            print(f"removed leftover {leftover}")
        print(report.summary())
    return 0
