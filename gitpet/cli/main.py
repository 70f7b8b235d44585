"""The ``gitpet`` command: a thin shell over the public API.

Every command takes ``--store PATH`` (default ``$GITPET_STORE``, else
``./.gitpet``), exits 0 on success and 1 with a one-line ``gitpet: error:``
message otherwise (2 for a usage error). A VERSION is a version id or a commit
of the class's history, a unique prefix of 7+ hex characters of either, a tag,
or ``~N`` (N versions before the latest).
Nothing here unpickles a class: reading is safe on untrusted stores.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout

from gitpet import GitpetError, GitStore
from gitpet.cli.output import TerminalSafe
from gitpet.cli.parser import build_parser, command_names

__all__ = ["command_names", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``gitpet`` command (``argv`` default: ``sys.argv[1:]``); return its exit status."""
    out, err = TerminalSafe(sys.stdout), TerminalSafe(sys.stderr)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            return _main(argv)
    finally:
        out.flush()
        err.flush()


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
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
