"""``TransferContract``: ``contents()`` gives everything a store holds, and ``receive()`` writes it back as it was.

What backup, restore and copy rely on: a store's contents, received by a
fresh store of the same backend, read back the same (records, history with
its ids, times, actors, approvals and schedules, every ledger in order, the
review queue, the policy and its changes, the proposals and schedules as
they stand, the chain's links as they were), the received history verifies
with the sender's head, and the received store works on from there (its
batches undo, its ledgers reach the points holding their addresses, a new
commit chains after the received head).  A store that holds anything
refuses to receive, and is left as it was, unless told to replace what it
holds.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..approval import ApprovalPolicy
from ..chain import EntryKind
from ..consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, RevocationScope
from ..contents import StoreContents, differences
from ..enums import Mode, Reason, Setting
from ..errors import StoreNotEmptyError
from ..governance import apply_proposal, propose, verify_history
from ..ledger import new_review
from ..planning import plan
from ..proposals import ProposalState
from ..reasons import ReasonSet
from ..schedules import ScheduleState, new_schedule
from ..scheduling import run_due
from ..snapshot import Snapshot
from ..spec import BatchSpec
from .base import EXAMPLES, ContractBase
from .checks import CheckedStore
from .consent import CONSENT_DISTRICT, EMAIL_KEY, NUMBER_KEY, OFF_SPEC, ON_SPEC, OTHER_KEY
from .consent_data import consent_events
from .district import CROWDED_DISTRICTS, DAY, DISTRICT, SPEC, SPECS
from .expected import records

__all__ = ["TransferContract", "fill"]

CheckedFactory = Callable[[], CheckedStore]

AT = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.UTC)
APPROVAL = ApprovalPolicy(required=True, max_changes=0)
"""Every batch needs a second person's approval."""
FOOD_OFF = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.FOOD_SERVICE: Setting.OFF}, as_of=DAY)
PRIORITY_ON = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.PRIORITY: Setting.ON}, as_of=DAY)


def _now() -> datetime.datetime:
    # A proposal is applied at the store's own time: it must not have expired by then.
    return datetime.datetime.now(datetime.UTC)


def fill(store: CheckedStore) -> None:
    """Give ``store`` one of everything a store holds: records, a policy change, consent events, a
    review waiting and one resolved as a revocation, a commit that stands and one undone, a
    proposal applied (so a batch names its approval) and one withdrawn, a schedule started (its
    batch names it) and one cancelled, and the chain of all of it."""
    store.load(CONSENT_DISTRICT)
    store.set_consent_policy(
        ConsentPolicy(scope=RevocationScope.NAMED, exempt={Reason.EMERGENCY}), actor="board", why="counsel's advice"
    )
    revoke = ConsentEvent(
        address=NUMBER_KEY,
        action=ConsentAction.REVOKE,
        channel=Channel.KEYWORD_REPLY,
        received_at=AT,
        recorded_by="vendor-feed",
        reasons={Reason.GENERAL},
        evidence="STOP",
    )
    waiting = new_review(
        "r-waiting",
        address=EMAIL_KEY,
        message="who is this?",
        channel=Channel.EMAIL_REPLY,
        received_at=AT,
        policy=ConsentPolicy(),
    )
    read = new_review(
        "r-read",
        address=OTHER_KEY,
        message="no more please",
        channel=Channel.KEYWORD_REPLY,
        received_at=AT,
        policy=ConsentPolicy(),
    )
    store.record_consent([revoke], reviews=[waiting, read], actor="vendor-feed")
    store.resolve_review("r-read", revoked=True, actor="front office", note="a revocation", at=AT)
    store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="staff")
    undone = store.commit(plan(ON_SPEC, store.snapshot(ON_SPEC)), actor="staff")
    store.undo(undone.batch_id, actor="principal")
    applied, _ = propose(store, ON_SPEC, actor="alice", policy=APPROVAL, at=_now())
    store.approve(applied.proposal_id, actor="bob", at=_now())
    apply_proposal(store, applied.proposal_id, actor="bob", at=_now())
    withdrawn, _ = propose(store, PRIORITY_ON, actor="alice", policy=APPROVAL, at=_now())
    store.withdraw(withdrawn.proposal_id, actor="alice", at=_now())
    store.save_schedule(
        new_schedule(FOOD_OFF, starts_on=DAY, ends_on=DAY + datetime.timedelta(days=30), actor="alice", at=AT)
    )
    (ran,) = run_due(store, today=DAY, actor="job")
    assert ran.receipt is not None, ran.problem
    cancelled = new_schedule(PRIORITY_ON, starts_on=DAY + datetime.timedelta(days=60), actor="alice", at=AT)
    store.save_schedule(cancelled)
    store.cancel_schedule(cancelled.schedule_id, actor="principal", at=AT)


def assert_same(received: StoreContents, sent: StoreContents) -> None:
    """``received`` holds what ``sent`` holds, section by section."""
    assert differences(received, sent) == []
    assert records(received.records) == records(sent.records)
    assert received.history == sent.history
    assert received.consent_events == sent.consent_events
    assert received.reviews == sent.reviews
    assert received.consent_policy == sent.consent_policy
    assert received.policy_changes == sent.policy_changes
    assert received.proposals == sent.proposals
    assert received.schedules == sent.schedules
    assert received.chain == sent.chain and received.head == sent.head


class TransferContract(ContractBase):
    """``contents()`` and ``receive()``: everything out of one store and into another, as it was."""

    def test_a_new_store_holds_nothing(self, store: CheckedStore) -> None:
        contents = store.contents()
        assert contents.is_empty()
        assert contents.history == () and contents.consent_events == () and contents.reviews == ()
        assert contents.consent_policy == ConsentPolicy()

    def test_contents_hold_everything_the_store_holds(self, store: CheckedStore) -> None:
        fill(store)
        contents = store.contents()
        assert not contents.is_empty()
        assert records(contents.records) == records(store.dump())
        assert contents.history == tuple(reversed(store.history()))  # oldest first
        assert [record.actor for record in contents.history] == ["staff", "staff", "principal", "bob", "job"]
        assert contents.consent_events == store.ledger(NUMBER_KEY) + store.ledger(OTHER_KEY)
        assert contents.reviews == store.reviews()
        assert [review.waiting for review in contents.reviews] == [True, False]
        assert contents.consent_policy == store.consent_policy()
        assert contents.policy_changes == store.policy_changes()
        assert contents.proposals == store.proposals()
        assert [p.state(_now()) for p in contents.proposals] == [ProposalState.APPLIED, ProposalState.WITHDRAWN]
        assert contents.schedules == store.schedules()
        assert [s.state for s in contents.schedules] == [ScheduleState.ACTIVE, ScheduleState.CANCELLED]
        assert contents.chain == store.chain()
        assert verify_history(store).head == contents.head
        by_id = {record.batch_id: record for record in contents.history}
        assert by_id[contents.proposals[0].batch_id or ""].approval is not None  # the batch names its approval
        assert by_id[contents.schedules[0].start_batch or ""].schedule_id == contents.schedules[0].schedule_id

    def test_received_contents_read_back_as_they_were_sent(
        self, store: CheckedStore, new_checked_store: CheckedFactory
    ) -> None:
        fill(store)
        sent = store.contents()
        with new_checked_store() as target:
            target.receive(sent)
            assert_same(target.contents(), sent)
            assert target.history() == store.history()
            assert target.batches() == store.batches()
            assert target.ledger(NUMBER_KEY) == store.ledger(NUMBER_KEY)
            assert target.holders(NUMBER_KEY) == store.holders(NUMBER_KEY)  # keys computed as a load does
            assert target.holders(EMAIL_KEY) == store.holders(EMAIL_KEY)
            assert target.proposals() == store.proposals()
            assert target.schedules() == store.schedules()
            report = verify_history(target)
            assert report.intact, report.problem
            assert report.head == sent.head == verify_history(store).head

    def test_a_received_store_works_on(self, store: CheckedStore, new_checked_store: CheckedFactory) -> None:
        fill(store)
        sent = store.contents()
        with new_checked_store() as target:
            target.receive(sent)
            # Its schedule ends as it would have in the store it came from: the first write, chained
            # after the received head.
            (ended,) = run_due(target, today=DAY + datetime.timedelta(days=30), actor="job")
            assert ended.receipt is not None, ended.problem
            assert target.schedules()[0].end_batch == ended.receipt.batch_id
            links = target.chain()
            assert links[: len(sent.chain)] == sent.chain
            after = links[len(sent.chain)]
            assert (after.kind, after.key, after.prev) == (EntryKind.BATCH, ended.receipt.batch_id, sent.head)
            # The batch applied through a proposal undoes: its points are as it left them again.
            applied = sent.proposals[0].batch_id
            assert applied is not None
            receipt = target.undo(applied, actor="principal")
            assert receipt.undoes == applied
            assert {record.batch_id: record.undone_by for record in target.history()}[applied] == receipt.batch_id
            target.resolve_review("r-waiting", revoked=False, actor="front office", note="a question", at=AT)
            assert not any(review.waiting for review in target.reviews())
            assert len(target.contents().consent_events) == len(sent.consent_events)
            report = verify_history(target, expect_head=sent.head)
            assert report.intact, report.problem

    def test_the_points_keep_revoked_as_received(self, new_checked_store: CheckedFactory) -> None:
        # revoked is what the source's ledger said; the receiver writes it as given, deciding nothing.
        point = attrs.evolve(DISTRICT.contact_points[0], revoked=ReasonSet({Reason.GENERAL}))
        sent = StoreContents(records=attrs.evolve(DISTRICT, contact_points=[point, *DISTRICT.contact_points[1:]]))
        with new_checked_store() as target:
            target.receive(sent)
            stored = {p.key: p for p in target.dump().contact_points}
            assert stored[point.key].revoked == ReasonSet({Reason.GENERAL})
            assert target.contents().consent_events == ()

    def test_the_demo_mark_goes_with_the_contents(self, store: CheckedStore, new_checked_store: CheckedFactory) -> None:
        store.load(DISTRICT, demo=True)
        sent = store.contents()
        assert sent.demo is True
        with new_checked_store() as target:
            target.receive(sent)
            assert target.holds_demo() and target.contents().demo
            # Replacing a demo store with real data leaves no mark behind.
            target.receive(StoreContents(records=DISTRICT), replace=True)
            assert not target.holds_demo() and not target.contents().demo

    @pytest.mark.parametrize(
        "held", ["records", "history", "consent_events", "reviews", "policy_changes", "proposals", "schedules"]
    )
    def test_a_store_that_holds_anything_refuses_and_is_left_as_it_was(
        self, held: str, store: CheckedStore, new_checked_store: CheckedFactory
    ) -> None:
        fill(store)
        with new_checked_store() as target:
            _hold(target, held)
            before = target.contents()
            with pytest.raises(StoreNotEmptyError, match="not empty"):
                target.receive(store.contents())
            assert_same(target.contents(), before)

    def test_replace_erases_what_the_store_held(self, store: CheckedStore, new_checked_store: CheckedFactory) -> None:
        fill(store)
        sent = store.contents()
        with new_checked_store() as target:
            for held in ("records", "history", "consent_events", "reviews", "policy_changes", "proposals", "schedules"):
                _hold(target, held)
            target.receive(sent, replace=True)
            assert_same(target.contents(), sent)
            assert verify_history(target).head == sent.head
            # The ledger is appended to as before, after a replacement as after any receipt.
            target.record_consent([attrs.evolve(sent.consent_events[0], recorded_by="again")], actor="vendor-feed")
            assert target.contents().consent_events[:-1] == sent.consent_events

    def test_replacing_with_nothing_empties_the_store(self, store: CheckedStore) -> None:
        fill(store)
        store.receive(StoreContents(), replace=True)
        assert store.contents().is_empty()
        assert store.ledger(NUMBER_KEY) == ()
        assert store.chain() == () and store.proposals() == () and store.schedules() == ()
        # The chain starts again from nothing.
        store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        assert [link.seq for link in store.chain()] == [1]
        assert verify_history(store).intact

    @EXAMPLES
    @given(
        district=CROWDED_DISTRICTS,
        specs=st.lists(SPECS, max_size=3),
        events=st.lists(consent_events(), max_size=4),
        undo_first=st.booleans(),
    )
    def test_any_district_round_trips(
        self,
        new_checked_store: CheckedFactory,
        district: Snapshot,
        specs: list[BatchSpec],
        events: list[ConsentEvent],
        undo_first: bool,
    ) -> None:
        with new_checked_store() as source, new_checked_store() as target:
            source.load(district)
            source.record_consent(events, actor="vendor-feed")
            receipts = [source.commit(plan(spec, source.snapshot(spec)), actor="staff") for spec in specs]
            if undo_first and receipts:
                source.undo(receipts[-1].batch_id, actor="staff")
            sent = source.contents()
            target.receive(sent)
            assert_same(target.contents(), sent)


def _hold(store: CheckedStore, held: str) -> None:
    """Give an empty store one kind of thing to hold."""
    if held == "records":
        store.load(DISTRICT)
    elif held == "history":
        store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")  # a batch that changes nothing: no records
    elif held == "consent_events":
        store.record_consent(
            [
                ConsentEvent(
                    address=OTHER_KEY,
                    action=ConsentAction.GRANT,
                    channel=Channel.PAPER_FORM,
                    received_at=AT,
                    recorded_by="front office",
                )
            ],
            actor="front office",
        )
    elif held == "reviews":
        review = new_review(
            "r-other",
            address=OTHER_KEY,
            message="?",
            channel=Channel.KEYWORD_REPLY,
            received_at=AT,
            policy=ConsentPolicy(),
        )
        store.record_consent(reviews=[review], actor="vendor-feed")
    elif held == "proposals":
        propose(store, SPEC, actor="alice", policy=APPROVAL, at=_now())
    elif held == "schedules":
        store.save_schedule(new_schedule(SPEC, starts_on=DAY, actor="alice", at=AT, schedule_id="other"))
    else:
        store.set_consent_policy(ConsentPolicy(region="GB"), actor="board", why="moved")
