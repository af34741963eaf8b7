"""Schedules on PostgreSQL beyond the kit: two daily jobs at once start and end a schedule once."""

from __future__ import annotations

from collections.abc import Callable

from contact_prefs import open_store

from ..schedule_race import race


def test_two_daily_jobs_at_once_start_and_end_a_schedule_once(new_schema: Callable[[], str]) -> None:
    for _ in range(3):
        url = new_schema()
        race(lambda url=url: open_store(url))
