"""The consent ledger's rules (contact_prefs.consent) and address keys (contact_prefs.addresses)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_prefs import Method, Reason, ReasonSet
from contact_prefs.addresses import address_key, email_key, phone_key, typed_address_key
from contact_prefs.consent import (
    REVOCATION_KEYWORDS,
    Channel,
    ConsentAction,
    ConsentEvent,
    ConsentPolicy,
    RevocationScope,
    is_revocation_keyword,
    reading_of,
    review_due,
    revoked_reasons,
)
from contact_prefs.identifiers import IdError

UTC = datetime.UTC
NUMBER = "+12805550143"
MONDAY = datetime.datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def event(action: str, hours: int = 0, reasons: set[Reason] | None = None, **fields: object) -> ConsentEvent:
    return ConsentEvent(
        address=NUMBER,
        action=action,
        channel=fields.pop("channel", Channel.FRONT_OFFICE),
        received_at=MONDAY + datetime.timedelta(hours=hours),
        recorded_by="office",
        **({} if reasons is None else {"reasons": reasons}),
        **fields,  # type: ignore[arg-type]
    )


# --- address keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["(280) 555-0143", "280-555-0143", "+1 280 555 0143", " 2805550143 "])
def test_one_number_however_it_is_written(written: str) -> None:
    assert phone_key(written) == NUMBER
    assert address_key(Method.HOUSEHOLD_PHONE, written) == NUMBER


def test_a_number_without_a_country_code_is_in_the_districts_region() -> None:
    assert phone_key("020 7946 0958", "GB") == "+442079460958"
    assert phone_key("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("text", ["", "call the office", "555-0143", "12", "+1 280 555 01432 9"])
def test_what_is_not_a_complete_number_has_no_key(text: str) -> None:
    assert phone_key(text) is None


def test_e_mail_addresses_are_trimmed_and_lower_cased() -> None:
    assert email_key("  Pat.Parent@Example.ORG ") == "pat.parent@example.org"
    assert address_key(Method.SECONDARY_EMAIL, "PAT@example.org") == "pat@example.org"
    assert [email_key(t) for t in ("pat", "pat@", "@example.org", "pat @example.org", "pat@localhost")] == [None] * 5


def test_a_typed_address_is_an_e_mail_address_when_it_has_an_at_sign() -> None:
    assert typed_address_key("Pat@Example.org") == "pat@example.org"
    assert typed_address_key("(280) 555-0143") == NUMBER


# --- revocation keywords and the review clock --------------------------------------------------


@pytest.mark.parametrize("keyword", sorted(REVOCATION_KEYWORDS))
def test_each_keyword_alone_revokes_in_any_case_and_spacing(keyword: str) -> None:
    for message in (keyword, keyword.upper(), f"  {keyword.title()}\n", keyword.replace(" ", "   ")):
        assert is_revocation_keyword(message)
        read = reading_of(message, address=NUMBER, channel=Channel.KEYWORD_REPLY, received_at=MONDAY, recorded_by="x")
        assert read is not None and read.action is ConsentAction.REVOKE and read.evidence == message
        assert read.reasons == ReasonSet.all() and read.received_at == MONDAY


@pytest.mark.parametrize("message", ["please stop", "stop.", "STOP texting me", "no more", "unsub", "opt-out", ""])
def test_any_other_message_goes_to_a_person(message: str) -> None:
    assert not is_revocation_keyword(message)
    assert reading_of(message, address=NUMBER, channel=Channel.EMAIL_REPLY, received_at=MONDAY, recorded_by="x") is None


def test_ten_business_days_skip_the_weekends() -> None:
    friday = datetime.datetime(2026, 12, 4, 23, 59, tzinfo=UTC)
    assert review_due(friday) == datetime.date(2026, 12, 18)  # two weekends inside
    saturday = friday + datetime.timedelta(days=1)
    assert review_due(saturday) == datetime.date(2026, 12, 18)  # a weekend receipt starts on Monday too
    assert review_due(MONDAY) == datetime.date(2026, 12, 21)


def test_a_listed_holiday_does_not_count() -> None:
    holidays = {datetime.date(2026, 12, 25), datetime.date(2027, 1, 1)}
    assert review_due(datetime.datetime(2026, 12, 21, tzinfo=UTC), holidays) == datetime.date(2027, 1, 6)
    assert review_due(datetime.datetime(2026, 12, 21, tzinfo=UTC)) == datetime.date(2027, 1, 4)


# --- what the ledger says ----------------------------------------------------------------------

ALL = ReasonSet.all()
POLICY = ConsentPolicy()


def test_no_events_no_revocation() -> None:
    assert revoked_reasons([], POLICY) == ReasonSet()


def test_a_revocation_covers_every_reason_by_default_even_when_it_names_some() -> None:
    assert revoked_reasons([event("revoke", reasons={Reason.GENERAL})], POLICY) == ALL


def test_a_district_may_narrow_revocations_to_the_reasons_named() -> None:
    named = ConsentPolicy(scope=RevocationScope.NAMED)
    assert revoked_reasons([event("revoke", reasons={Reason.GENERAL})], named) == ReasonSet({Reason.GENERAL})


def test_only_a_later_grant_lifts_a_revocation_and_only_for_the_reasons_it_names() -> None:
    grant = event("grant", 1, {Reason.ATTENDANCE, Reason.EMERGENCY}, wording="consent-v3")
    assert revoked_reasons([event("revoke"), grant], POLICY) == ALL - ReasonSet({Reason.ATTENDANCE, Reason.EMERGENCY})


def test_the_latest_event_by_receipt_decides_whatever_order_they_were_recorded_in() -> None:
    revoke_later = event("revoke", 5)  # e.g. a review resolved as a revocation, dated at its receipt
    assert revoked_reasons([revoke_later, event("grant", 1)], POLICY) == ALL
    assert revoked_reasons([event("grant", 9), revoke_later], POLICY) == ReasonSet()


def test_exempt_reasons_are_never_revoked() -> None:
    exempt = ConsentPolicy(exempt={Reason.EMERGENCY})
    assert revoked_reasons([event("revoke")], exempt) == ALL - ReasonSet({Reason.EMERGENCY})
    assert revoked_reasons([], exempt, awaiting_review=True) == ALL - ReasonSet({Reason.EMERGENCY})


def test_a_message_awaiting_review_holds_every_reason_even_after_a_grant() -> None:
    assert revoked_reasons([event("grant")], POLICY, awaiting_review=True) == ALL


def test_an_event_is_checked_where_it_enters() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        naive = datetime.datetime(2026, 12, 7)
        ConsentEvent(address=NUMBER, action="revoke", channel="portal", received_at=naive, recorded_by="x")
    with pytest.raises(IdError):
        ConsentEvent(address=NUMBER, action="revoke", channel="portal", received_at=MONDAY, recorded_by="a\nb")
    with pytest.raises(ValueError, match="at least one reason"):
        event("grant", reasons=set())
    with pytest.raises(ValueError):
        event("pause")


EVENTS = st.lists(
    st.builds(
        lambda action, hours, reasons: event(action, hours, reasons),
        st.sampled_from(["grant", "revoke"]),
        st.integers(0, 48),
        st.sets(st.sampled_from(list(Reason)), min_size=1),
    ),
    max_size=8,
)
POLICIES = st.builds(
    ConsentPolicy,
    scope=st.sampled_from(list(RevocationScope)),
    exempt=st.sets(st.sampled_from(list(Reason)), max_size=2),
)


@given(EVENTS, POLICIES)
def test_a_revocation_received_last_always_stands(events: list[ConsentEvent], policy: ConsentPolicy) -> None:
    last = event("revoke", 49, {Reason.GENERAL})
    assert revoked_reasons([*events, last], policy) >= last.covers(policy)


@given(EVENTS, POLICIES)
def test_the_ledger_is_read_the_same_in_any_recording_order_of_distinct_times(
    events: list[ConsentEvent], policy: ConsentPolicy
) -> None:
    distinct = list({e.received_at: e for e in events}.values())
    assert revoked_reasons(distinct, policy) == revoked_reasons(reversed(distinct), policy)
    assert not revoked_reasons(distinct, policy) & policy.exempt


def test_what_the_ledger_tells_of_a_day_counts_events_and_waiting_messages_by_then() -> None:
    from contact_prefs.consent import revoked_on
    from contact_prefs.ledger import new_review, resolve

    monday, tuesday = MONDAY.date(), MONDAY.date() + datetime.timedelta(days=1)
    events = [event("grant", -48), event("revoke", 30)]  # granted on Saturday, revoked on Tuesday
    assert revoked_on(monday, events, [], POLICY) == ReasonSet()
    assert revoked_on(tuesday, events, [], POLICY) == ALL
    channel = Channel.EMAIL_REPLY
    review = new_review("r1", address=NUMBER, message="no more", channel=channel, received_at=MONDAY, policy=POLICY)
    kept, _ = resolve(review, revoked=False, actor="ms. lee", note="", at=MONDAY + datetime.timedelta(days=1))
    assert revoked_on(monday, events[:1], [kept], POLICY) == ALL  # the message waited on Monday
    assert revoked_on(tuesday, events[:1], [kept], POLICY) == ReasonSet()  # and was read on Tuesday
