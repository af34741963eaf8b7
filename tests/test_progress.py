"""Progress of long work: the core's protocol and chunks, what planning, reading and writing
report, the terminal bar, and the command line showing it on a terminal only."""

from __future__ import annotations

import datetime
import io
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from contact_prefs import BatchSpec, Reason, Snapshot, plan
from contact_prefs import progress_bar as bars
from contact_prefs.changes import ChangeSet
from contact_prefs.cli import main
from contact_prefs.demo import build_district, sample_spec
from contact_prefs.formats import read_csv, read_oneroster, write_csv
from contact_prefs.formats.table import data_lines, read_table, tracked
from contact_prefs.ledger import LoadReport
from contact_prefs.progress import CHUNK, NO_PROGRESS, Progress, batches, reporting, slices
from contact_prefs.progress_bar import TerminalProgress, progress_for
from contact_prefs.store import Receipt
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.progress import Recorder
from contact_prefs.testing.strategies import districts, specs
from contact_prefs_memory import MemoryStore

from .test_cli import SAMPLE

DAY = datetime.date(2026, 11, 30)


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a console's stderr does."""

    def isatty(self) -> bool:
        return True


# -- the core ------------------------------------------------------------------------


def test_slices_and_batches_cover_every_item_once_in_order() -> None:
    items = list(range(2 * CHUNK + 3))
    assert [len(chunk) for chunk in slices(items)] == [CHUNK, CHUNK, 3]
    assert [x for chunk in slices(items) for x in chunk] == items
    assert [len(batch) for batch in batches(iter(items), 7)][-1] == (2 * CHUNK + 3) % 7
    assert [x for batch in batches(iter(items), 7) for x in batch] == items
    assert list(slices([])) == [] and list(batches([])) == []


def test_reporting_finishes_the_step_when_the_work_fails() -> None:
    recorder = Recorder()
    with pytest.raises(ValueError), reporting(recorder, 10, "Work"):
        raise ValueError("broken")
    assert recorder.events == [("start", (10, "Work")), ("finish", None)]
    with reporting(NO_PROGRESS, None, "Nothing"):  # reports nowhere, and says so when shown
        assert repr(NO_PROGRESS) == "NO_PROGRESS"


def test_plan_reports_its_points_in_chunks_and_plans_the_same() -> None:
    district = build_district(5000, today=DAY)
    spec = sample_spec(DAY)
    recorder = Recorder()
    reported = plan(spec, district, progress=recorder)
    assert reported == plan(spec, district)
    [(total, what)] = recorder.started
    assert what == "Planning" and total is not None and total > CHUNK
    assert recorder.steps[:-1] == [CHUNK] * (len(recorder.steps) - 1) and 0 < recorder.steps[-1] <= CHUNK
    assert sum(recorder.steps) == total
    assert recorder.events[-1] == ("finish", None)


@settings(max_examples=examples(50), deadline=None)
@given(districts(), specs())
def test_progress_changes_no_plan(snapshot: Snapshot, spec: BatchSpec) -> None:
    recorder = Recorder()
    assert plan(spec, snapshot, progress=recorder) == plan(spec, snapshot)
    [(total, _)] = recorder.started
    assert sum(recorder.steps) == total and recorder.events[-1] == ("finish", None)


def test_writing_and_reading_native_csv_report_every_record(tmp_path: Path) -> None:
    district = build_district(3000, today=DAY)
    writing = Recorder()
    write_csv(district, tmp_path, progress=writing)
    assert writing.started == [(len(district), f"Writing {tmp_path}")]
    assert sum(writing.steps) == len(district) and max(writing.steps) <= CHUNK
    reading = Recorder()
    assert read_csv(tmp_path, progress=reading) == read_csv(tmp_path)
    assert reading.started == [(len(district), f"Reading {tmp_path}")]  # one line per record, after each header
    assert sum(reading.steps) == len(district) and max(reading.steps) <= CHUNK


def test_writing_and_reading_a_backup_report_every_entry(tmp_path: Path) -> None:
    from contact_prefs.contents import StoreContents
    from contact_prefs.formats.archive import Source, read_archive, write_archive

    contents = StoreContents(records=build_district(3000, today=DAY))
    entries = sum(contents.counts().values())
    writing = Recorder()
    source = Source(store="memory://", backend="memory")
    write_archive(contents, tmp_path / "night.zip", source=source, progress=writing)
    assert writing.started == [(entries, "Writing night.zip")]
    assert sum(writing.steps) == entries and max(writing.steps) <= CHUNK
    reading = Recorder()
    assert read_archive(tmp_path / "night.zip", progress=reading).contents == contents
    assert reading.started == [(entries, "Reading night.zip")]
    assert sum(reading.steps) == entries


def test_reading_oneroster_reports_the_lines_of_the_files_it_reads() -> None:
    recorder = Recorder()
    assert read_oneroster(SAMPLE, progress=recorder) == read_oneroster(SAMPLE)
    [(total, what)] = recorder.started
    files = ("orgs", "academicSessions", "classes", "users", "enrollments")
    assert what == f"Reading {SAMPLE}" and total == sum(data_lines(SAMPLE / f"{name}.csv") for name in files)
    assert sum(recorder.steps) == total


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("a,b\n1,2\n3,4\n", 2),
        ("a,b\n1,2\n3,4", 2),  # no final newline
        ("a,b\n", 0),
        ("", 0),
        ('a,b\n1,"two\nlines"\n\n3,4\n', 4),  # a cell over two lines, a blank line
    ],
)
def test_data_lines_counts_the_lines_after_the_header(tmp_path: Path, text: str, lines: int) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert data_lines(path) == lines
    recorder = Recorder()
    rows = list(tracked(read_table(path, ("a", "b")), lines, recorder)) if text else []
    assert sum(recorder.steps) == (lines if text else 0)
    assert len(rows) == text.count(",") - 1 if text else rows == []
    assert data_lines(tmp_path / "missing.csv") == 0


def test_tracked_advances_by_the_lines_read_every_chunk(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rows = 2 * CHUNK + 5
    path.write_text("a\n" + "".join(f"{n}\n" for n in range(rows)), encoding="utf-8")
    recorder = Recorder()
    assert len(list(tracked(read_table(path, ("a",)), data_lines(path), recorder))) == rows
    assert recorder.steps == [CHUNK, CHUNK, 5]


class StoreBeforeProgress:
    """A backend written before ``progress=``: its snapshot, load and commit take none."""

    def __init__(self) -> None:
        from contact_prefs_memory import MemoryStore

        self.inner = MemoryStore()

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        return self.inner.snapshot(spec)

    def load(
        self,
        snapshot: Snapshot,
        *,
        remove: Snapshot | None = None,
        keep_preferences: bool = False,
        actor: str = "import",
        demo: bool = False,
    ) -> object:
        return self.inner.load(snapshot, remove=remove, keep_preferences=keep_preferences, actor=actor, demo=demo)

    def commit(
        self, changeset: object, *, actor: str, proposal_id: str | None = None, schedule_id: str | None = None
    ) -> object:
        return self.inner.commit(changeset, actor=actor)  # type: ignore[arg-type]


def test_wrappers_pass_progress_only_to_a_store_that_takes_it() -> None:
    from contact_prefs.plugins import ObservedStore, Plugins
    from contact_prefs.store import progress_option
    from contact_prefs_memory import MemoryStore

    recorder = Recorder()
    before, current = StoreBeforeProgress(), MemoryStore()
    assert progress_option(recorder, current.commit) == {"progress": recorder}
    assert progress_option(recorder, lambda *args, **options: None) == {"progress": recorder}
    assert progress_option(recorder, before.commit) == {}
    assert progress_option(NO_PROGRESS, current.commit) == {}
    # On a terminal, the command line passes a bar: a store written before it works on, unreported.
    district, spec = build_district(50, today=DAY), sample_spec(DAY)
    observed = ObservedStore(before, Plugins.load())  # type: ignore[arg-type]
    observed.load(district, progress=recorder)
    receipt = observed.commit(plan(spec, observed.snapshot(spec, progress=recorder)), actor="staff", progress=recorder)
    assert receipt.applied > 0 and recorder.events == []
    reported = ObservedStore(current, Plugins.load())
    reported.load(district, progress=recorder)
    assert recorder.started == [(len(district), "Loading")] and recorder.events[-1] == ("finish", None)


class ForgetfulStore(MemoryStore):
    """Reports a commit's progress but, when the commit fails, never finishes the step."""

    def commit(self, changeset: ChangeSet, *, progress: Progress = NO_PROGRESS, **options: Any) -> Receipt:
        progress.start(len(changeset.updates), "Applying")
        receipt = super().commit(changeset, **options)
        progress.advance(len(changeset.updates))
        progress.finish()
        return receipt


class MiscountingStore(MemoryStore):
    """Reports a load whose advances fall short of its total."""

    def load(self, snapshot: Snapshot, *, progress: Progress = NO_PROGRESS, **options: Any) -> LoadReport:
        with reporting(progress, len(snapshot), "Loading"):
            progress.advance(len(snapshot.contact_points))
            return super().load(snapshot, **options)


@pytest.mark.parametrize(
    ("broken", "test"),
    [
        (ForgetfulStore, "test_a_commit_that_conflicts_finishes_its_progress_and_writes_nothing"),
        (MiscountingStore, "test_load_reports_its_records_and_loads_the_same"),
    ],
)
def test_the_kit_fails_a_store_that_reports_its_progress_wrongly(broken: type[MemoryStore], test: str) -> None:
    from contact_prefs.testing.checks import CheckedStore
    from contact_prefs.testing.progress import ProgressContract

    from .test_kit_catches_broken_stores import memory_row

    def checked(kind: type[MemoryStore]) -> Callable[[], CheckedStore]:
        return lambda: CheckedStore(kind(), memory_row)

    contract = ProgressContract()
    loading = test == "test_load_reports_its_records_and_loads_the_same"
    with checked(broken)() as store, pytest.raises(AssertionError):
        getattr(contract, test)(store, *([checked(broken)] if loading else []))
    with checked(MemoryStore)() as store:  # the honest store passes the same test
        getattr(contract, test)(store, *([checked(MemoryStore)] if loading else []))


def test_the_kit_fails_a_store_that_reports_no_progress() -> None:
    from contact_prefs.testing.checks import CheckedStore
    from contact_prefs.testing.progress import ProgressContract

    from .test_kit_catches_broken_stores import memory_row

    silent = CheckedStore(StoreBeforeProgress(), memory_row)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="nothing was reported"):
        ProgressContract().test_snapshot_reports_its_reading_and_reads_the_same(silent)


# -- the terminal bar ----------------------------------------------------------------


def test_a_long_step_shows_a_bar_with_percentage_and_time_left() -> None:
    stream = Terminal()
    progress = TerminalProgress(stream, long=100)
    progress.start(400, "Planning")
    progress.advance(200)
    progress.advance(200)
    progress.finish()
    progress.finish()  # a second finish does nothing
    shown = stream.getvalue()
    assert "Planning:   0%" in shown and "Planning: 100%" in shown and "400/400 [" in shown
    assert "<00:00" in shown  # the time left
    assert shown.endswith("\n")  # the finished bar stays, and the next line starts clean


def test_a_short_step_shows_nothing_and_a_step_of_unknown_size_says_what_it_does() -> None:
    stream = Terminal()
    progress = TerminalProgress(stream, long=100)
    progress.start(99, "Planning")
    progress.advance(99)
    progress.finish()
    assert stream.getvalue() == ""
    progress.start(None, "Reading the store")
    progress.advance(5)
    progress.finish()
    assert stream.getvalue() == "Reading the store...\n"


def test_a_step_that_starts_finishes_the_one_before() -> None:
    stream = Terminal()
    progress = TerminalProgress(stream, long=1)
    progress.start(10, "Reading")
    progress.advance(10)
    progress.start(None, "Loading")
    shown = stream.getvalue()
    assert "Reading: 100%|" in shown and shown.endswith(" records/s]\nLoading...\n")


def test_progress_goes_to_a_terminal_only_and_never_with_quiet() -> None:
    assert isinstance(progress_for(Terminal()), TerminalProgress)
    assert progress_for(Terminal(), quiet=True) is NO_PROGRESS
    assert progress_for(io.StringIO()) is NO_PROGRESS


# -- the command line ------------------------------------------------------------------


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """stderr as a terminal, and every step long enough for a bar.  Called in the test itself:
    pytest sets its own capturing stderr again when a test's call begins."""
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(bars, "LONG", 10)
    return stream


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'district.db'}"
    assert main(["--store", url, "demo", "--students", "300", "--quiet"]) == 0
    return url


PLAN = ("plan", "--mode", "student-messenger-contacts", "--set", "teacher=on")
APPLY = ("apply", "--mode", "student-messenger-contacts", "--set", "teacher=off", "--yes")  # the demo set it on


def test_plan_on_a_terminal_shows_its_progress(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = on_terminal(monkeypatch)
    assert main(["--store", store, *PLAN]) == 0
    shown = terminal.getvalue()
    assert "Reading the district...\n" in shown
    assert "Planning: 100%|" in shown
    assert "Contact Method" in capsys.readouterr().out  # the result, on stdout as ever


def test_apply_on_a_terminal_shows_the_commit_as_a_percentage(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = on_terminal(monkeypatch)
    assert main(["--store", store, *APPLY]) == 0
    shown = terminal.getvalue()
    assert "Reading the district...\n" in shown  # SQLite cannot count what it will read before it has read it
    assert "Planning: 100%|" in shown
    [applying] = [line for line in shown.replace("\r", "\n").splitlines() if line.startswith("Applying: 100%|")]
    points = int(applying.split("|")[2].split("/")[0])
    assert points > 10 and f"{points}/{points} [" in applying  # every point the batch wrote, counted by the store
    assert capsys.readouterr().out.startswith("Batch ")  # the result, on stdout as ever


@pytest.mark.parametrize("chunk", [1, 7])
def test_sqlite_commits_in_slices_inside_one_transaction(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Slices change neither what a commit writes nor its conflict check, which sums over them."""
    from contact_prefs import ConflictError, open_store
    from contact_prefs_sqlite import store as sqlite_store

    monkeypatch.setattr(sqlite_store, "COMMIT_CHUNK", chunk)
    district = build_district(300, today=DAY)
    spec = sample_spec(DAY)
    with open_store("sqlite://") as store, open_store("sqlite://") as whole:
        store.load(district)
        whole.load(district)
        change_set = plan(spec, store.snapshot(spec))
        recorder = Recorder()
        store.commit(change_set, actor="staff", progress=recorder)
        assert recorder.started == [(len(change_set.updates), "Applying")]
        assert all(0 < step <= chunk for step in recorder.steps) and sum(recorder.steps) == len(change_set.updates)
        monkeypatch.setattr(sqlite_store, "COMMIT_CHUNK", 10**9)
        whole.commit(plan(spec, whole.snapshot(spec)), actor="staff")
        assert store.dump().sorted().contact_points == whole.dump().sorted().contact_points
        monkeypatch.setattr(sqlite_store, "COMMIT_CHUNK", chunk)
        # Only the first point moved since planning: found in the first slice, and nothing is written.
        undone = whole.history()[0].batch_id
        whole.undo(undone, actor="staff")
        again = plan(spec, whole.snapshot(spec))
        first = next(p for p in whole.dump().contact_points if p.key == again.updates[0].key)
        whole.load(Snapshot(contact_points=[attrs.evolve(first, enabled=first.enabled ^ {Reason.TEACHER})]))
        before, stale = whole.dump(), Recorder()
        with pytest.raises(ConflictError):
            whole.commit(again, actor="staff", progress=stale)
        assert stale.events[-1] == ("finish", None)
        assert whole.dump() == before and len(whole.history()) == 2


def test_quiet_or_no_terminal_shows_no_progress(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = on_terminal(monkeypatch)
    assert main(["--store", store, *PLAN, "--quiet"]) == 0
    assert terminal.getvalue() == ""
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    assert main(["--store", store, *PLAN]) == 0
    assert plain.getvalue() == ""
    assert capsys.readouterr().out.count("Contact Method") == 2


def test_export_and_import_on_a_terminal_show_their_progress(
    store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    terminal = on_terminal(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["--store", store, "export", "csv", "files"]) == 0
    assert "Reading the store...\n" in terminal.getvalue()
    assert "Writing files: 100%|" in terminal.getvalue()
    terminal.truncate(0)
    terminal.seek(0)
    assert main(["--store", "sqlite:///copy.db", "import", "csv", "files"]) == 0
    assert "Reading files: 100%|" in terminal.getvalue()
    assert "Loading: 100%|" in terminal.getvalue() and "3552/3552 [" in terminal.getvalue()  # the store counts
    terminal.truncate(0)
    terminal.seek(0)
    shutil.copytree(SAMPLE, "roster")
    assert main(["--store", "sqlite:///roster.db", "import", "oneroster", "roster"]) == 0
    assert "Reading roster: 100%|" in terminal.getvalue()
    terminal.truncate(0)
    terminal.seek(0)
    assert main(["--store", store, "export", "csv", "quiet", "--quiet"]) == 0
    assert terminal.getvalue() == ""


def test_a_long_import_shows_a_bar_on_a_real_terminal(tmp_path: Path) -> None:
    """At full size (over 50,000 records), through a pseudo-terminal, as a person sees it."""
    district = build_district(5000, today=DAY)
    assert len(district) > bars.LONG
    write_csv(district, tmp_path / "files")
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "contact_prefs", "--store", "sqlite:///new.db", "import", "csv", "files"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=120,
        )
        os.close(terminal)
        shown = b""
        while chunk := _read(controller):
            shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 0
    text = shown.decode()
    assert "Reading files:" in text and "100%" in text and f"{len(district)}/{len(district)} [" in text
    assert "Loading:" in text and f"{len(district)}/{len(district)} [" in text


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal's other end is closed: all was read
        return b""
