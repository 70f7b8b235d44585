"""The commands on pipeline snapshots (``gitpet pipelines``, ``gitpet pipeline ...``), on the public API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gitpet import GitStore
from gitpet.cli.class_commands import split_spec
from gitpet.cli.output import print_history, print_json, print_mapping, print_rows, short_ids


def cmd_pipelines(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet pipelines``."""
    rows: list[dict[str, Any]] = []
    for name in store.pipelines():
        history = store.pipeline(name).snapshots()
        newest = history[0]
        rows.append(
            {"name": name, "id": newest.id, "time": newest.time.isoformat(), "snapshots": len(history)}
        )
    print_rows(
        rows,
        args.json,
        lambda row: f"{row['snapshots']} snapshot(s)",
        headers=("PIPELINE", "NEWEST", "DATE", "SNAPSHOTS"),
    )
    return 0


def cmd_pipeline_log(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet pipeline log``."""
    history = store.pipeline(args.name)
    print_history(history.snapshots(), history.tags(), args.json, unit="SNAPSHOT")
    return 0


def cmd_pipeline_show(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet pipeline show``."""
    name, version = split_spec(args.spec)
    snapshot = store.pipeline(name).read(version)
    if args.json:
        print_json(
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


def cmd_pipeline_diff(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet pipeline diff``."""
    diff = store.pipeline(args.name).diff(args.a, args.b)
    if args.json:
        print_json(
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
        print(f"class {change.name}: {short_ids(change.old)} -> {short_ids(change.new)}")
    for change in diff.changes:
        sys.stdout.write(change.source_diff)
    sys.stdout.write(diff.dump_diff)
    return 0


def cmd_pipeline_status(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet pipeline status``."""
    status = store.pipeline(args.name).status(args.version)
    if args.json:
        print_json(
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
        print(f"  {c.name}\t{short_ids(c.pinned)}\t{state}")
    if status.up_to_date:
        print("every pinned class is at its latest version")
    else:
        saved = ", ".join(map(str, status.all_latest_saved_in))
        print(f"all latest together: {'saved in ' + saved if saved else 'never saved'}")
    return 0


def cmd_pipeline_tag(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet pipeline tag``."""
    history = store.pipeline(args.name)
    if args.tag is None:
        print_mapping(history.tags(), args.json, shown_chars=12)
        return 0
    snapshot_id = history.tag(args.tag, args.version, force=args.force)
    print(f"{args.name}@{args.tag} -> {snapshot_id}")
    return 0


def cmd_pipeline_trust(store: GitStore, args: argparse.Namespace) -> int:
    """Run ``gitpet pipeline trust``."""
    for version_id in store.pipeline(args.name).trust(args.version):
        print(f"trusted {version_id}")
    return 0
