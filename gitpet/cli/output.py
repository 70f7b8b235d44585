"""What the commands print: JSON, or lines for a terminal that cannot be made to hide text."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from gitpet import SyncReport, VersionInfo


def print_json(data: object) -> None:
    """``data`` as indented JSON with sorted keys."""
    print(json.dumps(data, indent=2, sort_keys=True))


def print_mapping(mapping: dict[str, str], as_json: bool, shown_chars: int | None = None) -> None:
    """A mapping as JSON, or one ``key<TAB>value`` line each (values cut to ``shown_chars``)."""
    if as_json:
        print_json(mapping)
    else:
        for key, value in mapping.items():
            print(f"{key}\t{value[:shown_chars]}")


def print_rows(
    rows: list[dict[str, Any]],
    as_json: bool,
    extra: Callable[[dict[str, Any]], str] | None = None,
    headers: Sequence[str] = ("NAME", "LATEST", "DATE"),
) -> None:
    """Listing rows (``name``, ``id``, ``time``, ...) as JSON, or a header and a tab-separated line each."""
    if as_json:
        print_json(rows)
        return
    if rows:
        print("\t".join(headers))
    for row in rows:
        line = f"{row['name']}\t{row['id'][:12]}\t{row['time']}"
        print(line + (f"\t{extra(row)}" if extra is not None else ""))


def print_history(
    entries: Sequence[VersionInfo], tags: Mapping[str, str], as_json: bool, unit: str = "VERSION"
) -> None:
    """A class's versions or a pipeline's snapshots, newest first, each with its tags."""
    tags_by_id: dict[str, list[str]] = {}
    for tag, target in tags.items():
        tags_by_id.setdefault(target, []).append(tag)
    if as_json:
        print_json(
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
    if not entries:
        return
    lines = [f"{unit:<12}  {'COMMIT':<12}  {'DATE':<25}  MESSAGE (TAGS)"]
    for e in entries:
        found = tags_by_id.get(e.id)
        decoration = f" ({', '.join(found)})" if found else ""
        subject = e.message.strip().split("\n", 1)[0]
        lines.append(f"{e.id[:12]}  {e.commit[:12]}  {e.time.isoformat()}  {subject}{decoration}")
    # One write (a history is 10,000 lines): each print went through the terminal-safe stream twice.
    print("\n".join(lines))


def print_report(report: SyncReport, as_json: bool) -> None:
    """What a push or fetch did to each ref."""
    if as_json:
        print_json(
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


def short_ids(ids: Sequence[str]) -> str:
    """Ids cut to 12 characters, comma-separated; ``-`` for none."""
    return ", ".join(vid[:12] for vid in ids) or "-"


# What a terminal acts on instead of showing: C0 and C1 controls other than tab and newline
# (escape sequences, carriage return, backspace) and the bidirectional overrides that reorder
# a line on screen. Stored text is a remote's text: a reviewer must see every character of it.
_HIDING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The ASCII ones: most output is ASCII, and bytes.translate tells in C that none is there
# (the pattern took 3.4 ms to scan the 10,000 lines of a long history and find none).
_ASCII_HIDING = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])


def terminal_safe(text: str) -> str:
    r"""``text`` with every character that could hide or rewrite what is shown written as an escape.

    Examples:
        >>> terminal_safe("ok = 1\x1b[2K\rok = 2\n")
        'ok = 1\\x1b[2K\\rok = 2\n'
        >>> terminal_safe("if admin:\u202e  # comment")
        'if admin:\\u202e  # comment'
    """
    if text.isascii():
        raw = text.encode("ascii")
        if len(raw.translate(None, _ASCII_HIDING)) == len(raw):
            return text
    return _HIDING.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class TerminalSafe:
    """A text stream that writes through :func:`terminal_safe` (anything else: the stream's own).

    Not an ``io`` class: those close, and so flush, the wrapped stream when collected.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def raw_stream(self) -> TextIO:
        """The stream itself, for what gitpet draws with control characters (its own progress lines)."""
        return self._stream

    def write(self, text: str) -> int:
        """Write ``text`` with what could hide text escaped; return its length."""
        self._stream.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
