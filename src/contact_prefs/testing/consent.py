"""``ConsentContract``: the consent ledger, the review queue and the policy, as the core's rules say.

The store decides nothing about consent: it keeps each address's events
(only ever appended), the review queue and the district's policy, and gives
every point holding an address ``revoked`` as
:func:`contact_prefs.ledger.floors` says, in the transaction that changed
them.  These tests hold it to that, on a district where one number is saved
three ways (on two guardians' cells and a household phone) and one e-mail
address in two cases.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import collections
import datetime
import logging
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..addresses import DEFAULT_REGION
from ..consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, Review, RevocationScope
from ..enums import Method, Mode, Reason, Setting, Source
from ..errors import ConflictError, ContactPrefsError, UnknownReviewError
from ..ledger import LOADED_AS_REVOKED, LoadReport, PolicyChange, consent_of_load, floors, ledger_key, new_review
from ..ledger import resolve as resolve_review
from ..planning import plan
from ..reasons import ReasonSet
from ..records import ContactPoint, Enrollment, HouseholdMember, Person, Relationship
from ..snapshot import Snapshot
from ..spec import BatchSpec
from ..store import BatchRecord
from . import strategies
from .base import EXAMPLES, ContractBase
from .checks import CheckedStore, mask_of
from .consent_data import ADDRESS_KEYS, MESSAGES, consent_events, consent_policies, undated
from .district import DAY
from .expected import assert_utc, changes_at, point, records, touched

__all__ = [
    "CONSENT_DISTRICT",
    "EMAIL_KEY",
    "NUMBER_KEY",
    "ConsentContract",
]

CheckedFactory = Callable[[], CheckedStore]

ALL, NONE = ReasonSet.all(), ReasonSet()
AT = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.UTC)  # a Friday: its review is due on 2026-12-18

NUMBER_KEY = "+12805550143"
"""One number, saved as "(280) 555-0143", "280-555-0143" and "+1 280 555 0143"."""
EMAIL_KEY = "pat@example.org"
"""One e-mail address, saved as " Pat@Example.org " and "PAT@example.ORG"."""
OTHER_KEY = "+12805550199"
NOBODYS_KEY = "+12805550100"

GA_CELL = ContactPoint(
    owner_id="ga",
    method=Method.CELL_PHONE,
    address="(280) 555-0143",
    enabled={Reason.EMERGENCY, Reason.GENERAL},
    text={Reason.EMERGENCY},
    source=Source.PORTAL,
)
GB_CELL = ContactPoint(owner_id="gb", method=Method.CELL_PHONE, address="280-555-0143", enabled={Reason.EMERGENCY})
HOME = ContactPoint(owner_id="h1", method=Method.HOUSEHOLD_PHONE, address="+1 280 555 0143", enabled={Reason.GENERAL})
GB_WORK = ContactPoint(owner_id="gb", method=Method.WORK_PHONE, address="(280) 555-0199", enabled={Reason.GENERAL})
GA_MAIL = ContactPoint(owner_id="ga", method=Method.EMAIL, address=" Pat@Example.org ", enabled={Reason.GENERAL})
GB_MAIL = ContactPoint(owner_id="gb", method=Method.SECONDARY_EMAIL, address="PAT@example.ORG")
GA_NOTHING = ContactPoint(owner_id="ga", method=Method.WORK_PHONE, address="", enabled={Reason.EMERGENCY})

ON_NUMBER = (GA_CELL, GB_CELL, HOME)
ON_EMAIL = (GA_MAIL, GB_MAIL)
POINTS = (GA_CELL, GB_CELL, HOME, GB_WORK, GA_MAIL, GB_MAIL, GA_NOTHING)
PRIVATE = (
    *(p.address for p in POINTS if p.address),
    *(p.address.strip() for p in POINTS if p.address),
    NUMBER_KEY,
    EMAIL_KEY,
    OTHER_KEY,
    "280 555 0143",
    "2805550143",
)
"""Personal data that must never appear in an error or a log."""

CONSENT_DISTRICT = Snapshot(
    persons=[Person(id=i) for i in ("s1", "ga", "gb")],
    enrollments=[Enrollment(student_id="s1", school_id="north", calendar_id="north:2026")],
    relationships=[Relationship(student_id="s1", contact_id="ga"), Relationship(student_id="s1", contact_id="gb")],
    household_members=[HouseholdMember(household_id="h1", person_id=i) for i in ("s1", "ga")],
    contact_points=POINTS,
)
"""Student s1, guardians ga and gb (Messenger contacts), household h1 of s1 and ga. One number
(:data:`NUMBER_KEY`) on ga's and gb's cells and h1's phone, one e-mail address
(:data:`EMAIL_KEY`) on ga's and gb's e-mail, another number on gb's work phone, and nothing
saved at ga's work phone."""

# Attendance on at every saved point; General off at the four points that have it.
ON_SPEC = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.ATTENDANCE: Setting.ON}, as_of=DAY)
OFF_SPEC = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: Setting.OFF}, as_of=DAY)


def revoke(address: str = NUMBER_KEY, *, hours: float = 0, **fields: Any) -> ConsentEvent:
    """A REVOKE of ``address`` received ``hours`` after :data:`AT` (all reasons unless ``reasons`` says)."""
    fields = {"channel": Channel.KEYWORD_REPLY, "recorded_by": "vendor-feed", "evidence": "STOP", **fields}
    return ConsentEvent(
        address=address, action=ConsentAction.REVOKE, received_at=AT + datetime.timedelta(hours=hours), **fields
    )


def grant(address: str = NUMBER_KEY, *, hours: float = 1, **fields: Any) -> ConsentEvent:
    """A GRANT of ``address`` on a paper form received ``hours`` after :data:`AT`."""
    fields = {"channel": Channel.PAPER_FORM, "recorded_by": "front office", "evidence": "form 12", **fields}
    return ConsentEvent(
        address=address,
        action=ConsentAction.GRANT,
        received_at=AT + datetime.timedelta(hours=hours),
        wording="v3",
        **fields,
    )


def review(review_id: str, address: str = NUMBER_KEY, *, hours: float = 0, message: str = "please don't") -> Review:
    """A message that is no keyword, from ``address``, queued under the default policy."""
    return new_review(
        review_id,
        address=address,
        message=message,
        channel=Channel.KEYWORD_REPLY,
        received_at=AT + datetime.timedelta(hours=hours),
        policy=ConsentPolicy(),
    )


def revoked(store: CheckedStore, *points: ContactPoint) -> list[ReasonSet]:
    """The reasons revoked at ``points``, as the store gives them."""
    held = {p.key: p.revoked for p in store.dump().contact_points}
    return [held[p.key] for p in points]


@attrs.frozen
class ConsentState:
    """Everything a consent write may change: nothing of it may change when one fails."""

    records: Snapshot
    version: str
    history: tuple[BatchRecord, ...]
    ledgers: tuple[tuple[ConsentEvent, ...], ...]
    reviews: tuple[Review, ...]
    policy: ConsentPolicy
    policy_changes: tuple[PolicyChange, ...]

    @classmethod
    def of(cls, store: CheckedStore) -> ConsentState:
        dumped = store.dump()
        return cls(
            records=records(dumped),
            version=dumped.version,
            history=store.history(),
            ledgers=tuple(store.ledger(key) for key in (NUMBER_KEY, EMAIL_KEY, OTHER_KEY, NOBODYS_KEY)),
            reviews=store.reviews(),
            policy=store.consent_policy(),
            policy_changes=store.policy_changes(),
        )


def assert_consent_private(text: str) -> None:
    for address in PRIVATE:
        assert address not in text, "an address (personal data) appears in an error or a log"


def loaded_key(point: ContactPoint) -> str | None:
    return ledger_key(point.method, point.address, DEFAULT_REGION)


class ConsentContract(ContractBase):
    """``record_consent``, ``resolve_review``, ``ledger``, ``reviews``, ``holders``, the policy, and consent
    as loads, commits and undos meet it."""

    @pytest.fixture
    def district(self, store: CheckedStore) -> CheckedStore:
        """``store`` holding :data:`CONSENT_DISTRICT`."""
        report = store.load(CONSENT_DISTRICT)
        assert report == LoadReport()
        return store

    # -- a revocation reaches every point holding the address -------------------------

    def test_a_revocation_reaches_the_number_however_it_is_written(self, district: CheckedStore) -> None:
        assert district.holders(NUMBER_KEY) == tuple(p.key for p in ON_NUMBER)
        district.record_consent([revoke()], actor="vendor-feed")
        expected = [attrs.evolve(p, revoked=ALL) if p in ON_NUMBER else p for p in POINTS]
        assert records(district.dump()) == records(attrs.evolve(CONSENT_DISTRICT, contact_points=expected))
        assert district.ledger(NUMBER_KEY) == (revoke(),)
        assert district.ledger(OTHER_KEY) == ()

    def test_an_email_revocation_reaches_the_address_in_any_case(self, district: CheckedStore) -> None:
        assert district.holders(EMAIL_KEY) == (GA_MAIL.key, GB_MAIL.key)
        district.record_consent([revoke(EMAIL_KEY, channel=Channel.EMAIL_REPLY)], actor="office")
        assert revoked(district, *POINTS) == [NONE, NONE, NONE, NONE, ALL, ALL, NONE]

    def test_a_later_grant_lifts_the_reasons_it_names_and_only_those(self, district: CheckedStore) -> None:
        district.record_consent([revoke(hours=0)], actor="vendor-feed")
        district.record_consent([grant(hours=1, reasons={Reason.ATTENDANCE, Reason.GENERAL})], actor="office")
        lifted = ALL - {Reason.ATTENDANCE, Reason.GENERAL}
        assert revoked(district, *ON_NUMBER) == [lifted] * 3
        # A grant received before the revocation lifts nothing: the latest event covering a reason decides.
        district.record_consent([grant(hours=-2)], actor="office")
        assert revoked(district, *ON_NUMBER) == [lifted] * 3
        district.record_consent([grant(hours=2)], actor="office")
        assert revoked(district, *ON_NUMBER) == [NONE] * 3
        assert revoked(district, GB_WORK, GA_MAIL, GB_MAIL) == [NONE] * 3

    def test_the_named_scope_narrows_a_revocation_to_the_reasons_it_names(self, district: CheckedStore) -> None:
        district.record_consent([revoke(reasons={Reason.GENERAL})], actor="vendor-feed")
        assert revoked(district, *ON_NUMBER) == [ALL] * 3  # the district did not narrow it: all reasons
        named = ConsentPolicy(scope=RevocationScope.NAMED)
        district.set_consent_policy(named, actor="board", why="revoke-all postponed")
        assert revoked(district, *ON_NUMBER) == [ReasonSet({Reason.GENERAL})] * 3  # every point derived anew
        district.set_consent_policy(ConsentPolicy(), actor="board", why="revoke-all in force")
        assert revoked(district, *ON_NUMBER) == [ALL] * 3

    def test_exempt_reasons_are_never_revoked(self, district: CheckedStore) -> None:
        exempt = ConsentPolicy(scope=RevocationScope.NAMED, exempt={Reason.EMERGENCY})
        district.set_consent_policy(exempt, actor="board", why="emergencies still reach families")
        district.record_consent([revoke(reasons={Reason.EMERGENCY, Reason.GENERAL})], actor="vendor-feed")
        assert revoked(district, *ON_NUMBER) == [ReasonSet({Reason.GENERAL})] * 3
        district.record_consent(reviews=[review("r1", EMAIL_KEY)], actor="vendor-feed")
        assert revoked(district, *ON_EMAIL) == [ALL - {Reason.EMERGENCY}] * 2  # held while waiting, but Emergency
        district.set_consent_policy(attrs.evolve(exempt, scope=RevocationScope.ALL), actor="board", why="revoke-all")
        assert revoked(district, *ON_NUMBER) == [ALL - {Reason.EMERGENCY}] * 3

    # -- the review queue ---------------------------------------------------------------

    def test_a_waiting_message_holds_every_reason_at_its_address(self, district: CheckedStore) -> None:
        queued = review("r1", EMAIL_KEY)
        district.record_consent(reviews=[queued], actor="vendor-feed")
        assert revoked(district, *POINTS) == [NONE, NONE, NONE, NONE, ALL, ALL, NONE]
        assert district.reviews() == (queued,)
        assert district.reviews()[0].waiting and district.reviews()[0].due_on == datetime.date(2026, 12, 18)
        assert district.ledger(EMAIL_KEY) == ()  # a waiting message is no event

    def test_a_message_read_as_a_revocation_is_a_revoke_at_its_receipt(self, district: CheckedStore) -> None:
        queued = review("r1", hours=-30, message="no more texts please")
        district.record_consent(reviews=[queued], actor="vendor-feed")
        version = district.dump().version
        at = AT + datetime.timedelta(days=3)
        resolved = district.resolve_review("r1", revoked=True, actor="reviewer", note="a clear request", at=at)
        expected, event = resolve_review(queued, revoked=True, actor="reviewer", note="a clear request", at=at)
        assert resolved == expected and district.reviews() == (expected,)
        assert (resolved.resolved_by, resolved.resolved_at, resolved.revoked) == ("reviewer", at, True)
        assert event is not None and district.ledger(NUMBER_KEY) == (event,)
        assert (event.action, event.received_at, event.evidence) == (
            ConsentAction.REVOKE,
            queued.received_at,
            "no more texts please",
        )
        assert revoked(district, *ON_NUMBER) == [ALL] * 3  # the hold stays, as a revocation now
        assert district.dump().version != version

    def test_a_message_read_as_no_revocation_lifts_the_hold(self, district: CheckedStore) -> None:
        queued = review("r1")
        district.record_consent(reviews=[queued], actor="vendor-feed")
        resolved = district.resolve_review("r1", revoked=False, actor="reviewer", note="a question", at=AT)
        assert resolved == resolve_review(queued, revoked=False, actor="reviewer", note="a question", at=AT)[0]
        assert district.reviews() == (resolved,) and not resolved.waiting
        assert revoked(district, *ON_NUMBER) == [NONE] * 3
        assert district.ledger(NUMBER_KEY) == ()

    def test_a_message_waiting_at_one_address_of_two_keeps_its_hold(self, district: CheckedStore) -> None:
        district.record_consent(reviews=[review("r1"), review("r2", hours=1)], actor="vendor-feed")
        district.resolve_review("r1", revoked=False, actor="reviewer", note="", at=AT)
        assert revoked(district, *ON_NUMBER) == [ALL] * 3  # r2 still waits

    def test_a_review_is_resolved_once(self, district: CheckedStore) -> None:
        district.record_consent(reviews=[review("r1")], actor="vendor-feed")
        district.resolve_review("r1", revoked=False, actor="reviewer", note="", at=AT)
        before = ConsentState.of(district)
        with pytest.raises(ContactPrefsError, match="resolved already") as raised:
            district.resolve_review("r1", revoked=True, actor="someone else", note="", at=AT)
        assert not isinstance(raised.value, UnknownReviewError)
        assert ConsentState.of(district) == before

    def test_an_unknown_review_is_refused(self, district: CheckedStore) -> None:
        district.record_consent(reviews=[review("r1")], actor="vendor-feed")
        before = ConsentState.of(district)
        with pytest.raises(UnknownReviewError, match="r9") as raised:
            district.resolve_review("r9", revoked=True, actor="reviewer", note="", at=AT)
        assert isinstance(raised.value, LookupError)
        assert ConsentState.of(district) == before

    # -- reading the ledger, the queue and the holders ----------------------------------

    def test_the_ledger_is_every_event_of_its_address_in_recording_order(self, district: CheckedStore) -> None:
        first = [revoke(hours=5), grant(EMAIL_KEY, hours=1)]
        second = [grant(hours=-3), revoke(hours=2, channel=Channel.PORTAL, evidence="portal opt-out")]
        district.record_consent(first, actor="vendor-feed")
        assert district.ledger(NUMBER_KEY) == (first[0],)
        district.record_consent(second, actor="front office")
        assert district.ledger(NUMBER_KEY) == (first[0], *second)  # as recorded, not as received
        assert district.ledger(EMAIL_KEY) == (first[1],)
        assert district.ledger(NOBODYS_KEY) == ()
        assert district.ledger("(280) 555-0143") == ()  # a key, not an address as saved

    def test_reviews_are_listed_in_queue_order(self, district: CheckedStore) -> None:
        r3, r1, r2 = review("r3", hours=2), review("r1", EMAIL_KEY), review("r2", OTHER_KEY, hours=-1)
        district.record_consent(reviews=[r3, r1], actor="vendor-feed")
        district.record_consent(reviews=[r2], actor="vendor-feed")
        resolved = district.resolve_review("r1", revoked=True, actor="reviewer", note="", at=AT)
        assert district.reviews() == (r3, resolved, r2)

    def test_holders_are_the_points_holding_an_address_in_key_order(self, store: CheckedStore) -> None:
        store.load(attrs.evolve(CONSENT_DISTRICT, contact_points=POINTS[::-1]))
        assert store.holders(NUMBER_KEY) == (("ga", Method.CELL_PHONE), ("gb", Method.CELL_PHONE), HOME.key)
        assert store.holders(OTHER_KEY) == (GB_WORK.key,)
        assert store.holders(NOBODYS_KEY) == ()
        store.load(Snapshot(), remove=Snapshot(contact_points=[GA_CELL]))
        moved = attrs.evolve(GB_CELL, address="(280) 555-0199")
        store.load(Snapshot(contact_points=[moved]), keep_preferences=True)  # a roster moves gb's cell
        assert store.holders(NUMBER_KEY) == (HOME.key,)
        assert store.holders(OTHER_KEY) == (GB_CELL.key, GB_WORK.key)

    def test_the_policy_is_the_default_until_set_and_every_change_is_recorded(self, store: CheckedStore) -> None:
        assert store.consent_policy() == ConsentPolicy()
        assert store.policy_changes() == ()
        exempt = ConsentPolicy(exempt={Reason.EMERGENCY}, holidays={datetime.date(2026, 12, 25)})
        earliest = datetime.datetime.now(datetime.UTC)
        first = store.set_consent_policy(exempt, actor="superintendent", why="board decision 2026-14")
        latest = datetime.datetime.now(datetime.UTC)
        assert (first.policy, first.actor, first.why) == (exempt, "superintendent", "board decision 2026-14")
        assert_utc(first.at)
        assert earliest <= first.at <= latest
        named = attrs.evolve(exempt, scope=RevocationScope.NAMED)
        second = store.set_consent_policy(named, actor="counsel", why="revoke-all postponed")
        assert store.consent_policy() == named
        assert store.policy_changes() == (first, second)

    # -- every consent write is a write ---------------------------------------------------

    def test_every_consent_write_changes_the_version(self, district: CheckedStore) -> None:
        versions = [district.dump().version]

        def wrote() -> None:
            version = district.dump().version
            assert version not in versions
            assert district.snapshot(ON_SPEC).version == version
            versions.append(version)

        district.record_consent([revoke()], actor="vendor-feed")
        wrote()
        district.record_consent([revoke(NOBODYS_KEY)], actor="vendor-feed")  # an address no point holds
        wrote()
        district.record_consent(reviews=[review("r1", EMAIL_KEY)], actor="vendor-feed")
        wrote()
        district.resolve_review("r1", revoked=False, actor="reviewer", note="", at=AT)
        wrote()
        district.set_consent_policy(ConsentPolicy(exempt={Reason.EMERGENCY}), actor="board", why="emergencies")
        wrote()

    # -- batches and undos meet the ledger ----------------------------------------------

    def test_a_plan_made_before_a_revocation_conflicts_where_it_would_switch_a_revoked_reason_on(
        self, district: CheckedStore
    ) -> None:
        changeset = plan(ON_SPEC, district.snapshot(ON_SPEC))
        assert touched(changeset) == {p.key for p in POINTS if p.address}
        district.record_consent([revoke()], actor="vendor-feed")
        before = ConsentState.of(district)
        with pytest.raises(ConflictError) as raised:
            district.commit(changeset, actor="staff")
        assert collections.Counter(raised.value.conflicts) == collections.Counter(changes_at(changeset, *ON_NUMBER))
        assert ConsentState.of(district) == before

    def test_a_plan_that_only_switches_off_goes_through_a_revocation(self, district: CheckedStore) -> None:
        changeset = plan(OFF_SPEC, district.snapshot(OFF_SPEC))
        assert touched(changeset) == {GA_CELL.key, HOME.key, GB_WORK.key, GA_MAIL.key}
        district.record_consent([revoke()], actor="vendor-feed")
        district.commit(changeset, actor="staff")
        after = district.dump()
        for written in (GA_CELL, HOME, GB_WORK, GA_MAIL):
            assert Reason.GENERAL not in point(after, written).enabled
            assert point(after, written).source is Source.BATCH
        assert revoked(district, *ON_NUMBER) == [ALL] * 3

    def test_an_undo_never_switches_a_revoked_reason_back_on(self, district: CheckedStore) -> None:
        done = district.commit(plan(OFF_SPEC, district.snapshot(OFF_SPEC)), actor="staff")
        district.record_consent([revoke(reasons={Reason.GENERAL})], actor="vendor-feed")
        receipt = district.undo(done.batch_id, actor="staff")
        after = district.dump()
        for restored in (GB_WORK, GA_MAIL):  # no revocation there: restored
            assert point(after, restored) == restored
        for held in (GA_CELL, HOME):  # General stays off where it is revoked
            assert point(after, held) == attrs.evolve(
                held, enabled=held.enabled - {Reason.GENERAL}, source=Source.BATCH, revoked=ALL
            )
        assert receipt.applied == 2

    # -- loads meet the ledger ------------------------------------------------------------

    def test_a_stale_load_never_clears_a_revocation_and_counts_the_points_it_kept(
        self, district: CheckedStore
    ) -> None:
        district.record_consent([revoke()], actor="vendor-feed")
        report = district.load(Snapshot(contact_points=[GA_CELL, HOME, GB_WORK]), actor="backup")
        assert report == LoadReport(revocations=0, kept_revoked=2)
        assert revoked(district, *ON_NUMBER, GB_WORK) == [ALL, ALL, ALL, NONE]
        assert district.ledger(NUMBER_KEY) == (revoke(),)

    def test_a_stale_load_keeps_a_waiting_messages_hold(self, district: CheckedStore) -> None:
        district.record_consent(reviews=[review("r1", EMAIL_KEY)], actor="vendor-feed")
        report = district.load(Snapshot(contact_points=[GB_MAIL]), actor="backup")
        assert report == LoadReport(kept_revoked=1)
        assert revoked(district, *ON_EMAIL) == [ALL, ALL]

    def test_a_point_loaded_as_revoked_records_exactly_one_revoke(self, district: CheckedStore) -> None:
        earliest = datetime.datetime.now(datetime.UTC)
        report = district.load(Snapshot(contact_points=[attrs.evolve(HOME, revoked={Reason.GENERAL})]), actor="sis")
        latest = datetime.datetime.now(datetime.UTC)
        # All reasons, unless the district narrows revocations: more than the file said, so counted as kept.
        assert report == LoadReport(revocations=1, kept_revoked=1)
        ((event),) = district.ledger(NUMBER_KEY)
        assert (event.action, event.channel, event.recorded_by, event.evidence, event.reasons) == (
            ConsentAction.REVOKE,
            Channel.IMPORT,
            "sis",
            LOADED_AS_REVOKED,
            ReasonSet({Reason.GENERAL}),
        )
        assert_utc(event.received_at)
        assert earliest <= event.received_at <= latest
        assert revoked(district, *ON_NUMBER) == [ALL] * 3  # every point holding the number
        again = district.load(Snapshot(contact_points=[attrs.evolve(GB_CELL, revoked=True)]), actor="sis")
        assert again == LoadReport() and district.ledger(NUMBER_KEY) == (event,)  # revoked already

    # -- all or nothing ---------------------------------------------------------------------

    @pytest.mark.parametrize("bad", ["one review id twice", "a review id taken", "an actor of only spaces"])
    def test_a_consent_write_that_fails_writes_nothing(self, district: CheckedStore, bad: str) -> None:
        district.record_consent([revoke(OTHER_KEY)], reviews=[review("r1", OTHER_KEY)], actor="vendor-feed")
        before = ConsentState.of(district)
        events, actor = [revoke(), grant(EMAIL_KEY)], "vendor-feed"
        reviews = [review("r2", EMAIL_KEY), review("r3")]
        if bad == "one review id twice":
            reviews.append(review("r2", NUMBER_KEY, hours=1))
        elif bad == "a review id taken":
            reviews.append(review("r1"))
        else:
            actor = "   "
        with pytest.raises(ContactPrefsError):
            district.record_consent(events, reviews=reviews, actor=actor)
        assert ConsentState.of(district) == before

    # -- personal data --------------------------------------------------------------------

    def test_no_address_in_the_errors_or_logs_of_consent(
        self, district: CheckedStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        message = "stop texting 280-555-0143, write to pat@example.org"
        district.load(Snapshot(contact_points=[attrs.evolve(GB_WORK, revoked=True)]), actor="sis")
        # A review id may be what someone typed or pasted: a number, in a queue or not.
        queued = [review("r1", message=message), review(GA_CELL.address, OTHER_KEY)]
        district.record_consent([revoke(), grant(EMAIL_KEY)], reviews=queued, actor="feed")
        district.resolve_review("r1", revoked=True, actor="reviewer", note="", at=AT)
        district.set_consent_policy(ConsentPolicy(exempt={Reason.EMERGENCY}), actor="board", why="emergencies")
        assert district.ledger(NUMBER_KEY) and district.holders(NUMBER_KEY) and district.reviews()
        attempts: list[Callable[[], object]] = [
            lambda: district.record_consent(reviews=[review(GA_CELL.address, EMAIL_KEY)], actor="feed"),
            lambda: district.record_consent(reviews=[review(NUMBER_KEY), review(NUMBER_KEY)], actor="feed"),
            lambda: district.resolve_review("r1", revoked=False, actor="reviewer", note="", at=AT),
            lambda: district.resolve_review(GB_CELL.address, revoked=True, actor="reviewer", note="", at=AT),
            lambda: district.resolve_review(EMAIL_KEY, revoked=True, actor="reviewer", note="", at=AT),
        ]
        for attempt in attempts:
            with pytest.raises(ContactPrefsError) as raised:
                attempt()
            assert_consent_private(str(raised.value))
            assert_consent_private(repr(raised.value))
        assert_consent_private(repr(district.inner))
        assert_consent_private(caplog.text)

    # -- the side channel -----------------------------------------------------------------

    def test_the_stored_revoked_column_is_the_mask_of_the_revoked_reasons(self, district: CheckedStore) -> None:
        district.set_consent_policy(ConsentPolicy(scope=RevocationScope.NAMED), actor="board", why="named")
        district.record_consent([revoke(reasons={Reason.ATTENDANCE, Reason.GENERAL})], actor="vendor-feed")
        for held in ON_NUMBER:
            stored = district.stored(held)
            assert stored is not None and stored.revoked == 2 | 16
        district.set_consent_policy(ConsentPolicy(exempt={Reason.EMERGENCY}), actor="board", why="emergencies")
        for held in ON_NUMBER:
            stored = district.stored(held)
            assert stored is not None and stored.revoked == 255 - 1
        district.record_consent(reviews=[review("r1", EMAIL_KEY)], actor="vendor-feed")
        for held in ON_EMAIL:  # held while the message waits: every reason but the exempt one
            stored = district.stored(held)
            assert stored is not None and stored.revoked == mask_of(ALL - {Reason.EMERGENCY}) == 254
        stored = district.stored(GB_WORK)
        assert stored is not None and stored.revoked == 0

    # -- any ledger -------------------------------------------------------------------------

    @EXAMPLES
    @given(
        generated=strategies.districts(),
        policy=consent_policies(),
        batches=st.lists(st.lists(consent_events(), max_size=4), min_size=1, max_size=3),
        waiting=st.lists(st.sampled_from(ADDRESS_KEYS), max_size=2),
        data=st.data(),
    )
    def test_any_ledger_gives_every_point_holding_an_address_what_the_rules_say(
        self,
        new_checked_store: CheckedFactory,
        generated: Snapshot,
        policy: ConsentPolicy,
        batches: list[list[ConsentEvent]],
        waiting: list[str],
        data: st.DataObject,
    ) -> None:
        keys = [loaded_key(p) for p in generated.contact_points]
        loaded = consent_of_load(generated.contact_points, keys, {}, set(), ConsentPolicy(), at=AT, actor="sis")
        expected = {key: [undated(e) for e in loaded.events if e.address == key] for key in ADDRESS_KEYS}
        queued = [
            review(f"r{n}", key, message=data.draw(MESSAGES, label="message")) for n, key in enumerate(waiting)
        ]
        with new_checked_store() as store:
            report = store.load(generated, actor="sis")
            assert (report.revocations, report.kept_revoked) == (loaded.report.revocations, loaded.report.kept_revoked)
            assert sorted(report.unnormalized, key=_order) == sorted(loaded.report.unnormalized, key=_order)
            store.set_consent_policy(policy, actor="board", why="a decision")
            for events in batches:
                store.record_consent(events, actor="feed")
                for event in events:
                    expected[event.address].append(event)
            store.record_consent(reviews=queued, actor="feed")
            assert store.reviews() == tuple(queued)
            ledgers = {key: store.ledger(key) for key in ADDRESS_KEYS}
            assert {key: [undated(e) for e in ledger] for key, ledger in ledgers.items()} == {
                key: [undated(e) for e in events] for key, events in expected.items()
            }
            floor = floors(ADDRESS_KEYS, ledgers, set(waiting), policy)
            for stored in store.dump().contact_points:
                key = loaded_key(stored)
                if key is not None:
                    assert stored.revoked == floor[key], f"the {stored.method.value} point of {stored.owner_id!r}"
            for key in ADDRESS_KEYS:
                holding = sorted((p.key for p in generated.contact_points if loaded_key(p) == key), key=_order)
                assert store.holders(key) == tuple(holding)


def _order(key: tuple[str, Method]) -> tuple[str, str]:
    return (key[0], key[1].value)

