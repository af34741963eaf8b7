"""Everything a store holds, as one value independent of any backend: what backup, restore and copy move.

A :class:`StoreContents` is read from a store in one consistent snapshot
(``Store.contents()``) and written to another as it is (``Store.receive()``):
the same records, batch ids, times, actors, ledger order, review ids and
policy.  Its parts are *sections*, listed in :data:`SECTIONS` in the order
archives and reports use.  A new kind of thing a store keeps (a journal, say)
is a new field here, its entry in :data:`SECTIONS`, its codec in
:data:`contact_prefs.formats.sections.CODECS`, a new version of the archive
format (:data:`contact_prefs.formats.archive.VERSION`), and its reading and
writing in each backend's ``contents()`` and ``receive()``; every count,
comparison, refusal and archive then picks it up from the list.  Besides the
sections, ``demo`` says whether the store holds the demo district (a flag,
not a section: the archive keeps it in its manifest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .chain import Link, head_of
from .consent import ConsentEvent, ConsentPolicy, Review
from .errors import StoreNotEmptyError
from .ledger import PolicyChange
from .proposals import Proposal
from .schedules import Schedule
from .snapshot import RECORD_FIELDS, Snapshot, _frozen
from .store import BatchRecord

__all__ = [
    "SECTIONS",
    "Section",
    "StoreContents",
    "check_receivable",
    "counted",
    "differences",
    "holding",
]


def _unique(what: str, key: str) -> Callable[[Any, attrs.Attribute[Any], tuple[Any, ...]], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], entries: tuple[Any, ...]) -> None:
        seen: set[str] = set()
        for index, entry in enumerate(entries, start=1):
            value = getattr(entry, key)
            if value in seen:
                raise ValueError(f"{attribute.name}: entry {index} repeats the {what} of an earlier one")
            seen.add(value)

    return check


def _records(snapshot: Snapshot) -> Snapshot:
    """The records alone, in key order: the version names a state of one store, not its contents."""
    return attrs.evolve(snapshot.sorted(), version="", selection=None)


@attrs.frozen(kw_only=True)
class StoreContents:
    """Everything a store holds.

    ``records``: the district (what ``dump()`` gives, each point's ``revoked``
    included); ``history``: every commit and undo, *oldest first*;
    ``consent_events``: every ledger's events in the order they were recorded;
    ``reviews``: the review queue in queue order, waiting and resolved;
    ``consent_policy`` and its ``policy_changes``, oldest first;
    ``proposals`` in the order proposed and ``schedules`` in the order saved,
    each as it stands; ``chain``: the links of the history's chain
    (:mod:`contact_prefs.chain`), in order, as the store holds them: a
    receiver writes them as given, never recomputed, so that its chain has
    the same :attr:`head` and verifies; ``demo``: whether the store holds the
    demo district (``Store.holds_demo()``).  Batch, review, proposal and
    schedule ids are unique, as in every store.
    """

    records: Snapshot = attrs.field(factory=Snapshot)
    history: tuple[BatchRecord, ...] = attrs.field(
        default=(), converter=_frozen, validator=_unique("batch id", "batch_id")
    )
    consent_events: tuple[ConsentEvent, ...] = attrs.field(default=(), converter=_frozen)
    reviews: tuple[Review, ...] = attrs.field(
        default=(), converter=_frozen, validator=_unique("review id", "review_id")
    )
    consent_policy: ConsentPolicy = attrs.field(factory=ConsentPolicy)
    policy_changes: tuple[PolicyChange, ...] = attrs.field(default=(), converter=_frozen)
    proposals: tuple[Proposal, ...] = attrs.field(
        default=(), converter=_frozen, validator=_unique("proposal id", "proposal_id")
    )
    schedules: tuple[Schedule, ...] = attrs.field(
        default=(), converter=_frozen, validator=_unique("schedule id", "schedule_id")
    )
    chain: tuple[Link, ...] = attrs.field(default=(), converter=_frozen)
    demo: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))

    @property
    def head(self) -> str:
        """The hash standing for the whole history (:func:`~contact_prefs.chain.head_of` the chain)."""
        return head_of(self.chain)

    def is_empty(self) -> bool:
        """Whether the store holds nothing: what a new store holds."""
        return not any(self.holdings().values())

    def counts(self) -> dict[str, int]:
        """How many entries each section holds (records counted one by one; the policy is one)."""
        return {section.name: section.count(self) for section in SECTIONS}

    def record_counts(self) -> dict[str, int]:
        """The records per collection (``persons``, ``contact_points``...)."""
        return {name: len(records) for name, records in self.records.collections().items()}

    def holdings(self) -> dict[str, int]:
        """What :func:`check_receivable` reads: the entries of each section a new store holds none of."""
        counts = self.counts()
        counts["consent_policy"] = int(self.consent_policy != ConsentPolicy())
        return counts


@attrs.frozen
class Section:
    """One part of :class:`StoreContents`: its field, how to count it, and how two are compared."""

    name: str
    noun: str
    nouns: str
    count: Callable[[StoreContents], int]
    comparable: Callable[[StoreContents], Any]
    """The section as compared: equal for equal contents, whatever store it was read from."""


def _field(name: str) -> Callable[[StoreContents], Any]:
    return lambda contents: getattr(contents, name)


def _length(name: str) -> Callable[[StoreContents], int]:
    return lambda contents: len(getattr(contents, name))


SECTIONS: tuple[Section, ...] = (
    Section("records", "record", "records", lambda c: len(c.records), lambda c: _records(c.records)),
    Section("history", "batch", "batches", _length("history"), _field("history")),
    Section("consent_events", "consent event", "consent events", _length("consent_events"), _field("consent_events")),
    Section("reviews", "review", "reviews", _length("reviews"), _field("reviews")),
    Section("consent_policy", "consent policy", "consent policies", lambda c: 1, _field("consent_policy")),
    Section("policy_changes", "policy change", "policy changes", _length("policy_changes"), _field("policy_changes")),
    Section("proposals", "proposal", "proposals", _length("proposals"), _field("proposals")),
    Section("schedules", "schedule", "schedules", _length("schedules"), _field("schedules")),
    Section("chain", "chain link", "chain links", _length("chain"), _field("chain")),
)
"""Every section, in the order archives and reports list them."""

SECTION_NAMES = tuple(section.name for section in SECTIONS)


def holding(held: Mapping[str, int]) -> str:
    """What a store holds, in words (``12 records, 2 batches, 1 consent event``), from the
    entries per section (the policy: 1 when it is not the default one)."""
    words = []
    for section in SECTIONS:
        count = held.get(section.name, 0)
        if count:
            words.append("a changed consent policy" if section.name == "consent_policy" else counted(section, count))
    return ", ".join(words) or "nothing"


def counted(section: Section, count: int) -> str:
    """``count`` entries of ``section`` in words: ``1 batch``, ``2,478 records``."""
    return f"{count:,} {section.noun if count == 1 else section.nouns}"


def check_receivable(held: Mapping[str, int], *, replace: bool, store: str) -> None:
    """Whether a store holding ``held`` (entries per section, as :meth:`StoreContents.holdings`
    counts them) may receive everything another store held: only when it holds nothing, or when
    told to ``replace`` it.  Raises :class:`StoreNotEmptyError` naming what ``store`` holds."""
    if any(held.values()) and not replace:
        raise StoreNotEmptyError(f"{store} is not empty: it holds {holding(held)}; nothing was written")


def differences(a: StoreContents, b: StoreContents) -> list[str]:
    """The sections in which ``a`` and ``b`` differ, each with where it first differs
    (an index, a record collection): empty when they hold the same.  Never names an address."""
    found = []
    for section in SECTIONS:
        left, right = section.comparable(a), section.comparable(b)
        if left != right:
            found.append(f"{section.name} ({_where(section.name, left, right)})")
    if a.demo != b.demo:
        found.append(f"demo ({'held' if a.demo else 'not held'} and {'held' if b.demo else 'not held'})")
    return found


def _where(name: str, left: Any, right: Any) -> str:
    if name == "records":
        collections = [c for c in RECORD_FIELDS if getattr(left, c) != getattr(right, c)]
        return ", ".join(f"{c}: {len(getattr(left, c)):,} and {len(getattr(right, c)):,}" for c in collections)
    if isinstance(left, tuple) and isinstance(right, tuple):
        if len(left) != len(right):
            return f"{len(left):,} entries and {len(right):,}"
        first = next(index for index, (x, y) in enumerate(zip(left, right, strict=True)) if x != y)
        return f"entry {first + 1:,} of {len(left):,} differs"
    return "differs"
