"""``TransferContract``: ``contents()`` gives everything a store holds, and ``receive()`` writes it back as it was.

What backup, restore and copy rely on: a store's contents, received by a
fresh store of the same backend, read back the same (records, history with
its ids, times and actors, every ledger in order, the review queue, the
policy and its changes), and the received store works on from there (its
batches undo, its ledgers reach the points holding their addresses).  A
store that holds anything refuses to receive, and is left as it was, unless
told to replace what it holds.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, RevocationScope
from ..contents import StoreContents, differences
from ..enums import Reason
from ..errors import StoreNotEmptyError
from ..ledger import new_review
from ..planning import plan
from ..reasons import ReasonSet
from ..snapshot import Snapshot
from ..spec import BatchSpec
from .base import EXAMPLES, ContractBase
from .checks import CheckedStore
from .consent import CONSENT_DISTRICT, EMAIL_KEY, NUMBER_KEY, OFF_SPEC, ON_SPEC, OTHER_KEY
from .consent_data import consent_events
from .district import CROWDED_DISTRICTS, DISTRICT, SPEC, SPECS
from .expected import records

__all__ = ["TransferContract", "fill"]

CheckedFactory = Callable[[], CheckedStore]

AT = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.UTC)


def fill(store: CheckedStore) -> None:
    """Give ``store`` one of everything a store holds: records, a policy change, consent events, a
    review waiting and one resolved as a revocation, a commit that stands and one undone."""
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


def assert_same(received: StoreContents, sent: StoreContents) -> None:
    """``received`` holds what ``sent`` holds, section by section."""
    assert differences(received, sent) == []
    assert records(received.records) == records(sent.records)
    assert received.history == sent.history
    assert received.consent_events == sent.consent_events
    assert received.reviews == sent.reviews
    assert received.consent_policy == sent.consent_policy
    assert received.policy_changes == sent.policy_changes


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
        assert [record.actor for record in contents.history] == ["staff", "staff", "principal"]
        assert contents.consent_events == store.ledger(NUMBER_KEY) + store.ledger(OTHER_KEY)
        assert contents.reviews == store.reviews()
        assert [review.waiting for review in contents.reviews] == [True, False]
        assert contents.consent_policy == store.consent_policy()
        assert contents.policy_changes == store.policy_changes()

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

    def test_a_received_store_works_on(self, store: CheckedStore, new_checked_store: CheckedFactory) -> None:
        fill(store)
        standing = store.contents().history[0]
        with new_checked_store() as target:
            target.receive(store.contents())
            receipt = target.undo(standing.batch_id, actor="principal")  # its points are as the batch left them
            assert receipt.undoes == standing.batch_id
            assert target.history()[-1].undone_by == receipt.batch_id  # newest first: the first batch is last
            target.resolve_review("r-waiting", revoked=False, actor="front office", note="a question", at=AT)
            assert not any(review.waiting for review in target.reviews())
            assert len(target.contents().consent_events) == len(store.contents().consent_events)

    def test_the_points_keep_revoked_as_received(self, new_checked_store: CheckedFactory) -> None:
        # revoked is what the source's ledger said; the receiver writes it as given, deciding nothing.
        point = attrs.evolve(DISTRICT.contact_points[0], revoked=ReasonSet({Reason.GENERAL}))
        sent = StoreContents(records=attrs.evolve(DISTRICT, contact_points=[point, *DISTRICT.contact_points[1:]]))
        with new_checked_store() as target:
            target.receive(sent)
            stored = {p.key: p for p in target.dump().contact_points}
            assert stored[point.key].revoked == ReasonSet({Reason.GENERAL})
            assert target.contents().consent_events == ()

    @pytest.mark.parametrize("held", ["records", "history", "consent_events", "reviews", "policy_changes"])
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
            for held in ("records", "history", "consent_events", "reviews", "policy_changes"):
                _hold(target, held)
            target.receive(sent, replace=True)
            assert_same(target.contents(), sent)
            # The ledger is appended to as before, after a replacement as after any receipt.
            target.record_consent([attrs.evolve(sent.consent_events[0], recorded_by="again")], actor="vendor-feed")
            assert target.contents().consent_events[:-1] == sent.consent_events

    def test_replacing_with_nothing_empties_the_store(self, store: CheckedStore) -> None:
        fill(store)
        store.receive(StoreContents(), replace=True)
        assert store.contents().is_empty()
        assert store.ledger(NUMBER_KEY) == ()

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
    else:
        store.set_consent_policy(ConsentPolicy(region="GB"), actor="board", why="moved")
