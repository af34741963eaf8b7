"""The rules of schedules (contact_prefs.schedules) and of a revert (writes.revert_writes), without a store."""

from __future__ import annotations

import datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_prefs import BatchSpec, Reason, ReasonSet, Source
from contact_prefs.chain import EntryKind, chain_after, entries_of, verify_chain
from contact_prefs.changes import PointUpdate
from contact_prefs.schedule_entries import schedule_entries
from contact_prefs.schedules import (
    Schedule,
    ScheduleDoneError,
    ScheduleError,
    ScheduleState,
    Step,
    cancelled_schedule,
    check_end,
    due,
    ended_schedule,
    new_schedule,
    started_schedule,
)
from contact_prefs.writes import StoredPoint, revert_writes

DAY = datetime.date(2026, 6, 15)
AT = datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)
SPEC = BatchSpec(mode="students", settings={"food_service": "off"}, as_of=datetime.date(2026, 1, 1))


def summer(schedule_id: str = "summer", *, starts_on: datetime.date = DAY, days: int | None = 61) -> Schedule:
    ends_on = None if days is None else starts_on + datetime.timedelta(days=days)
    return new_schedule(SPEC, starts_on=starts_on, ends_on=ends_on, actor="alice", at=AT, schedule_id=schedule_id)


# -- the schedule ----------------------------------------------------------------


def test_a_schedule_plans_its_spec_for_its_start_day() -> None:
    schedule = summer()
    assert schedule.spec == attrs.evolve(SPEC, as_of=DAY)
    assert schedule.state is ScheduleState.PENDING


@pytest.mark.parametrize("days", [0, -1])
def test_a_schedule_ends_after_it_starts(days: int) -> None:
    with pytest.raises(ScheduleError, match="ends after it starts"):
        summer(days=days)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("schedule_id", ""),
        ("schedule_id", "a\nb"),
        ("actor", " "),
        ("created_at", datetime.datetime(2026, 6, 1)),
        ("starts_on", datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)),
        ("left_alone", {Reason.GENERAL: -1}),
    ],
)
def test_a_schedule_refuses_bad_fields(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        attrs.evolve(summer(), **{field: value})


def test_left_alone_counts_keep_only_reasons_counted_in_reason_order() -> None:
    schedule = attrs.evolve(summer(), left_alone={"teacher": 2, Reason.ATTENDANCE: 1, Reason.GENERAL: 0})
    assert list(schedule.left_alone.items()) == [(Reason.ATTENDANCE, 1), (Reason.TEACHER, 2)]


def test_the_states_of_a_schedule() -> None:
    pending = summer()
    active = started_schedule(pending, batch_id="b1")
    finished = ended_schedule(active, reverted="b1", batch_id="b2", left_alone={Reason.FOOD_SERVICE: 3})
    assert [s.state for s in (pending, active, finished)] == [
        ScheduleState.PENDING,
        ScheduleState.ACTIVE,
        ScheduleState.FINISHED,
    ]
    assert finished.left_alone == {Reason.FOOD_SERVICE: 3}
    assert started_schedule(summer(days=None), batch_id="b1").state is ScheduleState.FINISHED
    assert cancelled_schedule(active, actor="bob", at=AT).state is ScheduleState.CANCELLED


def test_a_schedule_starts_and_ends_once() -> None:
    active = started_schedule(summer(), batch_id="b1")
    with pytest.raises(ScheduleDoneError, match="started already, by batch b1"):
        started_schedule(active, batch_id="b2")
    with pytest.raises(ScheduleError, match="not b9"):
        check_end(active, "b9")
    with pytest.raises(ScheduleError, match="has not started"):
        check_end(summer(), "b1")
    finished = ended_schedule(active, reverted="b1", batch_id="b2", left_alone={})
    with pytest.raises(ScheduleDoneError, match="reverted already, by batch b2"):
        ended_schedule(finished, reverted="b1", batch_id="b3", left_alone={})


def test_cancelling() -> None:
    cancelled = cancelled_schedule(summer(), actor="bob", at=AT)
    assert (cancelled.cancelled_by, cancelled.cancelled_at) == ("bob", AT)
    with pytest.raises(ScheduleError, match="cancelled already"):
        cancelled_schedule(cancelled, actor="bob", at=AT)
    with pytest.raises(ScheduleError, match="never starts"):
        started_schedule(cancelled, batch_id="b1")
    finished = started_schedule(summer(days=None), batch_id="b1")
    with pytest.raises(ScheduleError, match="finished"):
        cancelled_schedule(finished, actor="bob", at=AT)
    # Cancelled after its start, a schedule may still be reverted (when asked).
    active = cancelled_schedule(started_schedule(summer(), batch_id="b1"), actor="bob", at=AT)
    assert ended_schedule(active, reverted="b1", batch_id="b2", left_alone={}).state is ScheduleState.CANCELLED


# -- due -------------------------------------------------------------------------


def test_due_lists_starts_and_ends_in_date_order_ends_first_on_a_day() -> None:
    summer_ = started_schedule(summer("summer", starts_on=DAY, days=10), batch_id="b1")
    autumn = summer("autumn", starts_on=DAY + datetime.timedelta(days=10), days=None)
    cancelled = cancelled_schedule(summer("cancelled"), actor="bob", at=AT)
    found = due([autumn, summer_, cancelled], DAY + datetime.timedelta(days=10))
    assert [(d.schedule.schedule_id, d.step, d.day) for d in found] == [
        ("summer", Step.END, DAY + datetime.timedelta(days=10)),
        ("autumn", Step.START, DAY + datetime.timedelta(days=10)),
    ]
    assert due([autumn, summer_], DAY) == []


ids = st.sampled_from(["a", "b", "c", "d"])
days = st.integers(min_value=0, max_value=40).map(lambda n: DAY + datetime.timedelta(days=n))


@st.composite
def schedules(draw: st.DrawFn) -> list[Schedule]:
    made = []
    for schedule_id in draw(st.lists(ids, unique=True, min_size=1)):
        starts_on = draw(days)
        length = draw(st.none() | st.integers(min_value=1, max_value=20))
        made.append(summer(schedule_id, starts_on=starts_on, days=length))
    return made


@given(made=schedules(), run_days=st.lists(days, max_size=8).map(sorted))
def test_over_any_run_days_each_step_happens_once_in_date_order(
    made: list[Schedule], run_days: list[datetime.date]
) -> None:
    """A daily job on any days (some missed): every start and end due by the last day runs exactly
    once, each run's steps in date order, and a schedule's end never before its start."""
    held = {schedule.schedule_id: schedule for schedule in made}
    done: list[tuple[str, Step, datetime.date]] = []
    for today in run_days:
        steps = due(held.values(), today)
        assert [d.day for d in steps] == sorted(d.day for d in steps)
        for item in steps:
            assert item.day <= today
            current = held[item.schedule.schedule_id]
            if item.step is Step.START:
                held[current.schedule_id] = started_schedule(current, batch_id=f"start-{current.schedule_id}")
            else:
                batch = f"start-{current.schedule_id}"
                held[current.schedule_id] = ended_schedule(current, reverted=batch, batch_id="end", left_alone={})
            done.append((item.schedule.schedule_id, item.step, item.day))
        assert due(held.values(), today) == []  # running again the same day does nothing
    last = run_days[-1] if run_days else None
    expected = []
    for schedule in made:
        if last is not None and schedule.starts_on <= last:
            expected.append((schedule.schedule_id, Step.START, schedule.starts_on))
        if last is not None and schedule.ends_on is not None and schedule.ends_on <= last:
            expected.append((schedule.schedule_id, Step.END, schedule.ends_on))
    assert sorted(done, key=repr) == sorted(expected, key=repr)
    for schedule_id, step, _ in done:
        if step is Step.END:
            assert done.index((schedule_id, Step.START, held[schedule_id].starts_on)) < done.index(
                (schedule_id, Step.END, held[schedule_id].ends_on)
            )


# -- the revert --------------------------------------------------------------------


def _update(owner: str, before: set[Reason], after: set[Reason]) -> PointUpdate:
    return PointUpdate(
        owner_id=owner,
        method="email",
        source_before=Source.PORTAL,
        enabled_before=ReasonSet(before),
        enabled_after=ReasonSet(after),
        affects=frozenset({owner}),
    )


def test_a_revert_takes_back_what_is_as_the_batch_left_it_and_counts_the_rest() -> None:
    food, general, teacher = Reason.FOOD_SERVICE, Reason.GENERAL, Reason.TEACHER
    kept = _update("g1", {food, general}, set())  # still as the batch left it
    edited = _update("g2", {food}, set())  # a parent switched Teacher on since
    gone = _update("g3", {food, general}, set())  # removed by the SIS
    revoked = _update("g4", {food}, set())  # consent withdrawn since: stays off
    now = [
        StoredPoint(ReasonSet(), Source.BATCH, ReasonSet()),
        StoredPoint(ReasonSet({teacher}), Source.PORTAL, ReasonSet()),
        None,
        StoredPoint(ReasonSet(), Source.BATCH, ReasonSet.all()),
    ]
    writes, left_alone = revert_writes([kept, edited, gone, revoked], now)
    assert [(w.update.owner_id, w.update.enabled_after, w.source) for w in writes] == [
        ("g1", ReasonSet({food, general}), Source.PORTAL)
    ]
    assert list(left_alone.items()) == [(general, 1), (food, 2)]


def test_schedule_entries_chain_and_verify() -> None:
    cancelled = cancelled_schedule(summer(), actor="bob", at=AT)
    entries = entries_of(history=(), consent_events=(), policy_changes=(), proposals=(), schedules=[cancelled])
    assert [(e.kind, e.key) for e in entries] == [(EntryKind.SCHEDULE, "summer"), (EntryKind.CANCELLATION, "summer")]
    links = chain_after(None, schedule_entries(cancelled))
    assert verify_chain(links, entries).intact
    edited = entries_of(
        history=(), consent_events=(), policy_changes=(), proposals=(), schedules=[attrs.evolve(cancelled, actor="eve")]
    )
    assert verify_chain(links, edited).position == 1
