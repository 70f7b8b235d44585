"""The ``gitpet`` command line: its commands, arguments and help."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from gitpet import GitStore, __version__
from gitpet.cli import class_commands as classes
from gitpet.cli import pipeline_commands as pipelines
from gitpet.cli.class_commands import VERSION_HELP

_DEFAULT_RETRY_FOR: float = inspect.signature(GitStore.push).parameters["retry_for"].default


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def _add(
    commands: Any, name: str, run: Callable[[GitStore, argparse.Namespace], int], help: str, json_output: bool
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help)
    _store_option(parser, argparse.SUPPRESS)
    if json_output:
        parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)
    return parser


def _store_option(parser: argparse.ArgumentParser, default: str | None) -> None:
    # Before or after the command alike: given after it (SUPPRESS: not given), it wins.
    parser.add_argument(
        "--store", default=default, help="store path (default: $GITPET_STORE, else ./.gitpet)"
    )


def _add_version_commands(commands: Any) -> None:
    """Commands that read or name the versions of one class."""
    _add(commands, "init", classes.cmd_init, "create the store (a bare git repository)", False)
    ls = _add(commands, "ls", classes.cmd_ls, "classes with their latest version and its date", True)
    ls.add_argument("--long", "-l", action="store_true", help="also the size of each latest version")

    log = _add(commands, "log", classes.cmd_log, "version history of a class, newest first, with tags", True)
    log.add_argument("name")

    show = _add(commands, "show", classes.cmd_show, "source and meta of a version (never unpickles)", True)
    show.add_argument("spec", metavar="NAME[@VERSION]")

    diff = _add(
        commands,
        "diff",
        classes.cmd_diff,
        "unified diff of source.py, captured.py and meta.json between two versions (binary: which differ)",
        False,
    )
    diff.add_argument("name")
    diff.add_argument("a", metavar="A", help=f"old version: {VERSION_HELP}")
    diff.add_argument("b", metavar="B", nargs="?", help="new version (default: the latest)")

    checkout = _add(
        commands, "checkout", classes.cmd_checkout, "write a version's files into a directory", False
    )
    checkout.add_argument("spec", metavar="NAME[@VERSION]")
    checkout.add_argument("dir", metavar="DIR")
    checkout.add_argument("--force", action="store_true", help="overwrite different files already there")

    tag = _add(
        commands, "tag", classes.cmd_tag, "name a version (default: the latest), list or delete tags", True
    )
    _tag_arguments(tag, "class", "version", VERSION_HELP)
    tag.add_argument("--delete", "-d", action="store_true", help="delete the tag (the version stays)")

    rollback = _add(
        commands,
        "rollback",
        classes.cmd_rollback,
        "make an older version the latest again (history keeps all)",
        False,
    )
    rollback.add_argument("name")
    rollback.add_argument("version", metavar="VERSION", help=VERSION_HELP)


def _add_no_progress(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="never show progress (default: on a terminal, once it takes more than a second)",
    )


def _add_sync_commands(commands: Any) -> None:
    """push and fetch."""
    for name, run, verb in (
        ("push", classes.cmd_push, "send versions to"),
        ("fetch", classes.cmd_fetch, "bring versions from"),
    ):
        sync = _add(commands, name, run, f"{verb} a remote; no version is ever lost", True)
        sync.add_argument("remote", nargs="?", metavar="REMOTE", help="name, URL or path (default: origin)")
        sync.add_argument("--name", dest="names", action="append", metavar="NAME", help="only this class")
        sync.add_argument(
            "--pipeline", dest="pipelines", action="append", metavar="NAME", help="only this pipeline"
        )
        sync.add_argument("--force-tags", action="store_true", help="move tags that name another version")
        _add_no_progress(sync)
        if name == "push":
            sync.add_argument(
                "--allow-unvouched",
                action="store_true",
                help="also carry versions this machine does not vouch for (others may trust the remote)",
            )
            sync.add_argument(
                "--retry-for",
                type=_seconds,
                default=_DEFAULT_RETRY_FOR,
                metavar="SECONDS",
                help="keep reconciling with others pushing at once for this long (default: 60)",
            )
        else:
            sync.add_argument(
                "--accept-rollbacks",
                action="store_true",
                help="let a remote that is not trusted make an older version the latest again",
            )


def _add_store_commands(commands: Any) -> None:
    """Commands on the store as a whole: trust, verify, gc and remotes."""
    trust = _add(
        commands,
        "trust",
        classes.cmd_trust,
        "vouch for a version after review (default: the whole history)",
        False,
    )
    trust.add_argument("name")
    trust.add_argument("version", nargs="?", metavar="VERSION", help=VERSION_HELP)

    untrust = _add(
        commands,
        "untrust",
        classes.cmd_untrust,
        "stop vouching for a version (default: the whole history); it then loads only as review allows",
        False,
    )
    untrust.add_argument("name")
    untrust.add_argument("version", nargs="?", metavar="VERSION", help=VERSION_HELP)

    verify = _add(
        commands,
        "verify",
        classes.cmd_verify,
        "check every stored object and version (never unpickles)",
        True,
    )
    verify.add_argument(
        "--sources",
        action="store_true",
        help="also build each vouched-for, source-complete version from its text and check that "
        "class.pkl is its pickle (runs that text; never unpickles)",
    )

    gc = _add(
        commands,
        "gc",
        classes.cmd_gc,
        "pack objects, prune old unreachable ones (safe while others write)",
        True,
    )
    gc.add_argument(
        "--prune-older-than",
        type=_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="prune unreachable objects only when older than this (default: 3600)",
    )
    _add_no_progress(gc)

    remote = _add(commands, "remote", classes.cmd_remote, "list, add or remove configured remotes", True)
    actions = remote.add_subparsers(dest="action", metavar="ACTION")
    add = actions.add_parser("add", help="configure a remote", description="configure a remote")
    add.add_argument("remote_name", metavar="NAME")
    add.add_argument("url", metavar="URL")
    add.add_argument(
        "--trusted", action="store_true", help="versions fetched from it load without ceremony (it runs code)"
    )
    remove = actions.add_parser("remove", help="forget a remote", description="forget a remote")
    remove.add_argument("remote_name", metavar="NAME")
    for action, what in (
        ("trust", "mark a remote trusted: what was and is fetched from it loads without review"),
        ("untrust", "mark a remote not trusted (what was vouched for stays; see gitpet untrust)"),
    ):
        marked = actions.add_parser(action, help=what, description=what)
        marked.add_argument("remote_name", metavar="NAME")
    for sub in actions.choices.values():
        _store_option(sub, argparse.SUPPRESS)
    remote.set_defaults(action="list")


def _tag_arguments(parser: argparse.ArgumentParser, owner: str, target: str, version_help: str) -> None:
    parser.add_argument("name")
    parser.add_argument("tag", nargs="?", help=f"tag to create; omit to list the {owner}'s tags")
    parser.add_argument("version", nargs="?", metavar="VERSION", help=version_help)
    parser.add_argument("--force", action="store_true", help=f"move the tag if it names another {target}")


def build_parser(names: list[str] | None = None, *, only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; ``names``, if given, receives the top-level command names.

    ``only``: the parser of that command alone, when it is one (the rest are not built:
    argparse looks up its translations for each of them, ~10 ms for all, which a command
    that prints a few lines would pay many times over); else of every command.
    """
    parser = argparse.ArgumentParser(
        prog="gitpet",
        description="Versions of Python classes in a plain bare git repository.",
        epilog=f"VERSION is {VERSION_HELP}.",
    )
    _store_option(parser, None)
    parser.add_argument("--version", action="version", version=f"gitpet {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = _Chosen(subparsers, None if names is not None else only)

    _add_version_commands(commands)
    _add_sync_commands(commands)
    _add_store_commands(commands)
    _add(commands, "pipelines", pipelines.cmd_pipelines, "pipelines with their newest snapshot", True)
    _add_pipeline_commands(commands)

    if only is not None and only not in subparsers.choices:  # not a command: the full parser says so
        return build_parser(names)
    if names is not None:
        names.extend(subparsers.choices)
    return parser


def chosen_command(argv: list[str]) -> str | None:
    """The command ``argv`` names before any other argument (after ``--store PATH``), if any.

    Examples:
        >>> chosen_command(["--store", "s.git", "log", "Model"]), chosen_command(["--help"])
        ('log', None)
    """
    given = iter(argv)
    for argument in given:
        if argument == "--store":
            next(given, None)
        elif not argument.startswith("--store="):
            return None if argument.startswith("-") else argument
    return None


class _Chosen:
    """The subparsers of the top-level parser, adding only the chosen command (None: every one)."""

    def __init__(self, subparsers: Any, chosen: str | None) -> None:
        self._subparsers = subparsers
        self._chosen = chosen

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if self._chosen is None or name == self._chosen:
            return self._subparsers.add_parser(name, **kwargs)
        return _Unbuilt()


class _Unbuilt:
    """Stands for the parser of a command not chosen: whatever is added to it is not built."""

    choices: Mapping[str, Any] = MappingProxyType({})

    def __getattr__(self, name: str) -> Callable[..., _Unbuilt]:
        return self._nothing

    def _nothing(self, *args: Any, **kwargs: Any) -> _Unbuilt:
        return self


SNAPSHOT_HELP = "a snapshot id or commit, a unique prefix (7+ hex), a tag, or @~N"


def _add_pipeline_commands(commands: Any) -> None:
    pipeline = commands.add_parser(
        "pipeline", help="snapshots of one pipeline", description="snapshots of one pipeline"
    )
    _store_option(pipeline, argparse.SUPPRESS)
    actions = pipeline.add_subparsers(dest="action", required=True, metavar="ACTION")
    log = _add(actions, "log", pipelines.cmd_pipeline_log, "snapshots of a pipeline, newest first", True)
    log.add_argument("name")
    show = _add(actions, "show", pipelines.cmd_pipeline_show, "a snapshot's pinned versions and dump", True)
    show.add_argument("spec", metavar="NAME[@VERSION]")
    diff = _add(
        actions,
        "diff",
        pipelines.cmd_pipeline_diff,
        "classes whose pinned version changed, with source diffs",
        True,
    )
    diff.add_argument("name")
    diff.add_argument("a", metavar="A", help=f"old snapshot: {SNAPSHOT_HELP}")
    diff.add_argument("b", metavar="B", nargs="?", help="new snapshot (default: the newest)")
    status = _add(
        actions,
        "status",
        pipelines.cmd_pipeline_status,
        "pinned classes against their latest versions, and which combinations were saved",
        True,
    )
    status.add_argument("name")
    status.add_argument("version", nargs="?", metavar="VERSION", help=SNAPSHOT_HELP)
    tag = _add(
        actions,
        "tag",
        pipelines.cmd_pipeline_tag,
        "name a snapshot (default: the newest), or list tags",
        True,
    )
    _tag_arguments(tag, "pipeline", "snapshot", SNAPSHOT_HELP)
    trust = _add(
        actions,
        "trust",
        pipelines.cmd_pipeline_trust,
        "vouch for the versions a snapshot pins after review (default: every snapshot)",
        False,
    )
    trust.add_argument("name")
    trust.add_argument("version", nargs="?", metavar="VERSION", help=SNAPSHOT_HELP)


def command_names() -> list[str]:
    """Every subcommand, as the parser knows them (for help and tests)."""
    commands: list[str] = []
    build_parser(commands)
    return sorted(commands)
