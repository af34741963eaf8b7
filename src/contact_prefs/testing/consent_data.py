"""The kit's consent data: the address keys generated districts hold, and strategies for ledgers.

Generated districts (:func:`.strategies.districts`) save a few addresses
(:data:`.strategies.ADDRESSES`), one number written three ways among them;
:data:`ADDRESS_KEYS` are the keys their points hold
(:func:`contact_prefs.ledger.ledger_key`, in the default region), so that
generated events and reviews land on held addresses, plus one nobody holds.

This module imports Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime

import attrs
from hypothesis import strategies as st

from ..addresses import DEFAULT_REGION
from ..consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, RevocationScope
from ..enums import Method, Reason
from ..ledger import LOADED_AS_REVOKED, ledger_key
from ..reasons import ReasonSet
from . import strategies

__all__ = [
    "ADDRESS_KEYS",
    "CONSENT_ACTORS",
    "KEYS",
    "MESSAGES",
    "MOMENTS",
    "UNHELD_KEY",
    "consent_events",
    "consent_policies",
    "covered_reasons",
    "undated",
]

UNHELD_KEY = "nobody@example.org"
"""An address key no generated point holds: its events must reach no point."""

ADDRESS_KEYS: tuple[str, ...] = (
    *sorted(
        {
            key
            for address in strategies.ADDRESSES
            for method in (Method.CELL_PHONE, Method.EMAIL)  # every phone method keys alike, and every e-mail one
            if (key := ledger_key(method, address, DEFAULT_REGION)) is not None
        }
    ),
    UNHELD_KEY,
)
"""The keys of every address a generated point may hold, and :data:`UNHELD_KEY`."""

_UTC = datetime.UTC
MOMENTS = st.sampled_from(
    [
        datetime.datetime(2025, 6, 2, 9, 0, tzinfo=_UTC),
        datetime.datetime(2026, 12, 4, 16, 0, tzinfo=_UTC),
        datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
        datetime.datetime(2026, 12, 7, 8, 30, tzinfo=_UTC),
        datetime.datetime(2030, 1, 2, 12, 0, tzinfo=_UTC),
    ]
)
"""When generated messages arrived: some at one moment (ledger order breaks the tie), one in another
time zone, and some before and after any load's revocations, which a store dates at the time of the load."""

covered_reasons = st.integers(min_value=1, max_value=ReasonSet.all().mask).map(ReasonSet.from_mask)
"""The reasons of an event: at least one."""

CONSENT_ACTORS = st.sampled_from(["vendor-feed", "front office", "O'Brien"])

MESSAGES = st.sampled_from(["please don't text me", "who is this?", "Stop texting at night", "STOP!!", "ok"])
"""Messages that are no revocation keyword: a person reads them."""


KEYS = st.sampled_from(ADDRESS_KEYS)


@st.composite
def consent_events(draw: st.DrawFn, keys: st.SearchStrategy[str] = KEYS) -> ConsentEvent:
    """An event of a held address (or none): a REVOKE or a GRANT from any channel, for some reasons."""
    action = draw(st.sampled_from(ConsentAction))
    return ConsentEvent(
        address=draw(keys),
        action=action,
        channel=draw(st.sampled_from(Channel)),
        received_at=draw(MOMENTS),
        recorded_by=draw(CONSENT_ACTORS),
        reasons=draw(st.just(ReasonSet.all()) | covered_reasons),
        evidence=draw(st.sampled_from(["STOP", "form 12", ""])),
        wording=draw(st.sampled_from(["", "v3"])) if action is ConsentAction.GRANT else "",
    )


@st.composite
def consent_policies(draw: st.DrawFn) -> ConsentPolicy:
    """A district's policy in the default region (so that keys stay as they are): any scope, exemption and holidays."""
    exempt = draw(st.sampled_from([ReasonSet(), ReasonSet({Reason.EMERGENCY})]) | strategies.reason_sets)
    holidays = draw(st.frozensets(st.sampled_from([datetime.date(2026, 12, 24), datetime.date(2026, 12, 25)])))
    return ConsentPolicy(scope=draw(st.sampled_from(RevocationScope)), exempt=exempt, holidays=holidays)


LOADED_AT = datetime.datetime(2026, 11, 30, tzinfo=_UTC)


def undated(event: ConsentEvent) -> ConsentEvent:
    """``event`` without the time of a load's revocation (a store dates it when it loads), to compare
    ledgers of stores that loaded at different moments; any other event as it is."""
    return attrs.evolve(event, received_at=LOADED_AT) if event.evidence == LOADED_AS_REVOKED else event
