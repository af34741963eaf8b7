"""How long work says how far it got, without the core doing any I/O.

A long function (:func:`~contact_prefs.planning.plan`, the file readers and
writers) takes an optional ``progress=``: it calls ``start`` with the size of
the work, ``advance`` as it goes and ``finish`` at the end.  It advances in
coarse steps of :data:`CHUNK` items, never once per item, so that the hot
loops stay as fast as they are.  The default, :data:`NO_PROGRESS`, does
nothing; the command line passes a progress bar when its output is a terminal
(:mod:`contact_prefs.progress_bar`).

>>> done = []
>>> class Tally:
...     def start(self, total, what): done.append((what, total))
...     def advance(self, count): done.append(count)
...     def finish(self): done.append("finished")
>>> with reporting(Tally(), 25_000, "Planning") as progress:
...     for chunk in slices(list(range(25_000))):
...         progress.advance(len(chunk))
>>> done
[('Planning', 25000), 10000, 10000, 5000, 'finished']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Protocol, TypeVar

T = TypeVar("T")

CHUNK = 10_000
"""How many items a long function handles between two reports."""


class Progress(Protocol):
    """What long work reports to: its size, how far it got, that it is over."""

    def start(self, total: int | None, what: str) -> None:
        """``what`` begins (``"Planning"``), with ``total`` items to go; ``None`` when the step
        cannot count them (a single database statement)."""

    def advance(self, count: int) -> None:
        """``count`` more items are done."""

    def finish(self) -> None:
        """The step that began last is over, done or not."""


class _NoProgress:
    """Reports to nobody."""

    def start(self, total: int | None, what: str) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def finish(self) -> None:
        pass

    def __repr__(self) -> str:
        return "NO_PROGRESS"


NO_PROGRESS: Progress = _NoProgress()
"""The default of every ``progress=``: nothing is reported."""


@contextmanager
def reporting(progress: Progress, total: int | None, what: str) -> Iterator[Progress]:
    """Start ``what`` on ``progress``, and finish it however the block ends."""
    progress.start(total, what)
    try:
        yield progress
    finally:
        progress.finish()


def slices(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of ``size`` (the last one shorter)."""
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def batches(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """The items of any iterable in lists of ``size`` (the last one shorter), read as they come."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
