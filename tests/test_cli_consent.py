"""``contact-prefs consent ...`` and what ``import``, ``plan`` and ``apply`` say about consent, on SQLite files.

The district: a student, two guardians and their household share one phone
number written three ways ((280) 555-0143, 280-555-0143, +1 280 555 0143);
another number and two e-mail addresses belong to one guardian each; one work
phone is too short to be a number.  Commands run in process (``main``, what
``contact-prefs`` runs).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest

from contact_prefs import open_store
from contact_prefs.cli import main
from contact_prefs.consent import REVOCATION_KEYWORDS, Channel, ConsentAction
from contact_prefs.enums import Method, Reason
from contact_prefs.formats import write_csv
from contact_prefs.ledger import new_review
from contact_prefs.reasons import ReasonSet
from contact_prefs.records import ContactPoint, Enrollment, HouseholdMember, Person, Relationship
from contact_prefs.snapshot import Snapshot

SHARED = ("(280) 555-0143", "280-555-0143", "+1 280 555 0143")
SHARED_KEY = "+12805550143"
OTHER = "(280) 555-0177"
EMAIL = "Pat.Doe@Example.org"
UNNORMALIZED = "555-01"
SHARED_HOLDERS = [("gdn-1", "cell_phone"), ("gdn-2", "cell_phone"), ("hh-1", "household_phone")]
# What no output but a proof may hold: the shared number and the e-mail address, however written.
PERSONAL = ("555-0143", "555 0143", "5550143", "pat.doe", "555-0177", "5550177")
FRIDAY = "2026-11-20T16:05:00Z"
"""A Friday in the past: its review is due ten business days later, on 2026-12-04."""
ALL = [reason.value for reason in Reason]


def district() -> Snapshot:
    return Snapshot(
        persons=[Person(id="stu-1", name="Sam"), Person(id="gdn-1", name="Pat"), Person(id="gdn-2", name="Lee")],
        household_members=[HouseholdMember(household_id="hh-1", person_id=p) for p in ("stu-1", "gdn-1")],
        enrollments=[Enrollment(student_id="stu-1", school_id="north", calendar_id="north:2026")],
        relationships=[Relationship(student_id="stu-1", contact_id=c) for c in ("gdn-1", "gdn-2")],
        contact_points=[
            ContactPoint(owner_id="gdn-1", method=Method.CELL_PHONE, address=SHARED[0]),
            ContactPoint(owner_id="gdn-2", method=Method.CELL_PHONE, address=SHARED[1]),
            ContactPoint(owner_id="hh-1", method=Method.HOUSEHOLD_PHONE, address=SHARED[2]),
            ContactPoint(owner_id="gdn-2", method=Method.OTHER_PHONE, address=OTHER),
            ContactPoint(owner_id="gdn-1", method=Method.EMAIL, address=EMAIL),
            ContactPoint(owner_id="gdn-1", method=Method.WORK_PHONE, address=UNNORMALIZED),
        ],
    )


@pytest.fixture
def url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A SQLite store holding the district, imported from native CSV files in ``tmp_path/files``."""
    write_csv(district(), tmp_path / "files")
    store = f"sqlite:///{tmp_path / 'district.db'}"
    out = ok(capsys, "--store", store, "import", "csv", str(tmp_path / "files"))
    assert "contact_points             6" in out
    return store


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = cli(capsys, *args)
    assert (code, err) == (0, ""), (out, err)
    return out


def fails(capsys: pytest.CaptureFixture[str], *args: str, code: int = 2) -> str:
    got, out, err = cli(capsys, *args)
    assert (got, out) == (code, ""), (out, err)
    assert err.startswith(("contact-prefs: error: ", "usage: contact-prefs ")) and "Traceback" not in err
    return err


def consent(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> Any:
    """``consent ARGS --format json``, which must succeed: its JSON."""
    return json.loads(ok(capsys, "--store", url, "consent", *args, "--format", "json"))


def replies(tmp_path: Path, *rows: tuple[str, ...], header: str = "address,message,received_at,channel") -> str:
    path = tmp_path / "replies.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header.split(","))
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return str(path)


def revoked(url: str) -> dict[tuple[str, str], ReasonSet]:
    with open_store(url) as store:
        return {(p.owner_id, p.method.value): p.revoked for p in store.dump().contact_points}


def shared_revoked(url: str) -> set[ReasonSet]:
    points = revoked(url)
    return {points[key] for key in SHARED_HOLDERS}


# -- consent import ------------------------------------------------------------------


@pytest.mark.parametrize("keyword", sorted(REVOCATION_KEYWORDS))
def test_each_keyword_revokes_at_once_every_point_holding_the_number(
    keyword: str, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = f"  {keyword.upper()} "  # any case, spaces around
    summary = consent(capsys, url, "import", replies(tmp_path, (SHARED[1], message, FRIDAY, "")), "--actor", "ann")
    assert summary == {
        "file": str(tmp_path / "replies.csv"),
        "lines": 1,
        "revocations": 1,
        "reviews": 0,
        "unmatched": 0,
        "unmatched_lines": [],
    }
    assert shared_revoked(url) == {ReasonSet.all()}  # one number, written three ways, on three owners
    assert revoked(url)[("gdn-2", "other_phone")] == ReasonSet()
    with open_store(url) as store:
        (event,) = store.ledger(SHARED_KEY)
        assert store.reviews() == ()
    assert (event.action, event.channel, event.evidence, event.recorded_by) == (
        ConsentAction.REVOKE,
        Channel.KEYWORD_REPLY,
        message,
        "ann",
    )
    assert event.received_at == datetime.datetime(2026, 11, 20, 16, 5, tzinfo=datetime.UTC)


def test_free_text_goes_to_the_queue_and_holds_the_address_meanwhile(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = replies(
        tmp_path,
        (SHARED[0], "please stop texting me", FRIDAY, "email_reply"),
        ("pat.doe@example.org", "Unsubscribe", FRIDAY, "email-reply"),
    )
    summary = consent(capsys, url, "import", file, "--actor", "ann")
    assert (summary["revocations"], summary["reviews"], summary["unmatched"]) == (1, 1, 0)
    with open_store(url) as store:
        assert store.ledger(SHARED_KEY) == ()  # nothing decided: a person must read it
        (review,) = store.reviews()
    assert (review.address, review.message) == (SHARED_KEY, "please stop texting me")
    assert review.channel is Channel.EMAIL_REPLY
    assert review.due_on == datetime.date(2026, 12, 4) and review.waiting
    assert shared_revoked(url) == {ReasonSet.all()}  # the safe reading while it waits
    assert revoked(url)[("gdn-1", "email")] == ReasonSet.all()


def test_a_reply_from_an_address_no_point_holds_is_recorded_and_counted_unmatched(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = replies(tmp_path, (SHARED[0], "stop", FRIDAY, ""), ("(280) 555-0199", "STOP", FRIDAY, "key_press"))
    summary = consent(capsys, url, "import", file, "--actor", "ann")
    assert (summary["revocations"], summary["unmatched"], summary["unmatched_lines"]) == (2, 1, [3])
    file = replies(tmp_path, ("2805550199", "x", FRIDAY), header="address,message,received_at")  # no channel
    text = ok(capsys, "--store", url, "consent", "import", file, "--actor", "a")
    assert "unmatched                     1" in text and "(line 2)" in text and "555" not in text
    with open_store(url) as store:
        assert [e.channel for e in store.ledger("+12805550199")] == [Channel.KEY_PRESS]
        assert len(store.reviews()) == 1


def test_a_bad_reply_file_names_file_line_and_column_and_records_nothing(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        "2026-11-20 16:05": "line 3, column received_at: ... has no time zone",
        "Friday": "line 3, column received_at: 'Friday' is not a moment in ISO 8601",
        "2099-01-01T00:00:00Z": "line 3, column received_at: '2099-01-01T00:00:00Z' is in the future",
    }
    for moment, problem in cases.items():
        file = replies(tmp_path, (SHARED[0], "stop", FRIDAY, ""), (OTHER, "stop", moment, ""))
        error = fails(capsys, "--store", url, "consent", "import", file, "--actor", "ann")
        start, _, end = problem.partition("...")
        assert f"replies.csv, {start}" in error and end in error
    for address, message in (("280-555-014", "the value in column address is not a complete"), ("", "is empty")):
        file = replies(tmp_path, (SHARED[0], "stop", FRIDAY, ""), (address, "stop", FRIDAY, ""))
        error = fails(capsys, "--store", url, "consent", "import", file, "--actor", "ann")
        assert "replies.csv, line 3, column address: the value in column address" in error and message in error
        assert "555" not in error
    file = replies(tmp_path, (SHARED[0], "stop", FRIDAY, "carrier pigeon"))
    error = fails(capsys, "--store", url, "consent", "import", file, "--actor", "ann")
    assert "line 2, column channel: 'carrier pigeon' is not a channel (keyword_reply, key_press" in error
    file = replies(tmp_path, (SHARED[0], "stop"), header="address,message")
    error = fails(capsys, "--store", url, "consent", "import", file, "--actor", "ann")
    assert "line 1: the header lacks the column(s) received_at" in error
    error = fails(capsys, "--store", url, "consent", "import", str(tmp_path / "nowhere.csv"), "--actor", "ann")
    assert "nowhere.csv: is missing" in error
    with open_store(url) as store:
        assert store.ledger(SHARED_KEY) == () and store.reviews() == ()
    assert shared_revoked(url) == {ReasonSet()}


# -- inbox and resolve -----------------------------------------------------------------


def queue(capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path) -> str:
    """Queue one message from the shared number, received on a Friday; its review id."""
    consent(capsys, url, "import", replies(tmp_path, (SHARED[2], "no more calls please", FRIDAY, "")), "--actor", "a")
    with open_store(url) as store:
        (review,) = store.reviews()
    return review.review_id


def test_the_inbox_counts_business_days_across_weekends_and_the_policys_holidays(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consent(capsys, url, "policy", "--holiday", "2026-11-26", "--actor", "ann", "--why", "Thanksgiving")
    review_id = queue(capsys, url, tmp_path)
    # Received Friday 20 November: 23-25, 27 (not the 26th), 30 November and 1-4 December, then Monday the 7th.
    inbox = consent(capsys, url, "inbox", "--as-of", "2026-12-05")  # a Saturday: two days left
    assert (inbox["waiting"], inbox["overdue"]) == (1, 0)
    (item,) = inbox["reviews"]
    assert item == {
        "review_id": review_id,
        "received_at": "2026-11-20T16:05:00+00:00",
        "due_on": "2026-12-07",
        "days_left": 2,
        "overdue": False,
        "channel": "keyword_reply",
        "holders": 3,
        "message": "no more calls please",
    }
    text = ok(capsys, "--store", url, "consent", "inbox", "--as-of", "2026-12-07")
    assert "1 message(s) wait for review as of 2026-12-07, 0 overdue" in text and "due today" in text
    code, out, err = cli(capsys, "--store", url, "consent", "inbox", "--as-of", "2026-12-08")
    assert code == 1 and "1 day overdue" in out
    assert err == "contact-prefs: warning: 1 message(s) waiting for review are overdue as of 2026-12-08\n"
    code, out, _ = cli(capsys, "--store", url, "consent", "inbox", "--as-of", "2026-12-08", "--format", "csv")
    assert code == 1
    assert out.splitlines()[0] == "review_id,received_at,due_on,days_left,overdue,channel,holders,message"
    assert f"{review_id},2026-11-20T16:05:00+00:00,2026-12-07,-1,true,keyword_reply,3," in out


def test_resolving_as_a_revocation_records_it_at_the_receipt(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_id = queue(capsys, url, tmp_path)
    resolved = consent(capsys, url, "resolve", review_id[:6], "--revoke", "--actor", "bob", "--note", "clear enough")
    assert (resolved["review_id"], resolved["resolved_by"], resolved["revoked"]) == (review_id, "bob", True)
    assert (resolved["note"], resolved["holders"]) == ("clear enough", 3)
    with open_store(url) as store:
        (event,) = store.ledger(SHARED_KEY)
    assert (event.action, event.evidence, event.recorded_by) == (ConsentAction.REVOKE, "no more calls please", "bob")
    assert event.received_at == datetime.datetime(2026, 11, 20, 16, 5, tzinfo=datetime.UTC)
    assert shared_revoked(url) == {ReasonSet.all()}
    assert consent(capsys, url, "inbox", "--as-of", "2027-06-01")["waiting"] == 0
    assert ok(capsys, "--store", url, "consent", "inbox", "--as-of", "2027-06-01").startswith("No message waits")
    error = fails(capsys, "--store", url, "consent", "resolve", review_id, "--keep", "--actor", "bob")
    assert error == f"contact-prefs: error: review {review_id} was resolved already, by bob\n"


def test_resolving_as_no_revocation_lifts_the_hold(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review_id = queue(capsys, url, tmp_path)
    assert shared_revoked(url) == {ReasonSet.all()}
    text = ok(capsys, "--store", url, "consent", "resolve", review_id, "--keep", "--actor", "bob")
    assert f"Review {review_id} resolved by bob at " in text and ": not a revocation." in text
    with open_store(url) as store:
        assert store.ledger(SHARED_KEY) == ()
        (review,) = store.reviews()
    assert (review.revoked, review.resolved_by, review.note) == (False, "bob", "")
    assert shared_revoked(url) == {ReasonSet()}


def test_a_review_id_names_one_review_or_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(url) as store:
        policy = store.consent_policy()
        moment = datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC)
        reviews = [
            new_review(rid, address=SHARED_KEY, message="?", channel=Channel.PORTAL, received_at=moment, policy=policy)
            for rid in ("abcd0001", "abcd0002")
        ]
        store.record_consent(reviews=reviews, actor="ann")
    resolve = ("--store", url, "consent", "resolve")
    assert "is too short: give at least 4 characters" in fails(capsys, *resolve, "abc", "--keep", "--actor", "b")
    error = fails(capsys, *resolve, "abcd", "--keep", "--actor", "b")
    assert "'abcd' is the beginning of 2 review ids (abcd0001, abcd0002): give more of it" in error
    assert "no review 'ffff' in the queue" in fails(capsys, *resolve, "ffff", "--keep", "--actor", "b")
    assert "an empty review id" in fails(capsys, *resolve, "", "--keep", "--actor", "b")
    assert "one of the arguments --revoke --keep is required" in fails(capsys, *resolve, "abcd0001", "--actor", "b")
    assert consent(capsys, url, "resolve", "abcd0002", "--keep", "--actor", "b")["review_id"] == "abcd0002"


# -- record and policy ---------------------------------------------------------------------


def test_record_revokes_and_a_grant_lifts_only_the_reasons_it_names(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = consent(capsys, url, "record", SHARED[2], "--revoke", "--channel", "Front Office", "--actor", "ann")
    assert {k: recorded[k] for k in ("action", "reasons", "covers", "channel", "recorded_by", "holders")} == {
        "action": "revoke",
        "reasons": ALL,
        "covers": ALL,
        "channel": "front_office",
        "recorded_by": "ann",
        "holders": 3,
    }
    assert shared_revoked(url) == {ReasonSet.all()}
    grant = ("--grant", "--channel", "paper_form", "--reason", "Food-Service", "--reason", "general")
    proof = ("--wording", "v3", "--evidence", "form 17")
    granted = consent(capsys, url, "record", SHARED[0], *grant, *proof, "--actor", "bob")
    named = ["general", "food_service"]
    assert (granted["reasons"], granted["covers"], granted["wording"]) == (named, named, "v3")
    assert shared_revoked(url) == {ReasonSet.all() - ReasonSet([Reason.GENERAL, Reason.FOOD_SERVICE])}
    with open_store(url) as store:
        first, second = store.ledger(SHARED_KEY)
    assert (second.action, second.evidence, second.wording, second.channel) == (
        ConsentAction.GRANT,
        "form 17",
        "v3",
        Channel.PAPER_FORM,
    )
    assert first.received_at < second.received_at


def test_record_refuses_what_it_cannot_record_without_repeating_the_address(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    record = ("--store", url, "consent", "record")
    base = ("--revoke", "--channel", "portal", "--actor", "ann")
    error = fails(capsys, *record, "280-555-014", *base)
    assert "the address given is not a complete phone number or e-mail address" in error
    assert "555" not in error
    error = fails(capsys, *record, SHARED[0], *base, "--received-at", "2026-11-20T16:05")
    assert "argument --received-at: '2026-11-20T16:05' has no time zone" in error
    assert "555" not in error
    assert "is in the future" in fails(capsys, *record, SHARED[0], *base, "--received-at", "2099-01-01T00:00Z")
    error = fails(capsys, *record, SHARED[0], *base, "--reason", "sms")
    assert "unknown reason 'sms'; valid reasons: emergency" in error
    error = fails(capsys, *record, SHARED[0], "--revoke", "--channel", "fax", "--actor", "ann")
    assert "argument --channel: 'fax' is not a channel" in error
    error = fails(capsys, *record, SHARED[0], "--revoke", "--grant", "--channel", "portal", "--actor", "ann")
    assert "not allowed with argument" in error and "555" not in error
    with open_store(url) as store:
        assert store.ledger(SHARED_KEY) == ()


def test_a_received_at_with_an_offset_is_recorded_in_utc(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    at = ("--received-at", "2026-11-20T11:05:00-05:00")
    recorded = consent(capsys, url, "record", EMAIL, "--revoke", "--channel", "web_form", *at, "--actor", "ann")
    assert recorded["received_at"] == "2026-11-20T16:05:00+00:00" and recorded["holders"] == 1
    assert revoked(url)[("gdn-1", "email")] == ReasonSet.all()


def test_the_policy_is_shown_set_with_who_and_why_and_applied_at_once(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert consent(capsys, url, "policy") == {
        "policy": {"scope": "all", "exempt": [], "region": "US", "holidays": []},
        "changes": [],
    }
    consent(capsys, url, "record", SHARED[0], "--revoke", "--channel", "portal", "--actor", "ann")
    change = consent(capsys, url, "policy", "--exempt", "emergency", "--actor", "ann", "--why", "board vote 12")
    assert (change["actor"], change["why"], change["policy"]["exempt"]) == ("ann", "board vote 12", ["emergency"])
    assert shared_revoked(url) == {ReasonSet.all() - ReasonSet([Reason.EMERGENCY])}
    out = ok(capsys, "--store", url, "consent", "policy", "--exempt", "emergency", "--actor", "ann", "--why", "again")
    assert out == "The consent policy is so already: nothing was recorded.\n"
    consent(capsys, url, "policy", "--exempt", "none", "--scope", "named", "--actor", "bob", "--why", "counsel")
    shown = consent(capsys, url, "policy")
    assert shown["policy"] == {"scope": "named", "exempt": [], "region": "US", "holidays": []}
    assert [(c["actor"], c["why"]) for c in shown["changes"]] == [("ann", "board vote 12"), ("bob", "counsel")]
    assert shared_revoked(url) == {ReasonSet.all()}
    text = ok(capsys, "--store", url, "consent", "policy")
    assert "scope     named (a revocation covers the reasons it names)" in text and "board vote 12" in text
    policy = ("--store", url, "consent", "policy")
    assert "--why goes with a change" in fails(capsys, *policy, "--actor", "ann", "--why", "no reason")
    assert "needs --why TEXT" in fails(capsys, *policy, "--scope", "all", "--actor", "ann")
    assert "'ZZ' is not a region code" in fails(capsys, *policy, "--region", "ZZ", "--actor", "a", "--why", "w")
    error = fails(capsys, *policy, "--holiday", "2026-02-30", "--actor", "a", "--why", "w")
    assert "argument --holiday: '2026-02-30' is not a date" in error
    assert len(consent(capsys, url, "policy")["changes"]) == 2


# -- proof, and privacy everywhere else ----------------------------------------------------


def test_proof_shows_the_address_its_ledger_reviews_and_holders(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = ("--grant", "--channel", "paper_form", "--wording", "v2", "--evidence", "form 17")
    consent(capsys, url, "record", SHARED[0], *given, "--received-at", "2026-09-01T12:00:00Z", "--actor", "ann")
    consent(capsys, url, "import", replies(tmp_path, (SHARED[1], "Stop", FRIDAY, "")), "--actor", "vendor")
    text = ok(capsys, "--store", url, "consent", "proof", SHARED[2])
    lines = text.splitlines()
    assert lines[0] == f"Proof of consent for {SHARED[2]} (key {SHARED_KEY})"
    assert lines[1] == "This output shows the address asked about: it is personal data."
    assert lines[2].startswith("Revoked now for: all (a revocation covers every reason; exempt: none)")
    assert "1  2026-09-01 12:00:00  grant   all      paper form     ann          form 17   v2" in text
    assert "2  2026-11-20 16:05:00  revoke  all      keyword reply  vendor       Stop" in text
    assert text.endswith(
        "Saved at (3 contact point(s)):\nOwner  Method\n-----  ---------------\n"
        "gdn-1  cell_phone\ngdn-2  cell_phone\nhh-1   household_phone\n"
    )
    data = consent(capsys, url, "proof", SHARED[2])
    assert (data["address"], data["key"], data["revoked_now"]) == (SHARED[2], SHARED_KEY, ALL)
    assert [(e["action"], e["recorded_by"], e["evidence"]) for e in data["events"]] == [
        ("grant", "ann", "form 17"),
        ("revoke", "vendor", "Stop"),
    ]
    assert [(h["owner_id"], h["method"]) for h in data["holders"]] == SHARED_HOLDERS
    rows = ok(capsys, "--store", url, "consent", "proof", EMAIL, "--format", "csv").splitlines()
    assert rows == ["received_at,action,reasons,channel,recorded_by,evidence,wording"]


def test_proof_says_what_the_ledger_tells_of_a_day(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Consent given in September, withdrawn by a STOP on 20 November: was calling allowed on a day between?
    given = ("--grant", "--channel", "paper_form", "--wording", "v2", "--evidence", "form 17")
    consent(capsys, url, "record", SHARED[0], *given, "--received-at", "2026-09-01T12:00:00Z", "--actor", "ann")
    consent(capsys, url, "import", replies(tmp_path, (SHARED[1], "Stop", FRIDAY, "")), "--actor", "vendor")
    before = consent(capsys, url, "proof", SHARED[2], "--as-of", "2026-10-15")
    after = consent(capsys, url, "proof", SHARED[2], "--as-of", "2026-11-20")
    assert (before["as_of"], before["revoked_on_that_day"], before["revoked_now"]) == ("2026-10-15", [], ALL)
    assert (after["as_of"], after["revoked_on_that_day"]) == ("2026-11-20", ALL)
    text = ok(capsys, "--store", url, "consent", "proof", SHARED[2], "--as-of", "2026-10-15")
    assert "Revoked on 2026-10-15 (end of day, UTC) for: none" in text.splitlines()[3]


def test_no_output_but_a_proof_holds_an_address(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every other command run on the shared number and the e-mail address, in every format, and the
    messages that quote them: none repeats them."""
    file = replies(
        tmp_path,
        (SHARED[0], "call me at 280-555-0143, not pat.doe@example.org", FRIDAY, ""),
        (EMAIL, "STOP", FRIDAY, "email_reply"),
    )
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> None:
        got, out, err = cli(capsys, "--store", url, *args)
        assert got == code, (args, out, err)
        outputs.append(out + err)

    for fmt in ("table", "json", "csv"):
        run("consent", "record", SHARED[1], "--revoke", "--channel", "portal", "--actor", "ann", "--format", fmt)
        run("consent", "import", file, "--actor", "ann", "--format", fmt)
        run("consent", "inbox", "--format", fmt, "--as-of", "2026-11-21")
        run("consent", "policy", "--format", fmt)
        run("plan", "--mode", "student-messenger-contacts", "--set", "general=on", "--details", "--format", fmt)
    with open_store(url) as store:
        review_id = store.reviews()[0].review_id
    run("consent", "resolve", review_id, "--revoke", "--actor", "bob", "--note", "called 280-555-0143 back")
    run("consent", "policy", "--scope", "named", "--actor", "ann", "--why", "asked by pat.doe@example.org")
    run("consent", "policy", "--format", "json")
    run("consent", "record", "280-555-014", "--grant", "--channel", "portal", "--actor", "ann", code=2)
    run("consent", "record", SHARED[0], "--grant", "--channel", "portal", "--actor", "ann", "--format", "xml", code=2)
    run("consent", "record", EMAIL, "--bogus", code=2)
    run("apply", "--mode", "student-messenger-contacts", "--set", "general=on", "--actor", "ann", "--yes")
    run("history", "--format", "csv")
    run("import", "csv", str(tmp_path / "files"))
    for output in outputs:
        lowered = output.lower()
        assert not any(personal in lowered for personal in PERSONAL), output
    proof = ok(capsys, "--store", url, "consent", "proof", EMAIL)
    assert EMAIL in proof and "pat.doe@example.org" in proof  # as asked, and its key


# -- import, plan and apply ---------------------------------------------------------------


def test_a_stale_import_keeps_a_revocation_and_says_so(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consent(capsys, url, "record", SHARED[0], "--revoke", "--channel", "front_office", "--actor", "ann")
    out = ok(capsys, "--store", url, "import", "csv", str(tmp_path / "files"))  # the files say: not revoked
    assert (
        "Consent: 3 contact point(s) stay revoked though the files say otherwise: their address's consent was "
        "withdrawn, and only a grant lifts that (contact-prefs consent proof)."
    ) in out
    assert "recorded" not in out
    assert shared_revoked(url) == {ReasonSet.all()}
    with open_store(url) as store:
        assert [event.action for event in store.ledger(SHARED_KEY)] == [ConsentAction.REVOKE]


def test_import_records_the_revocations_of_a_file_and_names_unnormalized_addresses_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = district()
    points = [
        p if p.owner_id != "gdn-2" or p.method is not Method.OTHER_PHONE else ContactPoint(
            owner_id=p.owner_id, method=p.method, address=p.address, revoked=ReasonSet.all()
        )
        for p in snapshot.contact_points
    ]
    write_csv(Snapshot(contact_points=points), tmp_path / "files")
    url = f"sqlite:///{tmp_path / 'new.db'}"
    out = ok(capsys, "--store", url, "import", "csv", str(tmp_path / "files"))
    lines = (tmp_path / "files" / "contact_points.csv").read_text().splitlines()
    line = next(number for number, text in enumerate(lines, start=1) if text.startswith("gdn-1,work_phone,"))
    assert "Consent: recorded 1 revocation(s) of contact points the files mark revoked." in out
    assert (
        "Consent: 1 address(es) are not complete phone numbers or e-mail addresses, and are kept as saved: "
        f"contact_points.csv line {line}."
    ) in out
    assert UNNORMALIZED not in out
    with open_store(url) as store:
        (event,) = store.ledger("+12805550177")
    assert (event.channel, event.evidence) == (Channel.IMPORT, "loaded as revoked")


def test_plan_and_apply_count_the_points_held_back_by_consent(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    batch = ("--mode", "student-messenger-contacts", "--set", "general=on", "--format", "json")
    before = json.loads(ok(capsys, "--store", url, "plan", *batch))
    assert before["skips"]["consent_revoked"] == 0
    consent(capsys, url, "record", SHARED[1], "--revoke", "--channel", "portal", "--reason", "general", "--actor", "a")
    after = json.loads(ok(capsys, "--store", url, "plan", *batch))
    assert after["skips"]["consent_revoked"] == 3  # the one number, on both guardians and their household
    assert after["updated"] == before["updated"] - 3
    applied = json.loads(ok(capsys, "--store", url, "apply", *batch, "--actor", "ann", "--yes"))
    assert applied["skips"]["consent_revoked"] == 3 and applied["updated"] == after["updated"]
    text = ok(capsys, "--store", url, "plan", *batch[:-2])
    assert "Skipped: Consent revoked 3" in text


def test_a_oneroster_import_names_an_unnormalized_address_by_its_users_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster"
    roster.mkdir()
    files = {
        "manifest": "propertyName,value\noneroster.version,1.1\n",
        "orgs": "sourcedId,status,dateLastModified,name,type\nnorth,,,North School,school\n",
        "academicSessions": "sourcedId,startDate,endDate,schoolYear\nfall,2026-08-17,2026-12-18,2027\n",
        "classes": "sourcedId,status,dateLastModified,title,schoolSourcedId,termSourcedIds\nmath,,,Math,north,fall\n",
        "users": "sourcedId,role,givenName,familyName,email,sms,phone,agentSourcedIds\n"
        "s1,student,Ada,Example,ada@example.org,,,p1\n"
        "p1,parent,Pat,Example,pat@example.org,,555-0100,s1\n",
        "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n"
        "e1,,,math,north,s1,student\n",
    }
    for name, text in files.items():
        (roster / f"{name}.csv").write_text(text, encoding="utf-8")
    out = ok(capsys, "--store", f"sqlite:///{tmp_path / 'r.db'}", "import", "oneroster", str(roster))
    assert (
        "Consent: 1 address(es) are not complete phone numbers or e-mail addresses, and are kept as saved: "
        "users.csv line 3."
    ) in out
    assert "555" not in out
