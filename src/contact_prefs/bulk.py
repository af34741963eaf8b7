"""Helpers for work on a whole district at once: millions of small immutable objects.

Two costs dominate such work in CPython besides the work itself: validating
records that a store validated already when they were loaded, and the cyclic
garbage collector repeatedly scanning the millions of objects just built.
Neither protects anything here: stored records are valid by construction, and
the domain's values hold no reference cycles, so reference counting frees them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import attrs

T = TypeVar("T")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block of bulk work, then restore it.

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


def trusted_constructor(cls: type[T], converters: Mapping[str, Callable[[Any], Any]] | None = None) -> Callable[..., T]:
    """A constructor of ``cls`` that takes every field positionally, in field order,
    and neither converts nor validates: for records read back from a store.

    It sets the slots directly, as attrs' own generated ``__init__`` does after
    its checks, so the object is indistinguishable from a checked one.
    ``converters`` (by field name) turn a stored form into the field's value
    on the way in, in the same call: a row becomes a record in one step.
    """
    converters = converters or {}
    names = [field.name for field in attrs.fields(cast("type[attrs.AttrsInstance]", cls))]
    unknown = converters.keys() - set(names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set_{name}": cls.__dict__[name].__set__ for name in names})
    namespace.update({f"convert_{name}": converter for name, converter in converters.items()})
    values = {name: f"convert_{name}({name})" if name in converters else name for name in names}
    body = "".join(f"    set_{name}(record, {value})\n" for name, value in values.items())
    source = f"def trusted({', '.join(names)}):\n    record = new(cls)\n{body}    return record\n"
    exec(source, namespace)  # the same technique attrs uses to generate __init__
    constructor: Callable[..., T] = namespace["trusted"]
    return constructor
