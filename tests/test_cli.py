"""The command line, driven as a user drives it: a process per command, in a fresh folder."""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contact_prefs import BatchSpec, Mode, Reason, Snapshot, Source, SpecError, open_store, plan
from contact_prefs.enums import Method
from contact_prefs.formats import read_csv
from contact_prefs.records import ContactPoint, Enrollment, Person
from contact_prefs.spec import TEXT_REFUSAL

SAMPLE = Path("/work/shared/data/oneroster-sample/LMS-Toolkit")
if not SAMPLE.is_dir():
    SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "oneroster-sample" / "LMS-Toolkit"

STUDENTS = "200"


def run(
    folder: Path,
    *args: str,
    store: str | None = None,
    stdin: int | None = subprocess.DEVNULL,
    path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``contact-prefs ARGS`` in ``folder``, with ``$CONTACT_PREFS_STORE`` set to ``store`` (or unset)
    and ``path`` in front of the import path."""
    env = {key: value for key, value in os.environ.items() if key != "CONTACT_PREFS_STORE"}
    if store:
        env["CONTACT_PREFS_STORE"] = store
    if path:
        env["PYTHONPATH"] = os.pathsep.join([str(path), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "contact_prefs", *args],
        cwd=folder,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok(folder: Path, *args: str, store: str | None = None) -> str:
    result = run(folder, *args, store=store)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # off a terminal: no progress, no noise
    return result.stdout


def fails(folder: Path, *args: str, code: int = 2, store: str | None = None) -> str:
    result = run(folder, *args, store=store)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose default store holds a 200-student demo district and its sample batch."""
    folder = tmp_path_factory.mktemp("district")
    ok(folder, "demo", "--students", STUDENTS)
    return folder


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    """A private copy of the demo district, for tests that write."""
    for path in district.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def history(folder: Path) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(ok(folder, "history", "--format", "json"))
    return data


# -- demo and the store --------------------------------------------------------------


def test_demo_builds_loads_and_applies_into_the_default_store(tmp_path: Path) -> None:
    out = ok(tmp_path, "demo", "--students", "120")
    assert (tmp_path / "contact-prefs.db").is_file()
    assert "Loaded a demo district into sqlite:///contact-prefs.db: 120 students" in out
    assert "Contact Method   Emergency  Attendance" in out and "Recipients: " in out
    with open_store(f"sqlite:///{tmp_path / 'contact-prefs.db'}") as store:
        (record,) = store.history()
        assert record.actor == "demo" and record.spec.mode is Mode.STUDENT_MESSENGER_CONTACTS
        assert f"Batch {record.batch_id} by demo" in out
        assert f"Updated preferences: {len(record.changes):,}" in out


def test_demo_refuses_a_store_with_data_unless_forced(folder: Path) -> None:
    error = fails(folder, "demo", "--students", "50")
    assert "already holds" in error and "--force" in error and "--store URL" in error
    assert len(history(folder)) == 1
    ok(folder, "demo", "--students", "50", "--seed", "2", "--force")
    assert len(history(folder)) == 2


def test_only_demo_and_import_start_the_default_store(tmp_path: Path) -> None:
    # A command run in the wrong folder says so, instead of creating an empty store and reporting nothing.
    for command in (
        ["history"],
        ["show", "feedbeef"],
        ["plan", "--mode", "students", "--set", "teacher=on"],
        ["export", "csv", "out"],
    ):
        error = fails(tmp_path, *command)
        assert f"there is no contact-prefs.db in {tmp_path}" in error and "demo" in error and "--store" in error
    assert list(tmp_path.iterdir()) == []
    # A store named explicitly is opened (and created) as its backend does.
    assert json.loads(ok(tmp_path, "history", "--format", "json", store="sqlite:///named.db")) == []


def test_the_store_option_goes_before_or_after_the_command_or_in_the_environment(tmp_path: Path) -> None:
    ok(tmp_path, "--store", "sqlite:///one.db", "demo", "--students", "30")
    ok(tmp_path, "demo", "--students", "30", "--store", "sqlite:///two.db")
    assert not (tmp_path / "contact-prefs.db").exists()
    first = json.loads(ok(tmp_path, "history", "--store", "sqlite:///one.db", "--format", "json"))
    second = json.loads(ok(tmp_path, "history", "--format", "json", store="sqlite:///two.db"))
    assert len(first) == len(second) == 1 and first[0]["batch_id"] != second[0]["batch_id"]
    # The option wins over the environment.
    assert json.loads(ok(tmp_path, "--store", "sqlite:///one.db", "history", "--format", "json", store="x://")) == first


def test_the_memory_store_serves_one_process(tmp_path: Path) -> None:
    assert "Loaded a demo district into memory://" in ok(tmp_path, "--store", "memory://", "demo", "--students", "20")
    result = run(tmp_path, "plan", "--mode", "students", "--set", "general=on", store="memory://")
    assert result.returncode == 0 and "Recipients: 0" in result.stdout
    assert "warning: nobody is in scope" in result.stderr


def test_an_unknown_store_scheme_is_refused(tmp_path: Path) -> None:
    error = fails(tmp_path, "--store", "mongo://db", "history")
    assert "argument --store: no store backend serves the scheme 'mongo'" in error and "sqlite" in error
    assert "$CONTACT_PREFS_STORE: no store backend" in fails(tmp_path, "history", store="mongo://db")


# -- plan and apply ------------------------------------------------------------------

PLAN = ("--mode", "student-messenger-contacts", "--set", "attendance=on", "--set", "behavior=off")
# Only ON: its undo writes back every change, revoked points or not.
APPLY = ("--mode", "student-messenger-contacts", "--set", "behavior=on", "--set", "priority=on")


def test_plan_is_a_dry_run_whose_numbers_are_the_librarys(district: Path) -> None:
    data = json.loads(ok(district, "plan", *PLAN, "--format", "json", "--details"))
    assert len(history(district)) == 1
    spec = BatchSpec(
        mode=Mode.STUDENT_MESSENGER_CONTACTS,
        settings={"attendance": "on", "behavior": "off"},
        as_of=datetime.date.today(),
    )
    with open_store(f"sqlite:///{district / 'contact-prefs.db'}") as store:
        expected = plan(spec, store.snapshot(spec))
    assert data["recipients"] == len(expected.recipients)
    assert data["updated"] == len(expected) > 0
    assert data["portal_overwrites"] == expected.portal_overwrites
    assert data["skips"] == {reason.value: n for reason, n in expected.skip_counts().items()}
    assert data["counts"] == {
        method.value: {reason.value: n for (m, reason), n in expected.counts().items() if m is method}
        for method in {m for m, _ in expected.counts()}
    }
    assert [(c["owner_id"], c["method"], c["reason"], c["after"]) for c in data["changes"]] == [
        (c.owner_id, c.method.value, c.reason.value, c.after) for c in expected.changes
    ]
    assert data["batch_id"] is None and data["spec"]["settings"]["behavior"] == "off"
    table = ok(district, "plan", *PLAN)
    assert f"Updated preferences: {len(expected):,}" in table and "Settings: Attendance on, Behavior off" in table


def test_plan_output_formats_have_stable_fields(district: Path) -> None:
    data = json.loads(ok(district, "plan", *PLAN, "--format", "json"))
    assert list(data) == [
        "batch_id", "actor", "at", "undoes", "undone_by", "approval", "schedule_id", "left_alone", "spec",
        "recipients", "updated", "portal_overwrites", "skips", "counts",
    ]  # fmt: skip
    assert data["approval"] is None
    assert list(data["spec"]) == [
        "mode", "school_id", "calendar_id", "filter_size", "as_of", "settings", "keep_portal", "allow_emergency_off"
    ]  # fmt: skip
    rows = ok(district, "plan", *PLAN, "--format", "csv").splitlines()
    assert rows[0] == "method,emergency,attendance,behavior,staff,general,food_service,priority,teacher,total"
    assert [row.split(",")[0] for row in rows[1:]] == [
        "household_phone", "cell_phone", "work_phone", "other_phone", "email", "secondary_email", "total"
    ]  # fmt: skip
    assert rows[-1].split(",")[-1] == str(data["updated"])
    details = ok(district, "plan", *PLAN, "--format", "csv", "--details").splitlines()
    assert details[0] == "owner_id,method,reason,before,after,source_before,affects"
    assert len(details) == data["updated"] + 1
    text = ok(district, "plan", *PLAN, "--details")
    assert "Owner" in text and "Source before" in text and "@" not in text  # ids, never an address


def test_text_message_settings_are_refused_as_the_core_refuses_them(district: Path) -> None:
    # The command line's --set and BatchSpec check a setting with one function, so they agree.
    with pytest.raises(SpecError) as raised:
        BatchSpec(mode="students", settings={"text message": "on"})
    assert str(raised.value) == f"'text message': {TEXT_REFUSAL}"
    error = fails(district, "plan", "--mode", "students", "--set", "text message=on")
    assert error.endswith(f"contact-prefs plan: error: argument --set: 'text message=on': {TEXT_REFUSAL}\n")


def test_plan_keep_portal_leaves_portal_points_and_counts_them_as_skips(district: Path) -> None:
    args = ("plan", "--mode", "students", "--set", "behavior=on", "--format", "json")
    plain = json.loads(ok(district, *args, "--details"))
    kept = json.loads(ok(district, *args, "--details", "--keep-portal"))
    assert plain["portal_overwrites"] > 0 and plain["skips"]["portal_protected"] == 0
    assert kept["portal_overwrites"] == 0 and kept["skips"]["portal_protected"] > 0
    assert kept["spec"]["keep_portal"] is True
    assert kept["updated"] == plain["updated"] - plain["portal_overwrites"]
    assert all(change["source_before"] != "portal" for change in kept["changes"])
    table = ok(district, *args[:-2], "--keep-portal")
    assert f"Portal protected {kept['skips']['portal_protected']:,}" in table
    assert "Portal overwrites: 0" in table and "; keep portal" in table


@pytest.mark.parametrize("details", [(), ("--details",)])
def test_plan_csv_keeps_its_columns_aligned(district: Path, details: tuple[str, ...]) -> None:
    text = ok(district, "plan", *PLAN, "--set", "priority=on", "--format", "csv", *details)
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert body and all(len(row) == len(header) for row in body)
    if details:
        assert header == ["owner_id", "method", "reason", "before", "after", "source_before", "affects"]
        assert {row[3] for row in body} <= {"true", "false"} and {row[4] for row in body} <= {"true", "false"}
    else:
        assert header[0] == "method" and header[-1] == "total" and len(header) == len(Reason) + 2
        assert all(int(row[-1]) == sum(int(cell) for cell in row[1:-1]) for row in body)
    history = list(csv.reader(io.StringIO(ok(district, "history", "--format", "csv"))))
    assert all(len(row) == len(history[0]) == 8 for row in history)


def test_apply_records_a_batch_that_show_history_and_undo_agree_on(folder: Path) -> None:
    applied = json.loads(ok(folder, "apply", *APPLY, "--actor", "ann", "--yes", "--format", "json"))
    batch = applied["batch_id"]
    assert len(batch) == 32 and applied["actor"] == "ann" and applied["updated"] > 0
    newest = history(folder)[0]
    assert (newest["batch_id"], newest["actor"], newest["updated"]) == (batch, "ann", applied["updated"])
    shown = json.loads(ok(folder, "show", batch[:8], "--format", "json"))
    assert shown["counts"] == applied["counts"] and shown["recipients"] is None
    assert "Batch " + batch in ok(folder, "show", batch)

    undone = json.loads(ok(folder, "undo", batch, "--actor", "bob", "--yes", "--format", "json"))
    assert undone["undoes"] == batch and undone["actor"] == "bob" and undone["updated"] == applied["updated"]
    assert json.loads(ok(folder, "show", batch, "--format", "json"))["undone_by"] == undone["batch_id"]
    assert "already undone" in fails(folder, "undo", batch, "--actor", "bob", "--yes")
    # An undo reads as what it did: the batch it reverted, and what it switched back.
    text = ok(folder, "show", undone["batch_id"])
    assert text.startswith(f"Reverted batch {batch}: Student Messenger Contacts, as of ")
    assert f"Undo {undone['batch_id']} by bob at " in text
    assert "Settings:" not in text and "Wrote back: Behavior off " in text and ", Priority off " in text
    assert f"Switched back: {applied['updated']:,} preferences" in text


def test_history_limit_lists_the_newest_batches(folder: Path) -> None:
    applied = json.loads(ok(folder, "apply", *APPLY, "--actor", "ann", "--yes", "--format", "json"))
    undone = json.loads(ok(folder, "undo", applied["batch_id"], "--actor", "bob", "--yes", "--format", "json"))
    every = history(folder)
    assert [entry["batch_id"] for entry in every[:2]] == [undone["batch_id"], applied["batch_id"]]
    assert len(every) == 3 and every[0]["updated"] == every[1]["updated"] == applied["updated"]
    for limit in (0, 1, 2, 3, 4):
        assert json.loads(ok(folder, "history", "--limit", str(limit), "--format", "json")) == every[:limit]
    table = ok(folder, "history", "--limit", "1").splitlines()
    assert len(table) == 3 and table[2].startswith(undone["batch_id"]) and "undoes " in table[2]
    assert "--limit: 'ten' is not a whole number of zero or more" in fails(folder, "history", "--limit", "ten")


def test_undo_prints_what_it_wrote_back(folder: Path) -> None:
    applied = json.loads(ok(folder, "apply", *APPLY, "--actor", "ann", "--yes", "--format", "json", "--details"))
    behavior = sum(1 for change in applied["changes"] if change["reason"] == "behavior")
    priority = applied["updated"] - behavior
    text = ok(folder, "undo", applied["batch_id"], "--actor", "bob", "--yes")
    assert text.startswith(f"Reverted batch {applied['batch_id']}: ")
    assert f"Wrote back: Behavior off {behavior:,}, Priority off {priority:,}\n" in text
    assert "Updated preferences" not in text and "Behavior on" not in text
    assert text.rstrip().endswith(f"Switched back: {applied['updated']:,} preferences")


def test_apply_that_changes_nothing_records_no_batch(folder: Path) -> None:
    first = json.loads(ok(folder, "apply", *APPLY, "--actor", "ann", "--yes", "--format", "json"))
    assert first["updated"] > 0 and len(history(folder)) == 2
    again = run(folder, "apply", *APPLY, "--actor", "ann", "--yes", "--format", "json")
    assert again.returncode == 0, again.stderr
    assert again.stderr == "contact-prefs: warning: nothing to change: no batch was recorded\n"
    data = json.loads(again.stdout)
    assert (data["batch_id"], data["updated"]) == (None, 0)
    assert len(history(folder)) == 2
    # The same on a terminal: nothing to confirm.
    asked = on_terminal(folder, "y", "apply", *APPLY, "--actor", "ann")
    assert asked.returncode == 0 and "Apply these" not in asked.stderr
    assert "nothing to change: no batch was recorded" in asked.stderr
    assert len(history(folder)) == 2


def test_undo_that_would_write_nothing_records_nothing(tmp_path: Path) -> None:
    # A batch that only switched behavior off, at a point whose consent is withdrawn: an undo may not
    # switch it back on, so it has nothing to write.
    url = f"sqlite:///{tmp_path / 'one.db'}"
    with open_store(url) as store:
        store.load(
            Snapshot(
                persons=[Person(id="stu-1")],
                enrollments=[Enrollment(student_id="stu-1", school_id="north", calendar_id="north:2027")],
                contact_points=[
                    ContactPoint(
                        owner_id="stu-1", method=Method.CELL_PHONE, address="(280) 555-0143",
                        enabled=[Reason.BEHAVIOR], revoked=True,
                    )
                ],
            )
        )  # fmt: skip
    args = ("--mode", "students", "--set", "behavior=off", "--actor", "ann", "--yes", "--format", "json")
    applied = json.loads(ok(tmp_path, "apply", *args, store=url))
    assert applied["updated"] == 1
    result = run(tmp_path, "undo", applied["batch_id"], "--actor", "bob", "--yes", store=url)
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr == (
        f"contact-prefs: warning: batch {applied['batch_id']} only switched off reasons whose consent is "
        "withdrawn now, so its undo would write nothing: nothing to change: no batch was recorded\n"
    )
    assert len(history_of(tmp_path, url)) == 1


def history_of(folder: Path, url: str) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(ok(folder, "history", "--format", "json", store=url))
    return data


def test_apply_and_undo_need_yes_off_a_terminal(folder: Path) -> None:
    error = fails(folder, "apply", *APPLY, "--actor", "ann")
    assert "not a terminal: pass --yes" in error
    batch = str(history(folder)[0]["batch_id"])
    assert "not a terminal: pass --yes" in fails(folder, "undo", batch, "--actor", "ann")
    assert len(history(folder)) == 1


def on_terminal(folder: Path, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run with a terminal as standard input, the answer already typed."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode() + b"\n")
        return run(folder, *args, stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)


def test_apply_asks_on_a_terminal_and_no_means_no(folder: Path) -> None:
    declined = on_terminal(folder, "n", "apply", *APPLY, "--actor", "ann")
    assert declined.returncode == 0 and "Nothing was applied." in declined.stdout
    assert "Apply these " in declined.stderr and "[y/N]" in declined.stderr and "Contact Method" in declined.stderr
    assert len(history(folder)) == 1
    accepted = on_terminal(folder, "y", "apply", *APPLY, "--actor", "ann")
    assert accepted.returncode == 0 and "Batch " in accepted.stdout
    assert accepted.stderr.count("Contact Method") == 1 and accepted.stdout.count("Contact Method") == 1
    batch = str(history(folder)[0]["batch_id"])
    kept = on_terminal(folder, "", "undo", batch, "--actor", "ann")
    assert "Undo these " in kept.stderr and "Nothing was undone." in kept.stdout
    undone = on_terminal(folder, "yes", "undo", batch, "--actor", "ann")
    assert undone.returncode == 0 and f"Reverted batch {batch}" in undone.stdout
    assert history(folder)[0]["undoes"] == batch
    assert len(history(folder)) == 3


def test_undo_meets_a_parents_later_edit_and_exits_1(folder: Path) -> None:
    applied = json.loads(ok(folder, "apply", *APPLY, "--actor", "ann", "--yes", "--format", "json", "--details"))
    owner, method = applied["changes"][0]["owner_id"], applied["changes"][0]["method"]
    with open_store(f"sqlite:///{folder / 'contact-prefs.db'}") as store:
        point = next(p for p in store.dump().contact_points if (p.owner_id, p.method.value) == (owner, method))
        from attrs import evolve

        from contact_prefs import Snapshot

        store.load(Snapshot(contact_points=[evolve(point, source=Source.PORTAL)]))
    error = fails(folder, "undo", applied["batch_id"], "--actor", "bob", "--yes", code=1)
    assert f"cannot undo batch {applied['batch_id']}" in error and f"{owner} {method}" in error
    assert "nothing was written" in error
    assert len(history(folder)) == 2


CONFLICTING_BACKEND = """
import attrs
from contact_prefs import ConflictError, hookimpl
from contact_prefs.demo import build_district
from contact_prefs_memory import MemoryStore

COMMITS = []


@attrs.define
class ConflictingStore:
    \"\"\"A district where a parent edits a point between every plan and its commit.\"\"\"

    inner: MemoryStore

    def commit(self, changeset, *, actor):
        COMMITS.append(actor)
        print(f"commit attempt {len(COMMITS)}")
        raise ConflictError(changeset.changes[:1])

    def __getattr__(self, name):
        return getattr(self.inner, name)


def open_conflicting(url):
    inner = MemoryStore()
    inner.load(build_district(30))
    return ConflictingStore(inner)


@hookimpl
def contact_prefs_register_stores(register):
    register("conflicting", open_conflicting)
"""


def test_apply_exits_1_when_conflicts_outlast_the_retries(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "conflicting_backend-1.0.dist-info").mkdir(parents=True)
    (site / "conflicting_backend.py").write_text(CONFLICTING_BACKEND, encoding="utf-8")
    (site / "conflicting_backend-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: conflicting-backend\nVersion: 1.0\n", encoding="utf-8"
    )
    (site / "conflicting_backend-1.0.dist-info" / "entry_points.txt").write_text(
        "[contact_prefs]\nconflicting = conflicting_backend\n", encoding="utf-8"
    )
    result = run(tmp_path, "--store", "conflicting://", "apply", *APPLY, "--actor", "ann", "--yes", path=site)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == ["commit attempt 1", "commit attempt 2", "commit attempt 3"]
    assert result.stderr.startswith("contact-prefs: error: planned 3 times, and 1 contact point(s) changed")
    assert "Traceback" not in result.stderr


def test_undo_leaves_off_what_the_batch_switched_off_where_consent_is_revoked(folder: Path) -> None:
    # The demo district has revoked points where behavior is on: the batch switches it off there,
    # and the undo switches everything back but that.
    applied = json.loads(ok(folder, "apply", *PLAN, "--actor", "ann", "--yes", "--format", "json", "--details"))
    url = f"sqlite:///{folder / 'contact-prefs.db'}"
    with open_store(url) as store:
        revoked = {(p.owner_id, p.method.value) for p in store.dump().contact_points if p.revoked}
    held = [c for c in applied["changes"] if (c["owner_id"], c["method"]) in revoked and not c["after"]]
    assert held and len(held) < applied["updated"]

    result = run(folder, "undo", applied["batch_id"], "--actor", "bob", "--yes", "--format", "json")
    assert result.returncode == 0, result.stderr
    undone = json.loads(result.stdout)
    assert (undone["undoes"], undone["updated"]) == (applied["batch_id"], applied["updated"] - len(held))
    assert result.stderr == (
        f"contact-prefs: warning: {len(held)} reasons the batch switched off stayed off, "
        "because consent was withdrawn at their contact points\n"
    )
    assert json.loads(ok(folder, "show", applied["batch_id"], "--format", "json"))["undone_by"] == undone["batch_id"]
    with open_store(url) as store:
        stored = {(p.owner_id, p.method.value): p for p in store.dump().contact_points}
    for change in applied["changes"]:
        point = stored[change["owner_id"], change["method"]]
        stays_off = change in held
        assert (Reason(change["reason"]) in point.enabled) is (change["before"] and not stays_off)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "general=sometimes"), "argument --set: 'general=sometimes': unknown setting 'sometimes'"),
        (("--set", "lunch=on"), "argument --set: 'lunch=on': unknown reason 'lunch'; valid reasons: emergency"),
        (("--set", "general"), "argument --set: 'general' is not REASON=SETTING"),
        (("--set", "text=on"), "argument --set: 'text=on': text message preferences cannot be set in a batch"),
        (("--set", "SMS=off"), "argument --set: 'SMS=off': text message preferences cannot be set"),
        (("--set", "emergency=off"), "argument --set: emergency=off would stop emergency messages"),
        (("--set", "general=on", "--set", "General=off"), "the reason 'general' is set twice"),
        (("--set", "general=on", "--as-of", "2024-13-01"), "argument --as-of: '2024-13-01' is not a date (YYYY-MM-DD)"),
        (("--set", "general=on", "--as-of", "20241201"), "argument --as-of: '20241201' is not a date"),
        (("--set", "general=on", "--school", ""), "argument --school: an empty id"),
        (("--set", "general=on", "--filter-file", "absent.txt"), "argument --filter-file: cannot read 'absent.txt'"),
        ((), "the following arguments are required: --set"),
        # One normalization, in the core: spaces too, so this is the text refusal, not "unknown reason".
        (("--set", "text message=on"), f"argument --set: 'text message=on': {TEXT_REFUSAL}\n"),
        (("--set", " Text-Messages =off"), f"argument --set: ' Text-Messages =off': {TEXT_REFUSAL}\n"),
        (("--set", "text message"), f"argument --set: 'text message': {TEXT_REFUSAL}\n"),
    ],
)
def test_bad_plan_options_exit_2_naming_the_option_and_value(
    district: Path, args: tuple[str, ...], message: str
) -> None:
    assert message in fails(district, "plan", "--mode", "students", *args)


def test_census_staff_requires_a_filter_file_and_reports_unknown_ids(district: Path, tmp_path: Path) -> None:
    error = fails(district, "plan", "--mode", "census-staff", "--set", "staff=on")
    assert "argument --mode: census-staff requires --filter-file FILE" in error
    ids = tmp_path / "staff.txt"
    ids.write_text("stf-0001\nstf-0002\n\n  stf-0003  \nnobody-1\nnobody-2\n", encoding="utf-8")
    result = run(district, "plan", "--mode", "census-staff", "--set", "staff=on", "--filter-file", str(ids))
    assert result.returncode == 0
    assert f"warning: 2 id(s) in {str(ids)!r} match no person: lines 5, 6\n" in result.stderr
    assert "Unknown person 2" in result.stdout
    result = run(district, "plan", "--mode", "census-staff", "--set", "staff=on", "--filter-file", str(ids),
                 "--school", "central-high")  # fmt: skip
    assert "warning: --school and --calendar do not apply to census-staff" in result.stderr


def test_a_student_filter_reports_ids_that_match_nobody(district: Path, tmp_path: Path) -> None:
    ids = tmp_path / "students.txt"
    ids.write_text("stu-0001\n" + "".join(f"ghost-{n}\n" for n in range(7)), encoding="utf-8")
    result = run(district, "plan", "--mode", "students", "--set", "teacher=on", "--filter-file", str(ids))
    assert result.returncode == 0 and "Recipients: 1" in result.stdout
    assert "7 id(s)" in result.stderr and "match no person: lines 2, 3, 4, 5, 6, ...\n" in result.stderr
    assert "ghost" not in result.stderr  # the lines, not their text (see the test below)
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    result = run(
        district, "plan", "--mode", "students", "--set", "teacher=on", "--filter-file", str(tmp_path / "empty.txt")
    )
    assert "holds no ids, so the batch selects nobody" in result.stderr


def test_unknown_batch_ids_are_refused(district: Path) -> None:
    assert "no batch 'feedbeef' in the history of sqlite:///contact-prefs.db" in fails(district, "show", "feedbeef")
    assert "no batch 'feedbeef'" in fails(district, "undo", "feedbeef", "--actor", "ann", "--yes")


# -- import and export ---------------------------------------------------------------


def test_export_then_import_gives_the_same_district(district: Path, tmp_path: Path) -> None:
    out = ok(district, "export", "csv", str(tmp_path / "files"))
    assert "contact_points.csv" in out
    exported = read_csv(tmp_path / "files")
    ok(tmp_path, "import", "csv", "files")
    ok(tmp_path, "export", "csv", "again")
    for path in (tmp_path / "files").iterdir():
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()
    assert len(exported) > 1000


def test_import_oneroster_loads_the_sample_export(tmp_path: Path) -> None:
    out = ok(tmp_path, "import", "oneroster", str(SAMPLE))
    assert "students" in out and "enrollments" in out
    result = run(tmp_path, "plan", "--mode", "students", "--school", "255901001", "--as-of", "2020-10-01",
                 "--set", "attendance=on", "--format", "json")  # fmt: skip
    assert json.loads(result.stdout)["recipients"] == 8


def test_a_bad_import_names_file_line_column_and_writes_nothing(folder: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster"
    shutil.copytree(SAMPLE, roster)
    users = (roster / "users.csv").read_text(encoding="utf-8")
    (roster / "users.csv").chmod(0o644)
    (roster / "users.csv").write_text(users.replace("6601,,09,", "6601,,09,,extra", 1), encoding="utf-8")
    before = ok(folder, "export", "csv", str(tmp_path / "before"))
    error = fails(folder, "import", "oneroster", str(roster))
    assert f"{roster / 'users.csv'}, line 2: has 19 fields where the header has 18" in error
    enrollments = (roster / "enrollments.csv").read_text(encoding="utf-8")
    (roster / "users.csv").write_text(users, encoding="utf-8")
    (roster / "enrollments.csv").chmod(0o644)
    (roster / "enrollments.csv").write_text(enrollments.replace("2020-12-18", "2020-12-32", 1), encoding="utf-8")
    error = fails(folder, "import", "oneroster", str(roster))
    assert "enrollments.csv, line 2, column endDate: '2020-12-32' is not a date (YYYY-MM-DD)" in error
    assert ok(folder, "export", "csv", str(tmp_path / "after")) == before.replace("before", "after")
    assert "is not a folder" in fails(folder, "import", "csv", str(tmp_path / "nowhere"))


# -- the rest of the surface ---------------------------------------------------------


def test_progress_shows_on_a_terminal_only(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "contact_prefs", "demo", "--students", "20"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=120,
        )
        os.close(terminal)
        progress = os.read(controller, 4096).decode()
    finally:
        os.close(controller)
    assert result.returncode == 0
    assert "Building a district of 20 students..." in progress and "Applying the demo batch..." in progress


def test_a_reader_that_stops_early_is_no_error(district: Path) -> None:
    # About 200 kB of output: far more than a pipe holds, so writing meets the closed end.
    args = ("plan", *PLAN, "--set", "priority=on", "--set", "general=off", "--format", "json", "--details")
    process = subprocess.Popen(
        [sys.executable, "-m", "contact_prefs", *args],
        cwd=district,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"{\n"
    process.stdout.close()  # like `| head -1`
    assert process.wait(timeout=120) == 0
    assert process.stderr.read() == b""


def test_help_and_version(tmp_path: Path) -> None:
    assert "Exit codes: 0 done; 1 a conflict" in ok(tmp_path, "--help")
    for command in ("demo", "info", "plan", "apply", "history", "show", "undo", "import", "export"):
        assert "--store URL" in ok(tmp_path, command, "--help")
    assert ok(tmp_path, "--version").startswith("contact-prefs ")
    assert "required: COMMAND" in fails(tmp_path)


# -- import and export as JSON -------------------------------------------------------


def test_export_as_json_counts_what_the_store_holds(district: Path, tmp_path: Path) -> None:
    data = json.loads(ok(district, "export", "csv", str(tmp_path / "files"), "--format", "json"))
    with open_store(f"sqlite:///{district / 'contact-prefs.db'}") as store:
        held = store.dump()
    assert data["counts"] == {f"{name}.csv": len(records) for name, records in held.collections().items()}
    assert data["records"] == len(held) > 1000
    assert (data["directory"], data["store"]) == (str(tmp_path / "files"), "sqlite:///contact-prefs.db")
    assert "consent" not in data


def test_import_as_json_counts_what_the_store_holds_and_reports_consent(district: Path, tmp_path: Path) -> None:
    ok(district, "export", "csv", str(tmp_path / "files"))
    points = tmp_path / "files" / "contact_points.csv"
    rows = list(csv.reader(io.StringIO(points.read_text(encoding="utf-8"), newline="")))
    phone = next(i for i, row in enumerate(rows) if row[1] == "cell_phone" and row[6] == "false")
    rows[phone][2] = "555-0143"  # no area code: kept as saved, named by line
    revoked = next(i for i, row in enumerate(rows) if row[1] == "email" and row[6] == "false")
    rows[revoked][6] = "true"
    points.write_text(to_csv_text(rows), encoding="utf-8")
    out = ok(tmp_path, "--store", f"sqlite:///{tmp_path / 'new.db'}", "import", "csv", "files", "--format", "json")
    data = json.loads(out)
    with open_store(f"sqlite:///{tmp_path / 'new.db'}") as store:
        held = store.dump()
    assert data["counts"] == {name: len(records) for name, records in held.collections().items()}
    assert data["records"] == len(held)
    assert data["store"] == f"sqlite:///{tmp_path / 'new.db'}"
    assert data["consent"] == {
        "revocations_recorded": sum(1 for row in rows[1:] if row[6] != "false"),  # the demo's and this one
        "kept_revoked": 0,
        "unnormalized": [
            {"file": "contact_points.csv", "line": phone + 1, "owner_id": rows[phone][0], "method": "cell_phone"}
        ],
    }
    assert "555-0143" not in out


def to_csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
