"""Ctrl-C: before the commit point nothing is written and the command exits 130; after it, the command
finishes, prints its result and exits 0.  Never "interrupted" about a batch that is in the history.

The interrupt is sent by the store itself (``os.kill`` of its own process with SIGINT) at a chosen
moment, so that each test is deterministic: as a terminal's Ctrl-C would arrive, but on cue.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
import pytest

from contact_prefs import ConflictError, Plugins, open_store, run_batch
from contact_prefs.changes import ChangeSet
from contact_prefs.cli import main
from contact_prefs.demo import build_district, sample_spec
from contact_prefs.formats import write_csv
from contact_prefs.ledger import LoadReport
from contact_prefs.snapshot import Snapshot
from contact_prefs.spec import BatchSpec
from contact_prefs.store import Receipt, Store

TODAY = datetime.date.today()
APPLY = ("apply", "--mode", "students", "--set", "behavior=on", "--actor", "ann", "--yes")
LATE = "contact-prefs: warning: interrupted after the commit point: the command finished, and the result above stands\n"


def interrupt() -> None:
    os.kill(os.getpid(), signal.SIGINT)


@attrs.define
class InterruptingStore:
    """A store that interrupts its own process at ``moment``: once the write named has completed
    (``commit``, ``undo``, ``load``), or while planning (``snapshot``), or in a commit that then
    meets a conflict (``conflict``: nothing written)."""

    inner: Store
    moment: str

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        snapshot = self.inner.snapshot(spec)
        if self.moment == "snapshot":
            interrupt()
        return snapshot

    def commit(self, changeset: ChangeSet, *, actor: str) -> Receipt:
        if self.moment == "conflict":
            interrupt()
            raise ConflictError(changeset.changes[:1])
        receipt = self.inner.commit(changeset, actor=actor)
        if self.moment == "commit":
            interrupt()
        return receipt

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        receipt = self.inner.undo(batch_id, actor=actor)
        if self.moment == "undo":
            interrupt()
        return receipt

    def load(
        self,
        snapshot: Snapshot,
        *,
        remove: Snapshot | None = None,
        keep_preferences: bool = False,
        actor: str = "import",
        demo: bool = False,
    ) -> LoadReport:
        report = self.inner.load(snapshot, remove=remove, keep_preferences=keep_preferences, actor=actor, demo=demo)
        if self.moment == "load":
            interrupt()
        return report

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> InterruptingStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.inner.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'district.db'}"
    with open_store(url) as store:
        store.load(build_district(40, today=TODAY))
        run_batch(store, sample_spec(TODAY), actor="demo")
    return url


def interrupted_at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    """Every store the command line opens interrupts at ``moment``."""
    opens = Plugins.open_store
    monkeypatch.setattr(Plugins, "open_store", lambda self, url: InterruptingStore(opens(self, url), moment))


def batches(url: str) -> list[str]:
    with open_store(url) as store:
        return [record.batch_id for record in store.history()]


def test_ctrl_c_after_the_commit_lets_apply_finish_print_its_receipt_and_exit_0(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = batches(url)
    interrupted_at(monkeypatch, "commit")
    assert main(["--store", url, *APPLY, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    receipt = json.loads(out)
    assert batches(url) == [receipt["batch_id"], *before] and receipt["updated"] > 0
    assert err == LATE
    # Ctrl-C is Python's again once the command is done.
    with pytest.raises(KeyboardInterrupt):
        interrupt()


def test_ctrl_c_before_the_commit_point_stops_apply_and_writes_nothing(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = batches(url)
    for moment in ("snapshot", "conflict"):  # while planning; in a commit that wrote nothing
        interrupted_at(monkeypatch, moment)
        assert main(["--store", url, *APPLY]) == 130
        out, err = capsys.readouterr()
        assert (out, err) == ("", "contact-prefs: error: interrupted: nothing was written to the store\n")
        assert batches(url) == before


def test_ctrl_c_after_the_undo_lets_it_finish(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (batch,) = batches(url)
    interrupted_at(monkeypatch, "undo")
    assert main(["--store", url, "undo", batch, "--actor", "ann", "--yes"]) == 0
    out, err = capsys.readouterr()
    assert f"Reverted batch {batch}" in out and err.endswith(LATE)
    assert len(batches(url)) == 2


def test_ctrl_c_after_the_load_lets_import_and_demo_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(build_district(5, today=TODAY), tmp_path / "files")
    interrupted_at(monkeypatch, "load")
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    assert main(["--store", url, "import", "csv", str(tmp_path / "files")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Imported {tmp_path / 'files'} into {url}:") and err == LATE
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["--store", url, "demo", "--students", "5"]) == 0
    out, err = capsys.readouterr()
    assert "Loaded a demo district" in out and "Updated preferences" in out and err == LATE
    assert len(batches(url)) == 1


BACKEND = """
import os, signal
from contact_prefs import hookimpl, open_store


class Interrupting:
    def __init__(self, inner):
        self.inner = inner

    def commit(self, changeset, *, actor):
        receipt = self.inner.commit(changeset, actor=actor)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, just after the batch was committed
        return receipt

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.inner.close()


@hookimpl
def contact_prefs_register_stores(register):
    register("interrupting", lambda url: Interrupting(open_store("sqlite" + url.removeprefix("interrupting"))))
"""


def test_a_process_interrupted_after_the_commit_reports_the_batch_it_applied(url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "interrupting_backend-1.0.dist-info").mkdir(parents=True)
    (site / "interrupting_backend.py").write_text(BACKEND, encoding="utf-8")
    (site / "interrupting_backend-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: interrupting-backend\nVersion: 1.0\n", encoding="utf-8"
    )
    (site / "interrupting_backend-1.0.dist-info" / "entry_points.txt").write_text(
        "[contact_prefs]\ninterrupting = interrupting_backend\n", encoding="utf-8"
    )
    before = batches(url)
    result = subprocess.run(
        [sys.executable, "-m", "contact_prefs", "--store", "interrupting" + url.removeprefix("sqlite"), *APPLY],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    after = batches(url)
    assert len(after) == len(before) + 1 and f"Batch {after[0]} by ann" in result.stdout
    assert result.stderr == LATE
