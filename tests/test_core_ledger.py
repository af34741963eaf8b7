"""What the ledger means for stored points (contact_prefs.ledger): loads, floors, reviews."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_prefs import ContactPoint, ContactPrefsError, Method, Reason, ReasonSet
from contact_prefs.consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, revoked_reasons
from contact_prefs.ledger import LOADED_AS_REVOKED, consent_of_load, floors, ledger_key, new_review, resolve

UTC = datetime.UTC
AT = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NUMBER = "+12805550143"
POLICY = ConsentPolicy()
ALL = ReasonSet.all()


def point(owner: str, method: Method, address: str, revoked: object = False) -> ContactPoint:
    return ContactPoint(owner_id=owner, method=method, address=address, revoked=revoked)  # type: ignore[arg-type]


def keys_of(points: list[ContactPoint]) -> list[str | None]:
    return [ledger_key(p.method, p.address, POLICY.region) for p in points]


def revoke(address: str = NUMBER, hours: int = 0) -> ConsentEvent:
    return ConsentEvent(
        address=address,
        action=ConsentAction.REVOKE,
        channel=Channel.KEYWORD_REPLY,
        received_at=AT + datetime.timedelta(hours=hours),
        recorded_by="vendor",
        evidence="STOP",
    )


def test_the_ledger_key_of_a_point_is_its_normalized_address_or_the_address_as_saved() -> None:
    assert ledger_key(Method.CELL_PHONE, "(280) 555-0143", "US") == NUMBER
    assert ledger_key(Method.EMAIL, " Pat@Example.org", "US") == "pat@example.org"
    assert ledger_key(Method.CELL_PHONE, " ext. 12 ", "US") == "ext. 12"  # kept, and reported by loads
    assert ledger_key(Method.EMAIL, "  ", "US") is None


def test_a_revocation_reaches_every_point_holding_the_number_however_it_is_written() -> None:
    points = [
        point("g1", Method.CELL_PHONE, "(280) 555-0143"),
        point("g2", Method.WORK_PHONE, "+1 280 555 0143"),
        point("h1", Method.HOUSEHOLD_PHONE, "280-555-0143"),
        point("g3", Method.CELL_PHONE, "(280) 555-0199"),
    ]
    loaded = consent_of_load(points, keys_of(points), {NUMBER: [revoke()]}, set(), POLICY, at=AT, actor="import")
    assert [p.revoked for p in loaded.points] == [ALL, ALL, ALL, ReasonSet()]
    assert loaded.events == () and loaded.report.kept_revoked == 3


def test_a_load_never_clears_a_revocation_and_counts_the_points_it_kept_revoked() -> None:
    stale = [point("g1", Method.CELL_PHONE, "(280) 555-0143", revoked=False)]
    loaded = consent_of_load(stale, keys_of(stale), {NUMBER: [revoke()]}, set(), POLICY, at=AT, actor="import")
    assert loaded.points[0].revoked == ALL and loaded.report.kept_revoked == 1


def test_a_point_loaded_as_revoked_adds_one_revocation_to_its_address_that_every_holder_then_shares() -> None:
    points = [
        point("g1", Method.CELL_PHONE, "(280) 555-0143", revoked={Reason.GENERAL}),
        point("g2", Method.CELL_PHONE, "280.555.0143", revoked={Reason.GENERAL}),
        point("g3", Method.EMAIL, "pat@example.org"),
    ]
    loaded = consent_of_load(points, keys_of(points), {}, set(), POLICY, at=AT, actor="nightly")
    (event,) = loaded.events  # once for the number, though two points said so
    assert (event.address, event.action, event.channel, event.evidence) == (
        NUMBER,
        ConsentAction.REVOKE,
        Channel.IMPORT,
        LOADED_AS_REVOKED,
    )
    assert event.reasons == ReasonSet({Reason.GENERAL}) and event.recorded_by == "nightly"
    assert [p.revoked for p in loaded.points] == [ALL, ALL, ReasonSet()]  # the policy revokes every reason
    assert loaded.report.revocations == 1


def test_a_load_records_nothing_the_ledger_says_already() -> None:
    points = [point("g1", Method.CELL_PHONE, "(280) 555-0143", revoked=True)]
    loaded = consent_of_load(points, keys_of(points), {NUMBER: [revoke()]}, set(), POLICY, at=AT, actor="import")
    assert loaded.events == () and loaded.points[0].revoked == ALL


def test_addresses_that_cannot_be_normalized_are_reported_by_point_and_kept() -> None:
    points = [
        point("g1", Method.CELL_PHONE, "555-0143"),
        point("g2", Method.EMAIL, "not an address"),
        point("g3", Method.EMAIL, ""),
    ]
    loaded = consent_of_load(points, keys_of(points), {}, set(), POLICY, at=AT, actor="import")
    assert loaded.report.unnormalized == (("g1", Method.CELL_PHONE), ("g2", Method.EMAIL))
    assert [p.address for p in loaded.points] == ["555-0143", "not an address", ""]


def test_a_waiting_review_holds_every_reason_at_its_address() -> None:
    assert floors([NUMBER, "x@example.org"], {}, {NUMBER}, POLICY) == {NUMBER: ALL, "x@example.org": ReasonSet()}


def test_a_review_is_due_ten_business_days_after_receipt_by_the_districts_calendar() -> None:
    policy = ConsentPolicy(holidays={datetime.date(2026, 12, 15)})
    review = new_review(
        "r1",
        address=NUMBER,
        message="no more texts please",
        channel=Channel.KEYWORD_REPLY,
        received_at=AT,
        policy=policy,
    )
    assert review.due_on == datetime.date(2026, 12, 22) and review.waiting
    assert review.overdue(datetime.date(2026, 12, 23)) and not review.overdue(datetime.date(2026, 12, 22))


def test_resolving_a_review_as_a_revocation_records_it_at_the_messages_receipt() -> None:
    review = new_review(
        "r1", address=NUMBER, message="no more", channel=Channel.EMAIL_REPLY, received_at=AT, policy=POLICY
    )
    later = AT + datetime.timedelta(days=3)
    resolved, event = resolve(review, revoked=True, actor="ms. lee", note="clear intent", at=later)
    assert (resolved.resolved_by, resolved.resolved_at, resolved.revoked, resolved.note) == (
        "ms. lee",
        later,
        True,
        "clear intent",
    )
    assert event is not None and (event.received_at, event.evidence, event.channel) == (
        AT,
        "no more",
        Channel.EMAIL_REPLY,
    )
    kept, none = resolve(review, revoked=False, actor="ms. lee", note="asked a question", at=later)
    assert none is None and kept.revoked is False and not kept.waiting
    with pytest.raises(ContactPrefsError, match="resolved already"):
        resolve(resolved, revoked=False, actor="someone", note="", at=later)


PHONES = st.sampled_from(["(280) 555-0143", "280-555-0143", "+1 280 555 0143", "(280) 555-0199", ""])


@given(
    st.lists(st.tuples(PHONES, st.booleans()), max_size=8),
    st.lists(st.sampled_from([NUMBER, "+12805550199"]), max_size=3),
)
def test_after_a_load_no_point_holding_a_revoked_address_is_less_revoked_than_its_ledger(
    loaded_points: list[tuple[str, bool]], revoked_numbers: list[str]
) -> None:
    points = [point(f"g{n}", Method.CELL_PHONE, address, revoked) for n, (address, revoked) in enumerate(loaded_points)]
    ledgers = {number: [revoke(number, n)] for n, number in enumerate(revoked_numbers)}
    loaded = consent_of_load(points, keys_of(points), ledgers, set(), POLICY, at=AT, actor="import")
    extended = {key: [*ledgers.get(key, [])] for key in ledgers}
    for event in loaded.events:
        extended.setdefault(event.address, []).append(event)
    for before, after, key in zip(points, loaded.points, keys_of(points), strict=True):
        assert after.revoked >= before.revoked  # never cleared
        if key is not None:
            assert after.revoked == revoked_reasons(extended.get(key, []), POLICY)  # as its ledger says


def test_loading_the_same_revoked_point_again_records_nothing_more_whatever_the_policy_exempts() -> None:
    exempt = ConsentPolicy(exempt={Reason.EMERGENCY})
    points = [point("g1", Method.CELL_PHONE, "(280) 555-0143", revoked=True)]
    first = consent_of_load(points, keys_of(points), {}, set(), exempt, at=AT, actor="import")
    (event,) = first.events
    again = consent_of_load(points, keys_of(points), {NUMBER: [event]}, set(), exempt, at=AT, actor="import")
    assert again.events == () and again.points[0].revoked == ALL - ReasonSet({Reason.EMERGENCY})


def test_a_point_loaded_as_revoked_while_a_message_waits_records_the_revocation_all_the_same() -> None:
    # The hold of a waiting message lifts if the reviewer reads it as no revocation: the load's must stay.
    points = [point("g1", Method.CELL_PHONE, "(280) 555-0143", revoked=True)]
    loaded = consent_of_load(points, keys_of(points), {}, {NUMBER}, POLICY, at=AT, actor="import")
    assert len(loaded.events) == 1 and loaded.points[0].revoked == ALL


def test_a_load_that_keeps_preferences_sets_aside_the_consent_loaded_at_points_already_stored() -> None:
    from contact_prefs.ledger import set_aside_loaded_consent

    stored = point("g1", Method.CELL_PHONE, "(280) 555-0199", revoked=True)
    new = point("g2", Method.CELL_PHONE, "(280) 555-0143", revoked=True)
    kept = set_aside_loaded_consent([stored, new], {stored.key})
    assert [p.revoked for p in kept] == [ReasonSet(), ALL]  # the new address's ledger decides for g1
