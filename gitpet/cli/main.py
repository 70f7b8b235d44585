"""The ``gitpet`` command: a thin shell over the public API.

Every command takes ``--store PATH`` (default ``$GITPET_STORE``, else
``./.gitpet``), exits 0 on success and 1 with a one-line ``gitpet: error:``
message otherwise (2 for a usage error). A VERSION is a version id or a commit
of the class's history, a unique prefix of 7+ hex characters of either, a tag,
or ``@~N`` (N versions before the latest; ``~N`` too, quoted, since a shell
expands a leading ``~``). ``gitpet`` alone prints the help.
Nothing here unpickles a class: reading is safe on untrusted stores.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout

from gitpet import ClassNotFoundError, GitpetError, GitStore
from gitpet.cli.output import TerminalSafe
from gitpet.cli.parser import build_parser, chosen_command, command_names

__all__ = ["command_names", "main"]


# Commands that may run before the store exists (they create it, or only configure it).
_CREATING = frozenset({"init", "fetch", "remote"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``gitpet`` command (``argv`` default: ``sys.argv[1:]``); return its exit status."""
    out, err = TerminalSafe(sys.stdout), TerminalSafe(sys.stderr)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            return _main(argv)
    except BrokenPipeError:
        # `gitpet log X | head`: the reader left. Say nothing, as git does; the interpreter's
        # own flush at exit must not fail again on the closed pipe either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    finally:
        try:
            out.flush()
            err.flush()
        except BrokenPipeError:
            pass


def _main(argv: Sequence[str] | None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=chosen_command(given))
    if not given:
        parser.print_help()
        return 0
    args = parser.parse_args(given)
    store = GitStore(args.store)
    try:
        if args.command not in _CREATING and not store.exists():
            raise GitpetError(
                f"no gitpet store at {store.path} (gitpet init creates one; --store or $GITPET_STORE "
                "names another)"
            )
        return int(args.run(store, args))
    except ClassNotFoundError as err:
        print(f"gitpet: error: {err}{_did_you_mean(store, err.name)}", file=sys.stderr)
        return 1
    except GitpetError as err:
        print(f"gitpet: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # the reader left: main() ends quietly
    except OSError as err:
        print(f"gitpet: error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Every write ends in a compare-and-swap of a ref: what was interrupted before it left
        # no ref half-moved, only unreferenced objects (gc prunes them) or a dropped quarantine.
        print(
            "gitpet: interrupted; no ref was left half-updated (run the command again to finish)",
            file=sys.stderr,
        )
        return 130


def _did_you_mean(store: GitStore, name: str | None) -> str:
    if not name:
        return ""
    try:
        close = difflib.get_close_matches(name, store.names(), n=3, cutoff=0.6)
    except GitpetError:
        return ""
    return f"; did you mean {' or '.join(close)}?" if close else ""


if __name__ == "__main__":
    sys.exit(main())
