"""The ``gitpet`` command: a thin shell over the public API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from gitpet._errors import GitpetError
from gitpet._store import GitStore

__all__ = ["main"]


def _split_spec(spec: str) -> tuple[str, str | None]:
    name, _, version = spec.partition("@")
    return name, version or None


def _cmd_ls(store: GitStore, args: argparse.Namespace) -> int:
    rows = []
    for name in store.names():
        latest = store.versions(name)[0]
        rows.append({"name": name, "id": latest.id, "time": latest.time.isoformat()})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['name']}\t{row['id'][:12]}\t{row['time']}")
    return 0


def _cmd_log(store: GitStore, args: argparse.Namespace) -> int:
    history = store.versions(args.name)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": v.id,
                        "commit": v.commit,
                        "time": v.time.isoformat(),
                        "author": v.author,
                        "message": v.message,
                    }
                    for v in history
                ],
                indent=2,
            )
        )
    else:
        for v in history:
            print(f"{v.id[:12]}  {v.commit[:12]}  {v.time.isoformat()}  {v.message.strip()}")
    return 0


def _cmd_show(store: GitStore, args: argparse.Namespace) -> int:
    name, version = _split_spec(args.spec)
    stored = store.read_version(name, version)  # reads files only: nothing is unpickled
    if args.json:
        print(
            json.dumps(
                {
                    "id": stored.id,
                    "meta": stored.meta,
                    "source": stored.files.source.decode("utf-8", "replace"),
                },
                indent=2,
            )
        )
    else:
        print(f"# version {stored.id}")
        print(stored.files.meta.decode("utf-8", "replace"))
        print(stored.files.source.decode("utf-8", "replace"), end="")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gitpet", description="Versions of Python classes in git.")
    parser.add_argument("--store", help="store path (default: $GITPET_STORE or ./.gitpet)")
    commands = parser.add_subparsers(dest="command", required=True)
    ls = commands.add_parser("ls", help="classes with their latest version")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=_cmd_ls)
    log = commands.add_parser("log", help="version history of a class, newest first")
    log.add_argument("name")
    log.add_argument("--json", action="store_true")
    log.set_defaults(run=_cmd_log)
    show = commands.add_parser("show", help="source and meta of NAME[@VERSION] (never unpickles)")
    show.add_argument("spec", metavar="NAME[@VERSION]")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_cmd_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(GitStore(args.store), args))
    except GitpetError as err:
        print(f"gitpet: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
