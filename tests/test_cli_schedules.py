"""``schedule``, ``schedules``, ``unschedule`` and ``run-due`` over simulated days, on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import attrs

from contact_prefs import Reason, ReasonSet, Snapshot, Source, open_store
from contact_prefs.testing.district import DISTRICT, G1_MAIL
from contact_prefs.testing.expected import point, records

from .test_cli import fails, ok, run

SUMMER = ("--mode", "student-messenger-contacts", "--set", "attendance=on", "--set", "general=off")


def district(folder: Path) -> str:
    url = f"sqlite:///{folder / 'district.db'}"
    with open_store(url) as store:
        store.load(DISTRICT)
    return url


def scheduled(folder: Path, url: str, *extra: str) -> str:
    data = json.loads(
        ok(folder, "--store", url, "schedule", *SUMMER, "--as-of", "2026-06-01", *extra, "--actor", "ann",
           "--format", "json")
    )  # fmt: skip
    assert data["state"] == "pending" and data["plan"]["updated"] > 0
    return str(data["schedule_id"])


def due(folder: Path, url: str, day: str) -> list[dict[str, object]]:
    runs: list[dict[str, object]] = json.loads(
        ok(folder, "--store", url, "run-due", "--as-of", day, "--actor", "cron", "--format", "json")
    )
    return runs


def test_a_summer_over_simulated_days_keeps_a_parent_edit(tmp_path: Path) -> None:
    url = district(tmp_path)
    schedule_id = scheduled(tmp_path, url, "--starts-on", "2026-06-15", "--ends-on", "2026-08-15")
    with open_store(url) as store:
        assert records(store.dump()) == records(DISTRICT)  # scheduling writes no batch
        assert store.history() == ()
    assert ok(tmp_path, "--store", url, "run-due", "--as-of", "2026-06-14", "--actor", "cron") == "Nothing is due.\n"
    (start,) = due(tmp_path, url, "2026-06-15")
    assert (start["schedule_id"], start["step"], start["day"], start["problem"]) == (
        schedule_id,
        "start",
        "2026-06-15",
        None,
    )
    assert due(tmp_path, url, "2026-06-15") == []  # twice on a day: nothing the second time
    with open_store(url) as store:
        (record,) = store.history()
        assert (record.batch_id, record.schedule_id, record.spec.as_of.isoformat()) == (
            start["batch_id"],
            schedule_id,
            "2026-06-15",
        )
        written = point(store.dump(), G1_MAIL)
        edited = attrs.evolve(written, enabled=written.enabled | {Reason.TEACHER}, source=Source.PORTAL)
        store.load(Snapshot(contact_points=[edited]))
    text = ok(tmp_path, "--store", url, "run-due", "--as-of", "2026-08-20", "--actor", "cron")
    assert text.startswith(f"2026-08-15 end of schedule {schedule_id}: batch ")
    assert text.endswith("changes; left alone 1 changed since (Attendance 1)\n")
    with open_store(url) as store:
        assert point(store.dump(), G1_MAIL) == edited
        revert = store.history()[0]
        assert (revert.undoes, revert.schedule_id, revert.left_alone) == (
            start["batch_id"],
            schedule_id,
            {Reason.ATTENDANCE: 1},
        )
    (listed,) = json.loads(ok(tmp_path, "--store", url, "schedules", "--format", "json"))
    assert (listed["state"], listed["start_batch"], listed["end_batch"], listed["left_alone"]) == (
        "finished",
        start["batch_id"],
        revert.batch_id,
        {"attendance": 1},
    )
    table = ok(tmp_path, "--store", url, "schedules")
    assert schedule_id in table and "finished" in table and "Attendance 1" in table


def test_a_failed_step_exits_1_and_is_tried_again_until_cancelled(tmp_path: Path) -> None:
    url = district(tmp_path)
    schedule_id = scheduled(tmp_path, url, "--starts-on", "2026-06-15", "--ends-on", "2026-08-15")
    (start,) = due(tmp_path, url, "2026-06-15")
    ok(tmp_path, "--store", url, "undo", str(start["batch_id"]), "--actor", "ann", "--yes")
    for _ in range(2):
        result = run(tmp_path, "--store", url, "run-due", "--as-of", "2026-08-15", "--actor", "cron")
        assert result.returncode == 1, result.stderr
        assert result.stdout.startswith(f"2026-08-15 end of schedule {schedule_id}: failed, nothing was written: ")
        assert "already undone" in result.stdout
        assert "1 due step(s) failed" in result.stderr and "Traceback" not in result.stderr
    text = ok(tmp_path, "--store", url, "unschedule", schedule_id[:6], "--actor", "ann")
    assert text.startswith(f"Cancelled schedule {schedule_id} by ann at ")
    assert f"Its batch {start['batch_id']} stays applied" in text
    assert due(tmp_path, url, "2026-08-16") == []


def test_cancelling_before_the_start_and_after_it_with_a_revert(tmp_path: Path) -> None:
    url = district(tmp_path)
    early = scheduled(tmp_path, url, "--starts-on", "2026-06-15")
    text = ok(tmp_path, "--store", url, "unschedule", early, "--actor", "bob")
    assert text.endswith("It had not started: nothing was applied.\n")
    assert due(tmp_path, url, "2026-06-20") == []
    late = scheduled(tmp_path, url, "--starts-on", "2026-06-20", "--ends-on", "2026-08-15")
    (start,) = due(tmp_path, url, "2026-06-20")
    with open_store(url) as store:
        assert records(store.dump()) != records(DISTRICT)
    data = json.loads(
        ok(tmp_path, "--store", url, "unschedule", late, "--revert", "--actor", "bob", "--format", "json")
    )
    assert (data["state"], data["cancelled_by"], data["start_batch"]) == ("cancelled", "bob", start["batch_id"])
    assert data["revert"]["batch_id"] == data["end_batch"] and data["revert"]["updated"] == start["updated"]
    with open_store(url) as store:
        assert records(store.dump()) == records(DISTRICT)
        assert point(store.dump(), G1_MAIL).enabled == ReasonSet()
    assert due(tmp_path, url, "2026-08-20") == []
    error = fails(tmp_path, "--store", url, "unschedule", late, "--actor", "bob")
    assert "was cancelled already, by bob" in error
    assert "no schedule 'nope-nope'" in fails(tmp_path, "--store", url, "unschedule", "nope-nope", "--actor", "bob")


# -- a schedule under the approval policy ------------------------------------------------


def approval_policy(folder: Path) -> tuple[str, str]:
    """``--policy PATH`` of a policy under which a change to Attendance needs a second person."""
    path = folder / "policy.toml"
    path.write_text('[approval]\nreasons = ["attendance"]\n', encoding="utf-8")
    return "--policy", str(path)


def waits(folder: Path, url: str, day: str, policy: tuple[str, str]) -> str:
    """run-due on ``day``, whose start waits: exit 1, the wait on standard output, what to do on standard error."""
    result = run(folder, "--store", url, "run-due", "--as-of", day, "--actor", "cron", *policy)
    assert result.returncode == 1, result.stderr
    assert "1 schedule(s) wait for a second person's approval; nothing was written for them" in result.stderr
    assert "contact-prefs propose --schedule ID" in result.stderr and "Traceback" not in result.stderr
    return result.stdout


def test_a_schedule_that_needs_approval_waits_until_a_second_person_approves(tmp_path: Path) -> None:
    url, policy = district(tmp_path), approval_policy(tmp_path)
    text = ok(tmp_path, "--store", url, "schedule", *SUMMER, "--as-of", "2026-06-01", "--starts-on", "2026-06-15",
              "--actor", "ann", *policy)  # fmt: skip
    with open_store(url) as store:
        (made,) = store.schedules()
        (proposal,) = store.proposals()
        assert store.history() == () and records(store.dump()) == records(DISTRICT)
    assert (proposal.proposer, proposal.spec.as_of.isoformat(), proposal.approver) == ("ann", "2026-06-15", None)
    assert "Needs approval: changes to attendance need approval." in text
    assert f"as proposal {proposal.proposal_id} by ann" in text
    assert f"'contact-prefs approve {proposal.proposal_id[:8]} --actor NAME' before 2026-06-15" in text

    out = waits(tmp_path, url, "2026-06-15", policy)
    assert out == (
        f"2026-06-15 start of schedule {made.schedule_id}: waits for approval, nothing was written: "
        f"proposal {proposal.proposal_id} is waiting for a second person's approval\n"
    )
    assert "cannot approve it too" in fails(tmp_path, "--store", url, "approve", proposal.proposal_id, "--actor", "ann")
    ok(tmp_path, "--store", url, "approve", proposal.proposal_id[:8], "--actor", "bob", *policy)
    (start,) = json.loads(ok(tmp_path, "--store", url, "run-due", "--as-of", "2026-06-16", "--actor", "cron",
                             "--format", "json", *policy))  # fmt: skip
    assert (start["day"], start["problem"], start["waiting"]) == ("2026-06-15", None, None)
    (entry,) = json.loads(ok(tmp_path, "--store", url, "history", "--format", "json"))
    assert (entry["batch_id"], entry["actor"], entry["schedule_id"]) == (start["batch_id"], "cron", made.schedule_id)
    assert entry["approval"] == {"proposal_id": proposal.proposal_id, "proposer": "ann", "approver": "bob"}


def test_a_parent_edit_after_approval_needs_a_fresh_proposal(tmp_path: Path) -> None:
    url, policy = district(tmp_path), approval_policy(tmp_path)
    data = json.loads(ok(tmp_path, "--store", url, "schedule", *SUMMER, "--as-of", "2026-06-01", "--starts-on",
                         "2026-06-15", "--actor", "ann", "--format", "json", *policy))  # fmt: skip
    schedule_id, first = data["schedule_id"], data["proposal"]["proposal_id"]
    assert data["proposal"]["state"] == "proposed" and data["proposal"]["proposer"] == "ann"
    ok(tmp_path, "--store", url, "approve", first, "--actor", "bob", *policy)
    with open_store(url) as store:  # a parent switches Attendance on at g1's e-mail before the start day
        before = point(store.dump(), G1_MAIL)
        store.load(Snapshot(contact_points=[attrs.evolve(before, enabled=ReasonSet([Reason.ATTENDANCE]),
                                                         source=Source.PORTAL)]))  # fmt: skip
        edited = records(store.dump())
    out = waits(tmp_path, url, "2026-06-15", policy)
    assert f"proposal {first} was approved, but the district moved since: planned again, 1 change(s) differ" in out
    with open_store(url) as store:
        assert store.history() == () and records(store.dump()) == edited

    assert "--mode cannot go with --schedule" in fails(
        tmp_path, "--store", url, "propose", "--schedule", schedule_id, "--mode", "students", "--actor", "ann"
    )
    fresh = json.loads(ok(tmp_path, "--store", url, "propose", "--schedule", schedule_id[:6], "--actor", "ann",
                          "--format", "json", *policy))  # fmt: skip
    assert (fresh["schedule_id"], fresh["spec"]["as_of"]) == (schedule_id, "2026-06-15")
    assert fresh["plan"]["updated"] == data["plan"]["updated"] - 1
    ok(tmp_path, "--store", url, "approve", fresh["proposal_id"], "--actor", "bob", *policy)
    (start,) = json.loads(ok(tmp_path, "--store", url, "run-due", "--as-of", "2026-06-16", "--actor", "cron",
                             "--format", "json", *policy))  # fmt: skip
    (entry,) = json.loads(ok(tmp_path, "--store", url, "history", "--format", "json"))
    assert entry["batch_id"] == start["batch_id"] and entry["approval"]["proposal_id"] == fresh["proposal_id"]
