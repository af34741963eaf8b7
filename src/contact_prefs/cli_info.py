"""``contact-prefs info``: what a store holds, so that a batch's scope can be chosen from it.

Reads the whole district (``Store.dump()``), the history and the review queue.
"""

from __future__ import annotations

import argparse
import datetime
import sqlite3
from pathlib import Path
from typing import Any

from .cli import EXIT_DONE, _date, _open, _progress, _quiet_option, _shown_url, _store_url
from .formats.info import StoreInfo
from .formats.results import to_json
from .inventory import take_inventory
from .rights import Action


def add_info_command(
    commands: argparse._SubParsersAction[Any], store: argparse.ArgumentParser, output: argparse.ArgumentParser
) -> None:
    """Add ``info`` to the command line's ``commands``."""
    help = "what the store holds: counts, schools and calendars with the days they cover, demo data or not"
    info = commands.add_parser("info", help=help, description=help, parents=[store, output, _quiet_option()])
    info.set_defaults(run=_info, parser=info)
    info.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the day whose enrolled students are counted (default: today)",
    )


def _info(args: argparse.Namespace) -> int:
    day = args.as_of or datetime.date.today()
    url = _store_url(args)[0]
    with _open(args, Action.PLAN) as store:
        _progress("Reading the store")
        district = store.dump()
        batches = len(store.history())
        waiting = sum(1 for review in store.reviews() if review.waiting)
        demo = store.holds_demo()
    shown_url = _shown_url(args)
    info = StoreInfo(
        url=shown_url,
        backend=shown_url.partition("://")[0],
        schema_version=sqlite_schema_version(url),
        inventory=take_inventory(district, day),
        batches=batches,
        reviews_waiting=waiting,
        demo=demo,
    )
    if args.format == "json":
        print(to_json(info.data()))
    elif args.format == "csv":
        print(info.csv())
    else:
        print(info.text())
    return EXIT_DONE


def sqlite_schema_version(url: str) -> int | None:
    """A SQLite file's ``PRAGMA user_version``, read on a connection of its own that cannot write;
    ``None`` for any other store (or an in-memory one, or a file that cannot be read)."""
    if not url.startswith("sqlite:///"):
        return None
    try:
        from contact_prefs_sqlite.url import MEMORY, database_path

        path = database_path(url)
    except Exception:  # the store opened, so this is not where a bad URL is reported
        return None
    if path == MEMORY:
        return None
    try:
        connection = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
        try:
            row = connection.execute("PRAGMA user_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return int(row[0])
