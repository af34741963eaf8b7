"""Two daily jobs at once on one store, through two connections: each schedule starts and ends once."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

from contact_prefs import Store
from contact_prefs.scheduling import Ran, run_due
from contact_prefs.testing.district import DISTRICT
from contact_prefs.testing.schedules import ENDS, STARTS, summer

Opener = Callable[[], Store]


def race(open_one: Opener) -> None:
    """Run ``run_due`` from two stores at once, on the start day and then on the end day, and check that
    one batch started the schedule and one reverted it, whoever got there first."""
    with open_one() as store:
        store.load(DISTRICT)
        store.save_schedule(summer())
    for day in (STARTS, ENDS):
        runs = _at_once(open_one, day)
        assert not any(ran.failed for ran in runs), runs
        assert sum(1 for ran in runs if ran.receipt is not None) == 1, runs
    with open_one() as store:
        revert, start = store.history()
        (schedule,) = store.schedules()
        assert (schedule.start_batch, schedule.end_batch) == (start.batch_id, revert.batch_id)
        assert revert.undoes == start.batch_id


def _at_once(open_one: Opener, day: datetime.date) -> list[Ran]:
    """What two ``run_due`` on ``day``, started together from two stores, did."""
    barrier = threading.Barrier(2)
    runs: list[Ran] = []
    errors: list[BaseException] = []

    def job(number: int) -> None:
        try:
            with open_one() as mine:
                barrier.wait()
                runs.extend(run_due(mine, today=day, actor=f"cron-{number}"))
        except BaseException as error:  # reported in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=job, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return runs
