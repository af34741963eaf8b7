"""An opt-in for work on a whole district at once: millions of small immutable objects.

Besides the work itself, the cyclic garbage collector dominates such work in
CPython: it scans the millions of objects just built again and again, though
the domain's values hold no reference cycles and reference counting frees
them.  The library never pauses it by itself, since the collector belongs to
the whole process (every thread of a web server embedding the library).  A
program that runs one district-wide job at a time, such as the command line
or a nightly script, may opt in::

    from contact_prefs.bulk import collector_paused

    with collector_paused():
        change_set, receipt = run_batch(store, spec, actor="nightly")
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector of the whole process for a block of bulk work, then restore it.

    Use it only where nothing else runs in the process meanwhile: other
    threads' cyclic garbage waits for the block's end.

    What the block built goes straight to the oldest generation, where a full
    collection still examines it (cyclic garbage is still found); otherwise the
    first young collection after the block would traverse all of it, a tenth of
    a second per half million objects, only to promote it.  ``gc.freeze()``
    followed by ``gc.unfreeze()`` does that move in constant time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
