"""Progress bars on a terminal: the command line's :class:`~contact_prefs.progress.Progress`.

A step that counts its work and is long (:data:`LONG` items or more) shows a
``tqdm`` bar on the terminal with its percentage and the time left.  A step
that cannot count its work (one call into a store, a single database
statement) says what it does, on a line of its own, instead of a bar that
would only pretend to move.  Scripts get nothing: :func:`progress_for`
reports nowhere when the stream is not a terminal, or with ``--quiet``.
"""

from __future__ import annotations

import os
from typing import Never, TextIO

from tqdm import tqdm

from .progress import NO_PROGRESS, Progress

LONG = 50_000
"""The fewest items a step must count to show a bar: shorter steps are over before a bar says anything."""

UNIT = " records"
SIZE = os.terminal_size((80, 24))
"""The size assumed of a terminal that does not tell its own."""


class TerminalProgress:
    """Reports each step to ``stream``: a bar for a long step of known size, a line for a step of unknown size.

    Steps follow one another: one that starts finishes the one before."""

    def __init__(self, stream: TextIO, *, long: int = LONG) -> None:
        self._stream = stream
        self._long = long
        self._bar: tqdm[Never] | None = None  # a bar over no iterable: updated by hand

    def start(self, total: int | None, what: str) -> None:
        self.finish()
        if total is None:
            print(f"{what}...", file=self._stream, flush=True)
        elif total >= self._long:
            columns, lines = _size(self._stream)
            self._bar = tqdm(
                total=total, desc=what, unit=UNIT, file=self._stream, ncols=columns, nrows=lines, mininterval=0.2
            )

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _size(stream: TextIO) -> os.terminal_size:
    """The terminal's size: tqdm would take a terminal of zero columns or lines (one whose size
    was never set) at its word, and draw nothing."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        return SIZE
    return os.terminal_size((size.columns or SIZE.columns, size.lines or SIZE.lines))


def progress_for(stream: TextIO, *, quiet: bool = False) -> Progress:
    """Where a command's long work reports: a :class:`TerminalProgress` on ``stream`` if it is a
    terminal and ``quiet`` is not asked for, else :data:`~contact_prefs.progress.NO_PROGRESS`."""
    if quiet or not stream.isatty():
        return NO_PROGRESS
    return TerminalProgress(stream, long=LONG)
