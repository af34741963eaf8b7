"""The kit's shared data: a little district, the specs it plans, and the strategies and text it draws.

``DISTRICT`` and ``SPEC`` (a small district and a batch that changes all four
of its saved points) are there for a backend's own tests too.

This module imports Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime

import attrs
from hypothesis import strategies as st

from ..enums import Method, Mode, Reason, Setting, Source
from ..identifiers import id_problem
from ..records import ContactPoint, Enrollment, HouseholdMember, Person, Relationship
from ..snapshot import Snapshot, merge
from ..spec import BatchSpec
from . import strategies

__all__ = [
    "ACTORS",
    "ADDRESSES",
    "CELL",
    "CROWDED_DISTRICTS",
    "DAY",
    "DISTRICT",
    "G1_CELL",
    "G1_MAIL",
    "G2_MAIL",
    "H1_PHONE",
    "HOUSEHOLD_PHONE",
    "IDLE_SPEC",
    "IDS",
    "MAIL",
    "NASTY",
    "NOTHING_SAVED",
    "OFF_SPEC",
    "OTHER_MAIL",
    "REVOKED",
    "SAVED_POINTS",
    "SPEC",
    "SPECS",
    "TEXT",
]

DAY = strategies.DAY

# Personal data the tests look for where it must never appear (errors, logs, reprs).
CELL = "+1 (555) 010-4242"
MAIL = "private.parent@example.org"
OTHER_MAIL = "second.guardian@example.org"
HOUSEHOLD_PHONE = "+1 (555) 010-7777"
ADDRESSES = (CELL, MAIL, OTHER_MAIL, HOUSEHOLD_PHONE)

# A little district: student s1 in north:2026, guardians g1 and g2 with the
# Messenger flag, g1 and s1 sharing household h1's phone.
G1_CELL = ContactPoint(
    owner_id="g1",
    method=Method.CELL_PHONE,
    address=CELL,
    enabled={Reason.EMERGENCY},
    text={Reason.EMERGENCY, Reason.PRIORITY},
    source=Source.PORTAL,
)
G1_MAIL = ContactPoint(owner_id="g1", method=Method.EMAIL, address=MAIL, source=Source.DEFAULT)
G2_MAIL = ContactPoint(
    owner_id="g2",
    method=Method.EMAIL,
    address=OTHER_MAIL,
    enabled={Reason.EMERGENCY, Reason.GENERAL},
    source=Source.STAFF,
)
H1_PHONE = ContactPoint(
    owner_id="h1", method=Method.HOUSEHOLD_PHONE, address=HOUSEHOLD_PHONE, text={Reason.EMERGENCY}, source=Source.IMPORT
)
NOTHING_SAVED = ContactPoint(owner_id="g2", method=Method.CELL_PHONE, address="", enabled={Reason.EMERGENCY})
SAVED_POINTS = (G1_CELL, G1_MAIL, G2_MAIL, H1_PHONE)
REVOKED = attrs.evolve(G1_MAIL, revoked=True).revoked
"""What ``revoked=True`` reads back as: consent withdrawn (for every reason)."""

DISTRICT = Snapshot(
    persons=[Person(id="s1", name="Student One"), Person(id="g1", name="Guardian One"), Person(id="g2")],
    household_members=[
        HouseholdMember(household_id="h1", person_id="s1"),
        HouseholdMember(household_id="h1", person_id="g1", start=DAY - datetime.timedelta(days=400)),
    ],
    enrollments=[Enrollment(student_id="s1", school_id="north", calendar_id="north:2026")],
    relationships=[Relationship(student_id="s1", contact_id="g1"), Relationship(student_id="s1", contact_id="g2")],
    contact_points=[*SAVED_POINTS, NOTHING_SAVED],
)

# Attendance on everywhere, General off at g2's e-mail: changes at all four saved points.
SPEC = BatchSpec(
    mode=Mode.STUDENT_MESSENGER_CONTACTS,
    settings={Reason.ATTENDANCE: Setting.ON, Reason.GENERAL: Setting.OFF},
    school_id="north",
    as_of=DAY,
)
# Only switches off: at g2's e-mail, General.
OFF_SPEC = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: Setting.OFF}, as_of=DAY)
# Switches nothing.
IDLE_SPEC = BatchSpec(mode=Mode.STUDENTS, settings={}, as_of=DAY)

CROWDED_DISTRICTS = st.lists(strategies.districts(), min_size=3, max_size=6).map(merge).map(strategies.as_stored)
"""Districts merged from a few: their records meet more often, so more specs plan changes (as a store holds them)."""

SPECS = strategies.specs().filter(lambda spec: bool(spec.reasons(Setting.ON) | spec.reasons(Setting.OFF)))
"""Specs that switch something (a spec of nothing but NO_CHANGE plans nothing)."""

# Text a store must keep exactly: quotes, SQL and LIKE metacharacters, unicode, long strings.
NASTY = st.sampled_from(
    [
        "'",
        '"',
        "''",
        "O'Brien",
        'say "hi"',
        "'); DROP TABLE contact_points; --",
        "1 OR 1=1",
        "%",
        "_",
        "\\",
        "\\x00",
        "NULL",
        "None",
        " ",
        " padded ",
        "\t\n\r",
        "ümlaut ✓ 漢字 😀",
        "\u200b",
        "x" * 5000,
    ]
)
TEXT = NASTY | st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=60)
"""Text for names and addresses, which a store keeps whatever they hold."""

IDS = TEXT.filter(lambda text: id_problem(text) is None)
"""Text for ids: the nasty kind that :mod:`contact_prefs.identifiers` lets through."""

ACTORS = IDS.filter(str.strip)
"""Text for actor names: ids that are not only spaces."""
