"""Schedules on PostgreSQL beyond the kit: two daily jobs at once start and end a schedule once; a start
under the approval policy runs through its approved proposal, in one commit naming both."""

from __future__ import annotations

from collections.abc import Callable

from contact_prefs import open_store

from ..schedule_race import race
from ..test_scheduling_approval import prepared
from ..test_scheduling_approval import (
    test_a_parent_edit_after_approval_makes_it_wait_until_a_fresh_proposal_is_approved as moved_then_approved_again,
)
from ..test_scheduling_approval import (
    test_without_an_approval_it_waits_and_writes_nothing_until_approved as waits_until_approved,
)


def test_two_daily_jobs_at_once_start_and_end_a_schedule_once(new_schema: Callable[[], str]) -> None:
    for _ in range(3):
        url = new_schema()
        race(lambda url=url: open_store(url))


def test_a_start_waits_for_its_approval_and_runs_through_it(schema_url: str) -> None:
    with open_store(schema_url) as store:
        waits_until_approved(prepared(store))


def test_a_start_approved_before_the_district_moved_waits_for_a_fresh_approval(schema_url: str) -> None:
    with open_store(schema_url) as store:
        moved_then_approved_again(prepared(store))
