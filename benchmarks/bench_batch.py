"""How fast is a district-wide batch?  The library against the SQL floor and a per-row peer.

    python benchmarks/bench_batch.py --students 200000

Builds a SQLite district of N demo students once (cached in
``benchmarks/.cache``), then runs the same batch three ways, each on its own
fresh copy of that file:

1. the library: ``open_store``, ``snapshot``, ``plan``, ``commit`` (in a child
   process, so its peak memory is its own);
2. the floor: hand-written set-based SQL ``UPDATE`` statements;
3. the peer: a script that loops over the recipients, reads their points and
   updates them row by row with prepared statements, in one transaction.

The three must leave identical preferences (every point's enabled and text
masks); a mismatch is an error.  Prints one JSON line of timings.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from contact_prefs import BatchSpec, Method, Mode, Reason, Setting, Source, open_store, plan
from contact_prefs.demo import iter_district

DAY = datetime.date(2026, 11, 30)
"""The district is built around this day and the batch runs on it, so runs are comparable."""

CACHE = Path(__file__).parent / ".cache"

ATTENDANCE, GENERAL = Reason.ATTENDANCE.bit, Reason.GENERAL.bit
HOUSEHOLD = Method.HOUSEHOLD_PHONE.value
BATCH = Source.BATCH.value


def batch_spec() -> BatchSpec:
    """Student Messenger Contacts for the whole district: Attendance ON, General OFF."""
    return BatchSpec(
        mode=Mode.STUDENT_MESSENGER_CONTACTS,
        settings={Reason.ATTENDANCE: Setting.ON, Reason.GENERAL: Setting.OFF},
        as_of=DAY,
    )


# The district ------------------------------------------------------------------------------------


def district_file(students: int, seed: int) -> Path:
    """The cached district of ``students`` students, built on first use."""
    path = CACHE / f"district-{students}-seed{seed}-{DAY.isoformat()}.db"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        started = time.perf_counter()
        with open_store(f"sqlite:///{partial}") as store:
            for part in iter_district(students, seed=seed, today=DAY):
                store.load(part)
        _checkpoint(partial)
        partial.rename(path)
        print(f"built {path.name} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return path


def _checkpoint(path: Path) -> None:
    # Fold the write-ahead log into the file, so that copying the file copies the district.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


@contextmanager
def fresh_copy(source: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        target = Path(folder) / "district.db"
        shutil.copyfile(source, target)
        yield target


# The three contenders ----------------------------------------------------------------------------


def run_library(path: Path) -> dict[str, Any]:
    """The library's phase, in a child process that does nothing else (for an honest peak RSS)."""
    output = subprocess.run(
        [sys.executable, __file__, "--library-phase", str(path)], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(output.stdout)
    return result


def library_phase(path: Path) -> dict[str, Any]:
    spec = batch_spec()
    started = time.perf_counter()
    store = open_store(f"sqlite:///{path}")
    opened = time.perf_counter()
    snapshot = store.snapshot(spec)
    snapped = time.perf_counter()
    changeset = plan(spec, snapshot)
    planned = time.perf_counter()
    store.commit(changeset, actor="benchmark")
    committed = time.perf_counter()
    store.close()
    return {
        "changes": len(changeset),
        "open_s": opened - started,
        "snapshot_s": snapped - opened,
        "plan_s": planned - snapped,
        "commit_s": committed - planned,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# Who the batch reaches, in SQL: messenger contacts of students enrolled on the day, and the
# households those contacts are active members of.  A missing start is stored as ''.
_ACTIVE = "{t}.start_on <= :day AND ({t}.end_on IS NULL OR {t}.end_on >= :day)"
_RECIPIENTS = f"""
    CREATE TEMP TABLE recipients (id TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO recipients
        SELECT r.contact_id FROM relationships r JOIN enrollments e ON e.student_id = r.student_id
        WHERE r.messenger AND {_ACTIVE.format(t="e")};
    CREATE TEMP TABLE households (id TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO households
        SELECT m.household_id FROM household_members m JOIN recipients ON recipients.id = m.person_id
        WHERE {_ACTIVE.format(t="m")};
"""
# Attendance goes on except where consent is revoked; General goes off everywhere.
_NEW = f"((enabled | (CASE WHEN revoked THEN 0 ELSE {ATTENDANCE} END)) & ~{GENERAL})"


def run_floor(path: Path) -> float:
    """The fastest SQLite can do it: two temporary tables and one set-based UPDATE."""
    connection = sqlite3.connect(path, isolation_level=None)
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    script = _RECIPIENTS.replace(":day", f"'{DAY.isoformat()}'")
    for statement in filter(str.strip, script.split(";")):
        connection.execute(statement)
    connection.execute(
        f"""UPDATE contact_points SET enabled = {_NEW}, source = '{BATCH}'
        WHERE address != '' AND {_NEW} != enabled AND (
            (method != '{HOUSEHOLD}' AND owner_id IN (SELECT id FROM recipients))
            OR (method = '{HOUSEHOLD}' AND owner_id IN (SELECT id FROM households)))"""
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def run_peer(path: Path) -> float:
    """A plain district script: for each recipient, read its points and update them one by one."""
    connection = sqlite3.connect(path, isolation_level=None)
    day = DAY.isoformat()
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    recipients = [
        row[0]
        for row in connection.execute(
            "SELECT DISTINCT r.contact_id FROM relationships r JOIN enrollments e ON e.student_id = r.student_id "
            "WHERE r.messenger AND e.start_on <= ? AND (e.end_on IS NULL OR e.end_on >= ?)",
            (day, day),
        )
    ]
    own_points = "SELECT owner_id, method, enabled, revoked FROM contact_points WHERE owner_id = ? AND address != ''"
    household_phones = (
        "SELECT p.owner_id, p.method, p.enabled, p.revoked FROM household_members m "
        "JOIN contact_points p ON p.owner_id = m.household_id AND p.method = ? "
        "WHERE m.person_id = ? AND m.start_on <= ? AND (m.end_on IS NULL OR m.end_on >= ?) AND p.address != ''"
    )
    update = "UPDATE contact_points SET enabled = ?, source = ? WHERE owner_id = ? AND method = ?"
    for person in recipients:
        points = connection.execute(own_points, (person,)).fetchall()
        points = [p for p in points if p[1] != HOUSEHOLD]
        points += connection.execute(household_phones, (HOUSEHOLD, person, day, day)).fetchall()
        for owner, method, enabled, revoked in points:
            new = ((enabled | (0 if revoked else ATTENDANCE)) & ~GENERAL) & 0xFF
            if new != enabled:
                connection.execute(update, (new, BATCH, owner, method))
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def preferences(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT owner_id, method, enabled, text FROM contact_points ORDER BY owner_id, method"
        ).fetchall()
    connection.close()
    return rows


def counts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as connection:
        persons = connection.execute("SELECT count(*) FROM persons").fetchone()[0]
        points = connection.execute("SELECT count(*) FROM contact_points").fetchone()[0]
    connection.close()
    return persons, points


# The run ------------------------------------------------------------------------------------------


def benchmark(students: int, seed: int) -> dict[str, Any]:
    source = district_file(students, seed)
    persons, points = counts(source)
    states = {}
    with fresh_copy(source) as path:
        library = run_library(path)
        states["library"] = preferences(path)
    with fresh_copy(source) as path:
        floor_s = run_floor(path)
        states["floor"] = preferences(path)
    with fresh_copy(source) as path:
        peer_s = run_peer(path)
        states["peer"] = preferences(path)
    for name in ("floor", "peer"):
        if states[name] != states["library"]:
            differ = sum(a != b for a, b in zip(states[name], states["library"], strict=True))
            raise SystemExit(f"bench_batch: the {name} and the library left different preferences at {differ} points")
    total_s = library["snapshot_s"] + library["plan_s"] + library["commit_s"]
    return {
        "students": students,
        "persons": persons,
        "contact_points": points,
        "changes": library["changes"],
        "open_s": round(library["open_s"], 3),
        "snapshot_s": round(library["snapshot_s"], 3),
        "plan_s": round(library["plan_s"], 3),
        "commit_s": round(library["commit_s"], 3),
        "total_s": round(total_s, 3),
        "floor_s": round(floor_s, 3),
        "peer_s": round(peer_s, 3),
        "ratio_vs_floor": round(total_s / floor_s, 2),
        "speedup_vs_peer": round(peer_s / total_s, 2),
        "peak_rss_mb": round(library["peak_rss_mb"], 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10_000, help="district size (default 10,000)")
    parser.add_argument("--seed", type=int, default=0, help="the demo generator's seed (default 0)")
    parser.add_argument("--library-phase", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.library_phase:
        print(json.dumps(library_phase(Path(args.library_phase))))
        return
    if args.students < 1:
        parser.error(f"--students must be at least 1, not {args.students}")
    print(json.dumps(benchmark(args.students, args.seed)))


if __name__ == "__main__":
    main()
