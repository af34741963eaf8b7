"""The hash-chained history: links computed as documented, an intact chain verifies, and every
single tampering is found at the position where it was done."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_prefs import BatchRecord, BatchSpec, ChangeSet, Method, Reason, ReasonSet, Source
from contact_prefs.chain import (
    GENESIS,
    ChainReport,
    Entry,
    EntryKind,
    Link,
    approval_entry,
    batch_entry,
    batch_entry_of,
    chain_after,
    entries_of,
    head_of,
    link_hash,
    verify_chain,
)
from contact_prefs.changes import PointUpdate, count_updates
from contact_prefs.proposals import Approval, Proposal

AT = datetime.datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=datetime.UTC)
SPEC = BatchSpec(mode="students", settings={"attendance": "on"})
DIGEST = "ab" * 32

KINDS = st.sampled_from(EntryKind)
KEYS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FF), min_size=1, max_size=8)
ENTRY = st.builds(Entry, KINDS, KEYS, st.binary(max_size=40))


def _distinct(entries: list[Entry]) -> bool:
    return len({(entry.kind, entry.key) for entry in entries}) == len(entries)


ENTRIES = st.lists(ENTRY, max_size=8).filter(_distinct)
SOME_ENTRIES = st.lists(ENTRY, min_size=1, max_size=8).filter(_distinct)


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def found(report: ChainReport, position: int, *words: str) -> None:
    assert not report.intact
    assert report.position == position, report.problem
    for word in words:
        assert word in (report.problem or ""), report.problem


# --- building the chain ---------------------------------------------------------------


def test_an_empty_history_has_the_genesis_head() -> None:
    assert head_of([]) == GENESIS == "0" * 64
    assert verify_chain([], []) == ChainReport(head=GENESIS, links=0)
    assert verify_chain([], []).intact


def test_a_link_is_computed_as_the_module_documents() -> None:
    first, second = Entry(EntryKind.BATCH, "b1", b'{"a":1}'), Entry(EntryKind.CONSENT, "1", b"{}")
    links = chain_after(None, [first, second])
    digest = sha256(b'{"a":1}')
    hash1 = sha256(f"{GENESIS}\nbatch\nb1\n{digest}")
    assert links[0] == Link(seq=1, kind=EntryKind.BATCH, key="b1", digest=digest, prev=GENESIS, hash=hash1)
    hash2 = sha256(f"{hash1}\nconsent\n1\n{sha256(b'{}')}")
    assert links[1] == Link(seq=2, kind=EntryKind.CONSENT, key="1", digest=sha256(b"{}"), prev=hash1, hash=hash2)
    assert link_hash(hash1, EntryKind.CONSENT, "1", sha256(b"{}")) == hash2
    assert head_of(links) == hash2


@given(entries=ENTRIES)
def test_an_untouched_chain_verifies_intact(entries: list[Entry]) -> None:
    links = chain_after(None, entries)
    report = verify_chain(links, entries)
    assert report.intact, report.problem
    assert report == ChainReport(head=head_of(links), links=len(entries))
    assert [link.seq for link in links] == list(range(1, len(entries) + 1))
    for head in [GENESIS, *(link.hash for link in links)]:
        assert verify_chain(links, entries, expect_head=head).intact


@given(first=ENTRIES, then=ENTRIES)
def test_appending_in_steps_gives_the_chain_of_appending_at_once(first: list[Entry], then: list[Entry]) -> None:
    start = chain_after(None, first)
    assert start + chain_after(start[-1] if start else None, then) == chain_after(None, first + then)


# --- tampering with the links -----------------------------------------------------------


@given(entries=SOME_ENTRIES, data=st.data())
@pytest.mark.parametrize("field", ["digest", "prev", "hash"])
def test_an_edited_link_is_found_where_it_is(entries: list[Entry], data: st.DataObject, field: str) -> None:
    links = list(chain_after(None, entries))
    i = data.draw(st.integers(0, len(links) - 1))
    links[i] = attrs.evolve(links[i], **{field: "f" * 64})
    found(verify_chain(links, entries), i + 1)


@given(entries=SOME_ENTRIES, data=st.data())
def test_a_removed_link_is_found_where_it_was(entries: list[Entry], data: st.DataObject) -> None:
    links = list(chain_after(None, entries))
    i = data.draw(st.integers(0, len(links) - 1))
    del links[i]
    found(verify_chain(links, entries), i + 1)


@given(entries=st.lists(ENTRY, min_size=2, max_size=8).filter(_distinct), data=st.data())
def test_two_swapped_links_are_found_at_the_first(entries: list[Entry], data: st.DataObject) -> None:
    links = list(chain_after(None, entries))
    i = data.draw(st.integers(0, len(links) - 2))
    j = data.draw(st.integers(i + 1, len(links) - 1))
    links[i], links[j] = links[j], links[i]
    found(verify_chain(links, entries), i + 1)


@given(entries=ENTRIES, data=st.data())
def test_an_inserted_link_is_found_where_it_was_put(entries: list[Entry], data: st.DataObject) -> None:
    links = list(chain_after(None, entries))
    i = data.draw(st.integers(0, len(links)))
    # The best a forger can do: a link that follows the one before it, for an entry never recorded.
    forged = chain_after(links[i - 1] if i else None, [Entry(EntryKind.BATCH, "forged-link", b"{}")])
    links.insert(i, forged[0])
    found(verify_chain(links, entries), i + 1)


# --- tampering with the entries ---------------------------------------------------------


@given(entries=SOME_ENTRIES, data=st.data())
def test_an_edited_entry_is_found_at_its_position(entries: list[Entry], data: st.DataObject) -> None:
    links = chain_after(None, entries)
    i = data.draw(st.integers(0, len(entries) - 1))
    edited = list(entries)
    edited[i] = attrs.evolve(entries[i], body=entries[i].body + b" ")
    found(verify_chain(links, edited), i + 1, "changed")


@given(entries=SOME_ENTRIES, data=st.data())
def test_a_removed_entry_is_found_at_its_position(entries: list[Entry], data: st.DataObject) -> None:
    links = chain_after(None, entries)
    i = data.draw(st.integers(0, len(entries) - 1))
    found(verify_chain(links, entries[:i] + entries[i + 1 :]), i + 1, "removed")


@given(entries=ENTRIES, data=st.data())
def test_an_entry_never_chained_is_found_as_inserted(entries: list[Entry], data: st.DataObject) -> None:
    links = chain_after(None, entries)
    i = data.draw(st.integers(0, len(entries)))
    inserted = [*entries[:i], Entry(EntryKind.BATCH, "slipped-in", b"{}"), *entries[i:]]
    found(verify_chain(links, inserted), len(links) + 1, "batch slipped-in", "inserted")


@given(entries=SOME_ENTRIES, data=st.data())
def test_an_entry_held_twice_is_found(entries: list[Entry], data: st.DataObject) -> None:
    links = chain_after(None, entries)
    i = data.draw(st.integers(0, len(entries) - 1))
    found(verify_chain(links, [*entries, entries[i]]), i + 1, "twice")


@given(
    batches=st.lists(KEYS, min_size=2, max_size=6, unique=True),
    others=st.lists(st.builds(Entry, st.just(EntryKind.POLICY), KEYS, st.binary(max_size=4)), max_size=3).filter(
        _distinct
    ),
    data=st.data(),
)
def test_two_batches_reordered_are_found_at_the_first(
    batches: list[str], others: list[Entry], data: st.DataObject
) -> None:
    entries = [Entry(EntryKind.BATCH, key, key.encode()) for key in batches] + others
    links = chain_after(None, entries)
    i = data.draw(st.integers(0, len(batches) - 2))
    j = data.draw(st.integers(i + 1, len(batches) - 1))
    moved = list(entries)
    moved[i], moved[j] = moved[j], moved[i]
    found(verify_chain(links, moved), i + 1, f"batch {batches[i]}", "moved")


def test_approvals_in_another_order_than_their_proposals_are_no_tampering() -> None:
    # Stores give each proposal's steps after it (entries_of), while the chain has them as they
    # happened: the second proposal approved before the first is the history, not a rewrite.
    p1, p2 = (Entry(EntryKind.PROPOSAL, key, key.encode()) for key in ("p1", "p2"))
    a1, a2 = (Entry(EntryKind.APPROVAL, key, b"approved " + key.encode()) for key in ("p1", "p2"))
    links = chain_after(None, [p1, p2, a2, a1])
    assert verify_chain(links, [p1, a1, p2, a2]).intact
    assert verify_chain(links, [p2, a2, p1, a1]).intact


def test_a_head_kept_elsewhere_must_be_in_the_chain() -> None:
    entries = [Entry(EntryKind.BATCH, "b1", b"1"), Entry(EntryKind.BATCH, "b2", b"2")]
    links = chain_after(None, entries)
    assert verify_chain(links, entries, expect_head=links[0].hash).intact
    report = verify_chain(links, entries, expect_head="e" * 64)
    assert (report.intact, report.position, report.head) == (False, None, links[-1].hash)
    assert "rewritten" in (report.problem or "")
    # A rewritten chain (every link recomputed, the first entry changed) no longer holds the old head.
    rewritten_entries = [Entry(EntryKind.BATCH, "b1", b"one"), entries[1]]
    rewritten = chain_after(None, rewritten_entries)
    assert verify_chain(rewritten, rewritten_entries).intact
    assert not verify_chain(rewritten, rewritten_entries, expect_head=links[0].hash).intact
    assert not verify_chain(rewritten, rewritten_entries, expect_head=links[1].hash).intact


# --- canonical entries ------------------------------------------------------------------


def _update(owner: str, before: set[str], after: set[str], affects: set[str]) -> PointUpdate:
    return PointUpdate(
        owner_id=owner,
        method=Method.CELL_PHONE,
        source_before=Source.PORTAL,
        enabled_before=ReasonSet(before),
        enabled_after=ReasonSet(after),
        affects=frozenset(affects),
        revoked_before=ReasonSet({"general"}),
    )


UPDATES = (
    _update("g1", {"emergency"}, {"emergency", "attendance"}, {"g1"}),
    _update("h1", set(), {"attendance"}, {"s1", "g1"}),
)
APPROVAL = Approval(proposal_id="p-1", proposer="alice", approver="bob")


def test_a_batch_entry_is_canonical_json_of_what_the_batch_wrote() -> None:
    entry = batch_entry(
        batch_id="b-1",
        actor="registrar",
        at=AT.astimezone(datetime.timezone(datetime.timedelta(hours=-5))),
        spec=SPEC,
        counts=count_updates(UPDATES),
        updates=UPDATES,
        approval=APPROVAL,
    )
    assert (entry.kind, entry.key) == (EntryKind.BATCH, "b-1")
    body = json.loads(entry.body)
    assert json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == entry.body
    # The written points, hashed as the change-set digest hashes them, without the consent planned under.
    lines = "g1\tcell_phone\tportal\t1\t3\tg1\nh1\tcell_phone\tportal\t0\t2\tg1\ts1\n"
    assert body == {
        "batch": "b-1",
        "actor": "registrar",
        "at": "2026-11-30T09:15:30.123456+00:00",
        "spec": body["spec"],
        "counts": {"cell_phone/attendance": 2},
        "undoes": None,
        "approval": {"proposal_id": "p-1", "proposer": "alice", "approver": "bob"},
        "schedule": None,
        "left_alone": {},
        "changes": sha256("contact-prefs batch changes 1\n" + lines),
    }
    assert entry.digest == sha256(entry.body)


def test_a_batch_entry_is_the_same_from_the_record_read_back() -> None:
    changes = ChangeSet(spec=SPEC, basis="", updates=UPDATES).changes
    record = BatchRecord(
        batch_id="b-1",
        actor="registrar",
        at=AT,
        spec=SPEC,
        counts=count_updates(UPDATES),
        changes=changes,
        approval=APPROVAL,
    )
    written = batch_entry(
        batch_id="b-1", actor="registrar", at=AT, spec=SPEC, counts=record.counts, updates=UPDATES, approval=APPROVAL
    )
    assert batch_entry_of(record) == written
    # A microsecond, an actor, a count or the approval read back otherwise is another entry.
    for edit in (
        {"at": AT + datetime.timedelta(microseconds=1)},
        {"actor": "someone else"},
        {"counts": {**record.counts, (Method.EMAIL, Reason.GENERAL): 1}},
        {"approval": None},
        {"changes": changes[:-1], "counts": count_updates(UPDATES)},
    ):
        assert batch_entry_of(attrs.evolve(record, **edit)).digest != written.digest, edit


def test_the_entries_of_a_proposal_follow_its_steps() -> None:
    proposal = Proposal(
        proposal_id="p-1",
        spec=SPEC,
        digest=DIGEST,
        counts={(Method.CELL_PHONE, Reason.ATTENDANCE): 2},
        proposer="alice",
        at=AT,
        expires_at=AT + datetime.timedelta(days=7),
    )
    approved = attrs.evolve(proposal, approver="bob", approved_at=AT)
    applied = attrs.evolve(approved, batch_id="b-1", applied_by="carol", applied_at=AT)
    entries = entries_of(history=[], consent_events=[], policy_changes=[], proposals=[applied])
    assert [(entry.kind, entry.key) for entry in entries] == [
        (EntryKind.PROPOSAL, "p-1"),
        (EntryKind.APPROVAL, "p-1"),
        (EntryKind.APPLICATION, "p-1"),
    ]
    assert json.loads(approval_entry(approved).body) == {"approver": "bob", "at": "2026-11-30T09:15:30.123456+00:00"}
    # Approval and application leave the proposal's own entry as it was chained.
    (as_proposed,) = entries_of(history=[], consent_events=[], policy_changes=[], proposals=[proposal])
    assert as_proposed == entries[0]


@given(entries=SOME_ENTRIES, data=st.data())
def test_an_entry_chained_twice_is_found_at_the_second_link(entries: list[Entry], data: st.DataObject) -> None:
    # Every hash follows, every entry is held: only the repeated link shows the forgery.
    links = chain_after(None, entries)
    again = entries[data.draw(st.integers(0, len(entries) - 1))]
    forged = links + chain_after(links[-1], [again])
    found(verify_chain(forged, entries), len(forged), "chained twice")


HEXES = st.text("0123456789abcdef", min_size=64, max_size=64)
LINKS = st.lists(
    st.builds(Link, seq=st.integers(-1, 9), kind=KINDS, key=KEYS, digest=HEXES, prev=HEXES, hash=HEXES), max_size=6
)


@given(links=LINKS, entries=st.lists(ENTRY, max_size=6), expect_head=st.none() | HEXES)
def test_any_links_and_entries_give_a_report_never_an_error(
    links: list[Link], entries: list[Entry], expect_head: str | None
) -> None:
    report = verify_chain(links, entries, expect_head=expect_head)
    assert report.head == head_of(links) and report.links == len(links)
    if not report.intact:
        assert report.position is None or 1 <= report.position <= len(links) + 1


def test_an_update_that_switches_nothing_is_not_in_a_batch_entry() -> None:
    # The history keeps changes: a store that wrote such an update reads none back, so every store's
    # entry must leave it out alike, or the same batch would chain differently on two backends.
    idle = _update("g2", {"emergency"}, {"emergency"}, {"g2"})
    options: dict[str, Any] = {"batch_id": "b-1", "actor": "staff", "at": AT, "spec": SPEC}
    counts = count_updates(UPDATES)
    with_idle = batch_entry(**options, counts=counts, updates=(*UPDATES, idle))
    assert with_idle == batch_entry(**options, counts=counts, updates=UPDATES)
