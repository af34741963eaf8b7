"""Schedules on SQLite beyond the kit: two daily jobs at once start and end a schedule once."""

from __future__ import annotations

from pathlib import Path

from contact_prefs import open_store

from .schedule_race import race


def test_two_daily_jobs_at_once_start_and_end_a_schedule_once(tmp_path: Path) -> None:
    for attempt in range(3):
        race(lambda attempt=attempt: open_store(f"sqlite:///{tmp_path}/district-{attempt}.db"))
