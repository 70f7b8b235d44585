"""How far a long push, fetch or gc has got, for a person watching a terminal.

The layers that do the work report stages and counts to a :class:`Progress`;
the plain one says nothing, so reporting costs nothing where no one watches.
:func:`progress_on_stderr` gives the one that draws, on stderr, only when it
is a terminal and only once the operation has taken more than a second, as
git does: a quick command, a script, a log file or a notebook see no
progress lines at all.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["SHOW_AFTER_SECONDS", "SILENT", "Progress", "TerminalProgress", "human_size", "progress_on_stderr"]

# Under this, an operation finishes before progress would be worth reading.
SHOW_AFTER_SECONDS = 1.0
_REDRAW_EVERY_SECONDS = 0.1


def human_size(size: int) -> str:
    """``size`` bytes as people read it: ``512 B``, ``3.4 KiB``, ``160.0 MiB``.

    Examples:
        >>> human_size(512), human_size(3500), human_size(160 * 1024 * 1024)
        ('512 B', '3.4 KiB', '160.0 MiB')
    """
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


class Progress:
    """Where work reports how far it is; this one keeps nothing and shows nothing.

    Examples:
        >>> progress = Progress()
        >>> progress.stage("writing", total=3)
        >>> progress.advance(2)
    """

    def stage(self, title: str, total: int | None = None, *, unit: str = "objects") -> None:
        """Start the next stage: ``title``, ``total`` items of ``unit``.

        ``unit="bytes"`` shows sizes; ``unit=""`` shows no count, only what is being done.
        """

    def advance(self, amount: int = 1) -> None:
        """``amount`` more items of the current stage are done."""


#: The default of every worker that takes a progress: no one is watching.
SILENT = Progress()


class TerminalProgress(Progress):
    """Draws ``label: stage: count`` on ``stream``, redrawn in place, once ``delay`` seconds have passed.

    A background thread redraws, so that a stage which reports nothing for a
    while (a single big object being compressed) still shows, and
    :meth:`advance` stays a counter update: it is called per chunk received.
    Use it through :func:`progress_on_stderr`, which ends the line.

    Examples:
        >>> import io
        >>> stream = io.StringIO()
        >>> progress = TerminalProgress(stream, "gitpet fetch", delay=0.0)
        >>> progress.stage("receiving", unit="bytes")
        >>> progress.advance(3 * 1024 * 1024)
        >>> progress.finish()
        >>> stream.getvalue().splitlines()[-1].strip()
        'gitpet fetch: receiving: 3.0 MiB, done.'
    """

    def __init__(
        self,
        stream: TextIO,
        label: str,
        *,
        delay: float = SHOW_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self._clock = clock
        self._show_from = clock() + delay
        self._lock = threading.Lock()
        self._title: str | None = None
        self._total: int | None = None
        self._unit = ""
        self._done = 0
        self._drawn = ""  # what the current line shows, to be overwritten
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="gitpet-progress", daemon=True)
        self._ticker.start()

    def stage(self, title: str, total: int | None = None, *, unit: str = "objects") -> None:
        """Start the next stage; the one before ends with ``, done.`` if it was shown."""
        with self._lock:
            self._draw()  # the stage ending shows its last count
            self._end_line(", done.")
            self._title, self._total, self._unit, self._done = title, total, unit, 0
            self._draw()

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more; the next redraw shows it."""
        self._done += amount  # the ticker draws it: this is called per chunk received

    def finish(self, ending: str = ", done.") -> None:
        """Stop redrawing and end the line with ``ending`` (``, interrupted.``, ``, failed.``)."""
        self._stop.set()
        if self._ticker is not threading.current_thread():
            self._ticker.join()
        with self._lock:
            self._draw()
            self._end_line(ending)

    def _tick(self) -> None:
        while not self._stop.wait(_REDRAW_EVERY_SECONDS):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        if self._title is None or self._clock() < self._show_from:
            return
        count = self._count()
        text = f"{self._label}: {self._title}" + (f": {count}" if count else "")
        if text == self._drawn:
            return
        self._write("\r" + text.ljust(len(self._drawn)))
        self._drawn = text

    def _count(self) -> str:
        if self._unit == "bytes":
            done = human_size(self._done)
            return f"{done} of {human_size(self._total)}" if self._total is not None else done
        if not self._unit:
            return ""  # a stage that only says what it is doing
        if self._total:
            return f"{self._done}/{self._total} {self._unit} ({100 * self._done // self._total}%)"
        return f"{self._done} {self._unit}"

    def _end_line(self, ending: str) -> None:
        if self._drawn:
            self._write(ending + "\n")
            self._drawn = ""

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            # The terminal went away (or the stream was closed): progress is not worth an error.
            self._stop.set()


@contextmanager
def progress_on_stderr(label: str, *, enabled: bool = True) -> Iterator[Progress]:
    """A :class:`TerminalProgress` on stderr when ``enabled`` and stderr is a terminal; else a silent one.

    The line is ended when the block ends: ``, done.``, ``, interrupted.``
    when Ctrl-C stops it, ``, failed.`` when an error does; the next message
    starts on a line of its own.

    Examples:
        >>> with progress_on_stderr("gitpet gc") as progress:
        ...     progress.stage("packing", total=2)
        ...     progress.advance(2)
        >>> type(progress).__name__      # stderr is not a terminal here
        'Progress'
    """
    # The command line escapes control characters on stderr (a class name could hide
    # text); progress lines hold only gitpet's own words and need their carriage return.
    stream: TextIO = getattr(sys.stderr, "raw_stream", sys.stderr)
    try:
        on_terminal = enabled and stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        on_terminal = False
    if not on_terminal:
        yield Progress()
        return
    progress = TerminalProgress(stream, label)
    try:
        yield progress
    except KeyboardInterrupt:
        progress.finish(", interrupted.")
        raise
    except BaseException:
        progress.finish(", failed.")
        raise
    progress.finish()
