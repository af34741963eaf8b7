"""How fast is a district-wide batch?  The library against the SQL floor, a bound and a per-row peer.

    python benchmarks/bench_batch.py --students 200000
    python benchmarks/bench_batch.py --students 20000 --store postgresql://postgres@127.0.0.1:5432/test

Builds a district of N demo students once (a SQLite file cached in
``benchmarks/.cache``, or a PostgreSQL schema ``bench_<N>_<seed>`` kept on the
server), then runs the same batch four ways, each on its own fresh copy:

1. the library: ``open_store``, ``snapshot``, ``plan``, ``commit`` (in a child
   process, so its peak memory is its own);
2. the floor: hand-written set-based SQL ``UPDATE`` statements on the same database;
3. the bound: the points the batch can change read out, and each change written
   back by key, with nothing else: what deciding in Python costs at least;
4. the peer: a script that loops over the recipients, reads their points and
   updates them row by row with prepared statements, in one transaction.

The four must leave identical preferences (every point's enabled and text
masks); a mismatch is an error.  Prints one JSON line of timings.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from contact_prefs import BatchSpec, Method, Mode, Reason, Setting, Source, open_store, plan
from contact_prefs.bulk import collector_paused
from contact_prefs.demo import iter_district
from contact_prefs_sqlite import schema as sqlite_schema

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


def new_enabled(enabled: int, revoked: int) -> int:
    """What the batch makes of one point: Attendance on unless its consent is revoked, General off."""
    return (enabled | (ATTENDANCE & ~revoked)) & ~GENERAL


def changed_points(points: Iterable[tuple[str, str, int, Any]]) -> list[tuple[int, str, str, str]]:
    """``(enabled, source, owner_id, method)`` for each point ``(owner, method, enabled, revoked)`` it changes."""
    return [
        (new, BATCH, owner, method)
        for owner, method, enabled, revoked in points
        if (new := new_enabled(enabled, revoked)) != enabled
    ]


def load_district(url: str, students: int, seed: int) -> None:
    with collector_paused(), open_store(url) as store:
        for part in iter_district(students, seed=seed, today=DAY):
            store.load(part)


class Database(Protocol):
    """Where the contenders run: a district built once, fresh copies of it, and its SQL dialect."""

    def copies(self, students: int, seed: int) -> Callable[[], Any]: ...
    def floor(self, url: str) -> float: ...
    def peer(self, url: str) -> float: ...
    def bound(self, url: str) -> float: ...
    def preferences(self, url: str) -> list[tuple[Any, ...]]: ...
    def counts(self, url: str) -> tuple[int, int]: ...


# SQLite ---------------------------------------------------------------------------------------------

# A missing start is stored as '' (before every day), a missing end as NULL.
_ACTIVE_SQLITE = "{t}.start_on <= :day AND ({t}.end_on IS NULL OR {t}.end_on >= :day)"
_NEW_SQL = f"((enabled | ({ATTENDANCE} & ~revoked)) & ~{GENERAL})"
# ``messenger = 1``, not a bare ``messenger``: with the comparison SQLite scans the relationships and
# finds each one's enrollment by key, in under half the time of its plan for the bare column.
_RECIPIENTS_SQLITE = (
    "SELECT r.contact_id FROM relationships r JOIN enrollments e ON e.student_id = r.student_id "
    f"WHERE r.messenger = 1 AND {_ACTIVE_SQLITE.format(t='e')}"
)
_HOUSEHOLDS_SQLITE = (
    "SELECT m.household_id FROM recipients "
    f"CROSS JOIN household_members m ON m.person_id = recipients.id WHERE {_ACTIVE_SQLITE.format(t='m')}"
)
# The points the batch can change, with what deciding them needs: the recipients' own saved
# points and their households' saved phones.
_POINTS_SQLITE = f"""
    SELECT p.owner_id, p.method, p.enabled, p.revoked FROM recipients CROSS JOIN contact_points p
    ON p.owner_id = recipients.id WHERE p.method != '{HOUSEHOLD}' AND p.address != ''
    UNION ALL SELECT p.owner_id, p.method, p.enabled, p.revoked FROM households CROSS JOIN contact_points p
    ON p.owner_id = households.id AND p.method = '{HOUSEHOLD}' WHERE p.address != ''"""


class SQLite:
    def copies(self, students: int, seed: int) -> Callable[[], Any]:
        # Named by the schema version too: a file cached by an older version holds other columns.
        version = len(sqlite_schema.MIGRATIONS)
        source = CACHE / f"district-{students}-seed{seed}-{DAY.isoformat()}-v{version}.db"
        if not source.exists():
            CACHE.mkdir(parents=True, exist_ok=True)
            partial = source.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            started = time.perf_counter()
            load_district(f"sqlite:///{partial}", students, seed)
            with sqlite3.connect(partial) as connection:  # fold the log into the file, so a copy is whole
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            partial.rename(source)
            print(f"built {source.name} in {time.perf_counter() - started:.1f}s", file=sys.stderr)

        @contextmanager
        def copy() -> Iterator[str]:
            with tempfile.TemporaryDirectory(prefix="bench-") as folder:
                target = Path(folder) / "district.db"
                shutil.copyfile(source, target)
                # Written out before the clock starts: otherwise the kernel flushes the copy while a
                # contender runs, and its commit waits behind 200 MB of someone else's writes.
                with open(target, "rb+") as copied:
                    os.fsync(copied.fileno())
                yield f"sqlite:///{target}"

        return copy

    @staticmethod
    def _connect(url: str) -> sqlite3.Connection:
        return sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)

    @staticmethod
    def _id_tables(connection: sqlite3.Connection) -> None:
        """The temporary id tables of the recipients and of their households, in the open transaction."""
        day = {"day": DAY.isoformat()}
        connection.execute("CREATE TEMP TABLE recipients (id TEXT PRIMARY KEY) WITHOUT ROWID")
        connection.execute(f"INSERT OR IGNORE INTO recipients {_RECIPIENTS_SQLITE}", day)
        connection.execute("CREATE TEMP TABLE households (id TEXT PRIMARY KEY) WITHOUT ROWID")
        connection.execute(f"INSERT OR IGNORE INTO households {_HOUSEHOLDS_SQLITE}", day)

    def floor(self, url: str) -> float:
        """Two temporary tables and two set-based UPDATEs, each finding its points by primary key."""
        connection = self._connect(url)
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        self._id_tables(connection)
        # One UPDATE per kind of owner, each seeking its owners' points by key: one UPDATE over
        # both kinds at once scans every point of the district instead, about half as fast again.
        for kind, owners in ((f"method != '{HOUSEHOLD}'", "recipients"), (f"method = '{HOUSEHOLD}'", "households")):
            connection.execute(
                f"""UPDATE contact_points SET enabled = {_NEW_SQL}, source = '{BATCH}'
                WHERE {kind} AND owner_id IN (SELECT id FROM {owners}) AND address != '' AND {_NEW_SQL} != enabled"""
            )
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed

    def peer(self, url: str) -> float:
        """For each recipient, read its points and update them one by one."""
        connection = self._connect(url)
        day = DAY.isoformat()
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        recipients = connection.execute(
            "SELECT DISTINCT r.contact_id FROM relationships r JOIN enrollments e ON e.student_id = r.student_id "
            "WHERE r.messenger = 1 AND e.start_on <= ? AND (e.end_on IS NULL OR e.end_on >= ?)",
            (day, day),
        ).fetchall()
        own = (
            "SELECT owner_id, method, enabled, revoked FROM contact_points "
            "WHERE owner_id = ? AND method != ? AND address != ''"
        )
        household = (
            "SELECT p.owner_id, p.method, p.enabled, p.revoked FROM household_members m "
            "JOIN contact_points p ON p.owner_id = m.household_id AND p.method = ? "
            "WHERE m.person_id = ? AND m.start_on <= ? AND (m.end_on IS NULL OR m.end_on >= ?) AND p.address != ''"
        )
        update = "UPDATE contact_points SET enabled = ?, source = ? WHERE owner_id = ? AND method = ?"
        for (person,) in recipients:
            points = connection.execute(own, (person, HOUSEHOLD)).fetchall()
            points += connection.execute(household, (HOUSEHOLD, person, day, day)).fetchall()
            for owner, method, enabled, revoked in points:
                new = new_enabled(enabled, revoked)
                if new != enabled:
                    connection.execute(update, (new, BATCH, owner, method))
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed

    def bound(self, url: str) -> float:
        """The floor's id tables, then every point the batch can change read out, and each change written by key."""
        connection = self._connect(url)
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        self._id_tables(connection)
        connection.executemany(
            "UPDATE contact_points SET enabled = ?, source = ? WHERE owner_id = ? AND method = ?",
            changed_points(connection.execute(_POINTS_SQLITE)),
        )
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed

    def preferences(self, url: str) -> list[tuple[Any, ...]]:
        connection = self._connect(url)
        rows = connection.execute(
            "SELECT owner_id, method, enabled, text FROM contact_points ORDER BY owner_id, method"
        ).fetchall()
        connection.close()
        return rows

    def counts(self, url: str) -> tuple[int, int]:
        connection = self._connect(url)
        persons = connection.execute("SELECT count(*) FROM persons").fetchone()[0]
        points = connection.execute("SELECT count(*) FROM contact_points").fetchone()[0]
        connection.close()
        return persons, points


# PostgreSQL -----------------------------------------------------------------------------------------

# Open-ended dates are stored as -infinity / infinity.
_ACTIVE_PG = "{t}.start_date <= %(day)s AND {t}.end_date >= %(day)s"
_RECORD_TABLES = ("persons", "household_members", "enrollments", "relationships", "assignments", "contact_points")


class Postgres:
    def __init__(self, url: str) -> None:
        self.server = url.partition("?")[0]

    def _url(self, schema: str) -> str:
        return f"{self.server}?schema={schema}"

    def _connect(self, url: str) -> Any:
        import psycopg

        schema = url.rpartition("schema=")[2]
        connection = psycopg.connect(self.server)
        connection.execute(f'SET search_path TO "{schema}"')
        connection.commit()
        return connection

    def copies(self, students: int, seed: int) -> Callable[[], Any]:
        # Named by the schema version too: a base schema built by an older version holds other columns.
        from contact_prefs_postgres.schema import latest

        base = f"bench_{students}_{seed}_{DAY:%Y%m%d}_v{latest()}"
        with self._connect(self._url(base)) as connection:
            built = connection.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'ready'", (base,)
            ).fetchone()
        if not built:
            with self._connect(self._url(base)) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{base}" CASCADE')
                connection.commit()
            started = time.perf_counter()
            load_district(self._url(base), students, seed)
            with self._connect(self._url(base)) as connection:
                connection.execute("CREATE TABLE ready ()")
                connection.commit()
            print(f"built schema {base} in {time.perf_counter() - started:.1f}s", file=sys.stderr)

        @contextmanager
        def copy() -> Iterator[str]:
            schema = f"bench_run_{uuid.uuid4().hex[:12]}"
            with open_store(self._url(schema)):  # creates the schema and its tables, empty
                pass
            with self._connect(self._url(schema)) as connection:
                for table in _RECORD_TABLES:
                    connection.execute(f'INSERT INTO "{schema}".{table} SELECT * FROM "{base}".{table}')
                connection.execute(f'ANALYZE "{schema}".contact_points')
                connection.commit()
            try:
                yield self._url(schema)
            finally:
                with self._connect(self._url(schema)) as connection:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
                    connection.commit()

        return copy

    def floor(self, url: str) -> float:
        connection = self._connect(url)
        started = time.perf_counter()
        self._id_tables(connection)
        new = f"((p.enabled | ({ATTENDANCE} & ~p.revoked)) & ~{GENERAL})"
        connection.execute(
            f"""UPDATE contact_points p SET enabled = {new}, source = '{BATCH}'
            FROM (SELECT id, false AS household FROM recipients UNION ALL SELECT id, true FROM households) o
            WHERE p.owner_id = o.id AND (p.method = '{HOUSEHOLD}') = o.household
            AND p.address <> '' AND {new} <> p.enabled"""
        )
        connection.commit()
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed

    def _id_tables(self, connection: Any) -> None:
        day = {"day": DAY}
        connection.execute(
            "CREATE TEMP TABLE recipients ON COMMIT DROP AS SELECT DISTINCT r.contact_id AS id FROM relationships r "
            f"JOIN enrollments e ON e.student_id = r.student_id WHERE r.messenger AND {_ACTIVE_PG.format(t='e')}",
            day,
        )
        connection.execute(
            "CREATE TEMP TABLE households ON COMMIT DROP AS SELECT DISTINCT m.household_id AS id "
            f"FROM household_members m JOIN recipients ON recipients.id = m.person_id WHERE {_ACTIVE_PG.format(t='m')}",
            day,
        )

    def bound(self, url: str) -> float:
        connection = self._connect(url)
        started = time.perf_counter()
        self._id_tables(connection)
        points = connection.execute(
            f"""SELECT p.owner_id, p.method, p.enabled, p.revoked FROM contact_points p
            JOIN (SELECT id, false AS household FROM recipients UNION ALL SELECT id, true FROM households) o
            ON p.owner_id = o.id AND (p.method = '{HOUSEHOLD}') = o.household WHERE p.address <> ''"""
        ).fetchall()
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE contact_points SET enabled = %s, source = %s WHERE owner_id = %s AND method = %s",
                changed_points(points),
            )
        connection.commit()
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed

    def peer(self, url: str) -> float:
        connection = self._connect(url)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT r.contact_id FROM relationships r JOIN enrollments e ON e.student_id = r.student_id "
                f"WHERE r.messenger AND {_ACTIVE_PG.format(t='e')}",
                {"day": DAY},
            )
            recipients = cursor.fetchall()
            own = (
                "SELECT owner_id, method, enabled, revoked FROM contact_points "
                "WHERE owner_id = %s AND method <> %s AND address <> ''"
            )
            household = (
                "SELECT p.owner_id, p.method, p.enabled, p.revoked FROM household_members m "
                "JOIN contact_points p ON p.owner_id = m.household_id AND p.method = %s "
                "WHERE m.person_id = %s AND m.start_date <= %s AND m.end_date >= %s AND p.address <> ''"
            )
            update = "UPDATE contact_points SET enabled = %s, source = %s WHERE owner_id = %s AND method = %s"
            for (person,) in recipients:
                points = cursor.execute(own, (person, HOUSEHOLD), prepare=True).fetchall()
                points += cursor.execute(household, (HOUSEHOLD, person, DAY, DAY), prepare=True).fetchall()
                for owner, method, enabled, revoked in points:
                    new = new_enabled(enabled, revoked)
                    if new != enabled:
                        cursor.execute(update, (new, BATCH, owner, method), prepare=True)
        connection.commit()
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed

    def preferences(self, url: str) -> list[tuple[Any, ...]]:
        with self._connect(url) as connection:
            rows = connection.execute(
                "SELECT owner_id, method, enabled, text_enabled FROM contact_points ORDER BY owner_id, method"
            ).fetchall()
        return [tuple(row) for row in rows]

    def counts(self, url: str) -> tuple[int, int]:
        with self._connect(url) as connection:
            persons = connection.execute("SELECT count(*) FROM persons").fetchone()[0]
            points = connection.execute("SELECT count(*) FROM contact_points").fetchone()[0]
        return persons, points


# The run ------------------------------------------------------------------------------------------


def run_library(url: str) -> dict[str, Any]:
    """The library's phase, in a child process that does nothing else (for an honest peak RSS)."""
    output = subprocess.run(
        [sys.executable, __file__, "--library-phase", url], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(output.stdout)
    return result


def library_phase(url: str) -> dict[str, Any]:
    """One batch through the library, as a district-wide job runs it: with the collector paused (an opt-in)."""
    with collector_paused():
        return _library_phase(url)


def _library_phase(url: str) -> dict[str, Any]:
    spec = batch_spec()
    started = time.perf_counter()
    store = open_store(url)
    opened = time.perf_counter()
    snapshot = store.snapshot(spec)
    snapped = time.perf_counter()
    changeset = plan(spec, snapshot)
    planned = time.perf_counter()
    del snapshot  # as run_batch does: a plan needs its snapshot no longer
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


def benchmark(database: Database, students: int, seed: int) -> dict[str, Any]:
    copy = database.copies(students, seed)
    states = {}
    with copy() as url:
        persons, points = database.counts(url)
        library = run_library(url)
        states["library"] = database.preferences(url)
    with copy() as url:
        floor_s = database.floor(url)
        states["floor"] = database.preferences(url)
    with copy() as url:
        peer_s = database.peer(url)
        states["peer"] = database.preferences(url)
    with copy() as url:
        bound_s = database.bound(url)
        states["bound"] = database.preferences(url)
    for name in ("floor", "peer", "bound"):
        if states[name] != states["library"]:
            differ = sum(a != b for a, b in zip(states[name], states["library"], strict=False))
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
        "bound_s": round(bound_s, 3),
        "bound_vs_floor": round(bound_s / floor_s, 2),
        "ratio_vs_bound": round(total_s / bound_s, 2),
        "peak_rss_mb": round(library["peak_rss_mb"], 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10_000, help="district size (default 10,000)")
    parser.add_argument("--seed", type=int, default=0, help="the demo generator's seed (default 0)")
    parser.add_argument(
        "--store",
        default="sqlite",
        metavar="URL",
        help="'sqlite' (default: a cached file) or a postgresql:// server URL (schemas are made on it)",
    )
    parser.add_argument("--library-phase", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.library_phase:
        print(json.dumps(library_phase(args.library_phase)))
        return
    if args.students < 1:
        parser.error(f"--students must be at least 1, not {args.students}")
    if args.store == "sqlite":
        database: Database = SQLite()
    elif args.store.startswith(("postgresql://", "postgres://")):
        database = Postgres(args.store)
    else:
        parser.error(f"--store must be 'sqlite' or a postgresql:// URL, not {args.store!r}")
    print(json.dumps({"store": args.store.partition("://")[0], **benchmark(database, args.students, args.seed)}))


if __name__ == "__main__":
    main()
