"""StoreContents: what counts as empty, what a refusal says a store holds, and where two contents differ."""

from __future__ import annotations

import datetime

import attrs
import pytest

from contact_prefs import ConsentPolicy, StoreNotEmptyError
from contact_prefs.chain import GENESIS, chain_after, entries_of
from contact_prefs.consent import Channel, ConsentAction, ConsentEvent
from contact_prefs.contents import StoreContents, check_receivable, differences, holding
from contact_prefs.ledger import new_review
from contact_prefs.proposals import Proposal
from contact_prefs.schedules import new_schedule
from contact_prefs.store import BatchRecord
from contact_prefs.testing.district import DAY, DISTRICT, SPEC

AT = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.UTC)
EVENT = ConsentEvent(
    address="+12805550143",
    action=ConsentAction.REVOKE,
    channel=Channel.KEYWORD_REPLY,
    received_at=AT,
    recorded_by="vendor-feed",
)
BATCH = BatchRecord(batch_id="b1", actor="staff", at=AT, spec=SPEC, counts={}, changes=())
PROPOSAL = Proposal(
    proposal_id="p1",
    spec=SPEC,
    digest="0" * 64,
    counts={},
    proposer="alice",
    at=AT,
    expires_at=AT + datetime.timedelta(days=7),
)
SCHEDULE = new_schedule(SPEC, starts_on=DAY, actor="alice", at=AT, schedule_id="s1")
REVIEW = new_review(
    "r1", address="+12805550143", message="?", channel=Channel.KEYWORD_REPLY, received_at=AT, policy=ConsentPolicy()
)


def test_empty_is_what_a_new_store_holds() -> None:
    assert StoreContents().is_empty()
    for held in (
        StoreContents(records=DISTRICT),
        StoreContents(history=[BATCH]),
        StoreContents(consent_events=[EVENT]),
        StoreContents(reviews=[REVIEW]),
        StoreContents(consent_policy=ConsentPolicy(region="GB")),
    ):
        assert not held.is_empty()


def test_a_refusal_says_what_the_store_holds() -> None:
    held = StoreContents(records=DISTRICT, history=[BATCH], consent_events=[EVENT, EVENT]).holdings()
    assert holding(held) == f"{len(DISTRICT)} records, 1 batch, 2 consent events"
    with pytest.raises(StoreNotEmptyError, match=r"^the store is not empty: it holds 13 records, 1 batch, 2 consent"):
        check_receivable(held, replace=False, store="the store")
    check_receivable(held, replace=True, store="the store")
    check_receivable(StoreContents().holdings(), replace=False, store="the store")
    policy = StoreContents(consent_policy=ConsentPolicy(region="GB")).holdings()
    assert holding(policy) == "a changed consent policy"


def test_differences_name_each_section_and_where() -> None:
    a = StoreContents(records=DISTRICT, history=[BATCH], consent_events=[EVENT])
    assert differences(a, a) == []
    assert differences(a, attrs.evolve(a, records=attrs.evolve(DISTRICT, version="7"))) == []  # a version is no content
    b = attrs.evolve(
        a,
        records=attrs.evolve(DISTRICT, persons=DISTRICT.persons[1:]),
        history=[attrs.evolve(BATCH, actor="other")],
        consent_events=[],
    )
    assert differences(a, b) == [
        "records (persons: 3 and 2)",
        "history (entry 1 of 1 differs)",
        "consent_events (1 entries and 0)",
    ]


def test_ids_are_unique_as_in_every_store() -> None:
    with pytest.raises(ValueError, match="history: entry 2 repeats the batch id"):
        StoreContents(history=[BATCH, BATCH])
    with pytest.raises(ValueError, match="reviews: entry 2 repeats the review id"):
        StoreContents(reviews=[REVIEW, REVIEW])


def test_proposals_schedules_and_the_chain_are_sections() -> None:
    entries = entries_of(history=[BATCH], consent_events=[EVENT], policy_changes=[], proposals=[PROPOSAL])
    links = chain_after(None, entries)
    held = StoreContents(
        history=[BATCH], consent_events=[EVENT], proposals=[PROPOSAL], schedules=[SCHEDULE], chain=links
    )
    assert held.head == links[-1].hash and StoreContents().head == GENESIS
    assert holding(held.holdings()) == "1 batch, 1 consent event, 1 proposal, 1 schedule, 3 chain links"
    assert not StoreContents(schedules=[SCHEDULE]).is_empty()
    assert differences(held, attrs.evolve(held, chain=links[:-1])) == ["chain (3 entries and 2)"]
    with pytest.raises(ValueError, match="proposals: entry 2 repeats the proposal id"):
        StoreContents(proposals=[PROPOSAL, PROPOSAL])
    with pytest.raises(ValueError, match="schedules: entry 2 repeats the schedule id"):
        StoreContents(schedules=[SCHEDULE, SCHEDULE])


