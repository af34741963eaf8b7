"""The command line: ``contact-prefs`` (also ``python -m contact_prefs``).

The shell around the library: options and files become a :class:`BatchSpec`
and store calls; results and errors become text, JSON or CSV and an exit
code: 0 done, 1 a conflict that retries could not resolve (nothing was
applied), 2 bad usage or bad input.  ``docs/cli.md`` is the reference.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from .batch import TRIES, run_batch
from .changes import ChangeSet
from .demo import build_district, sample_spec
from .enums import Mode, Reason, Setting, SkipReason
from .errors import ConflictError, ContactPrefsError, UnknownBatchError, UnknownStoreError
from .formats import read_csv, read_oneroster, write_csv
from .formats.results import BatchResult, describe_scope, history_csv, history_data, history_text, to_json
from .formats.table import parse_date
from .planning import plan
from .plugins import open_store
from .spec import TEXT_KEYS, TEXT_REFUSAL, BatchSpec
from .store import BatchRecord, Receipt, Store

PROG = "contact-prefs"
DEFAULT_STORE = "sqlite:///contact-prefs.db"
DEFAULT_FILE = Path("contact-prefs.db")
"""The file ``DEFAULT_STORE`` names, in the current folder."""
STORE_VARIABLE = "CONTACT_PREFS_STORE"
EXIT_DONE, EXIT_CONFLICT, EXIT_USAGE = 0, 1, 2
SHOWN_IDS = 5
"""How many unknown filter ids a warning lists."""


class UsageError(ContactPrefsError):
    """Bad usage found once the options are parsed: the store already holds data, an ambiguous id..."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)  # bad options exit 2 here, with the usage
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
    except BrokenPipeError:
        # The reader stopped reading (``| head``): the work is done, and nobody wants the rest.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_DONE
    except ConflictError as error:
        _error(str(error))
        return EXIT_CONFLICT
    except ContactPrefsError as error:
        _error(str(error))
        return EXIT_USAGE
    except OSError as error:
        _error(f"{error.filename}: {error.strerror}" if error.filename else str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    return code


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _progress(message: str) -> None:
    """Long work says what it is doing, on a terminal only: scripts get quiet stderr."""
    if sys.stderr.isatty():
        print(f"{message}...", file=sys.stderr, flush=True)


# -- options ---------------------------------------------------------------------


_MODES = ", ".join(mode.value.replace("_", "-") for mode in Mode)


def _mode(text: str) -> Mode:
    try:
        return Mode(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid mode {text!r}; choose from {_MODES}") from None


def _setting(text: str) -> tuple[Reason, Setting]:
    key, equals, value = text.partition("=")
    if key.strip().lower().replace("-", "_") in TEXT_KEYS:
        raise argparse.ArgumentTypeError(f"{text!r}: {TEXT_REFUSAL}")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not REASON=SETTING (for example attendance=on)")
    try:
        reason = Reason(key)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: unknown reason {key!r}; valid reasons: {Reason.choices()}"
        ) from None
    try:
        return reason, Setting(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: unknown setting {value!r}; valid settings: {Setting.choices()}"
        ) from None


def _date(text: str) -> datetime.date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} {error}") from None


def _id(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty id: name one, or leave the option out for all")
    return text


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of zero or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and option (``docs/cli.md`` documents them)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Set messenger contact preferences in bulk, safely: plan, review, apply, undo.",
        epilog=f"The store is --store URL, else ${STORE_VARIABLE}, else {DEFAULT_STORE} in the current folder. "
        "Exit codes: 0 done; 1 a conflict that retries could not resolve (nothing applied); "
        "2 bad usage or bad input.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {importlib.metadata.version(PROG)}")
    parser.add_argument(
        "--store", metavar="URL", help=f"where the district lives (default: ${STORE_VARIABLE}, else {DEFAULT_STORE})"
    )
    # The same option after the subcommand; SUPPRESS keeps a value given before it.
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", metavar="URL", default=argparse.SUPPRESS, help="where the district lives")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format (default: table)"
    )
    details = argparse.ArgumentParser(add_help=False)
    details.add_argument(
        "--details", action="store_true", help="also list every change (ids, method, reason, before, after)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(
        name: str, run: Callable[[argparse.Namespace], int], help: str, *parents: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[store, *parents])
        sub.set_defaults(run=run, parser=sub)
        return sub

    demo = command("demo", _demo, "build a synthetic demo district, load it, apply a sample batch")
    demo.add_argument("--students", type=_count, default=2000, metavar="N", help="how many students (default: 2000)")
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="the random seed (default: 0)")
    demo.add_argument("--force", action="store_true", help="add the synthetic people even to a store that holds data")

    for name, run, help in (
        ("plan", _plan, "show what a batch would change (a dry run: nothing is written)"),
        ("apply", _apply, "plan a batch and apply it"),
    ):
        sub = command(name, run, help, output, details)
        _batch_options(sub)
        if name == "apply":
            _confirmation(sub)

    command("history", _history, "list the applied batches and undos, newest first", output)
    show = command("show", _show, "show one batch of the history", output, details)
    show.add_argument("batch_id", metavar="BATCH_ID", help="a batch id (or a unique beginning of one)")
    undo = command("undo", _undo, "undo a batch, if its points are still as it left them", output, details)
    undo.add_argument("batch_id", metavar="BATCH_ID", help="a batch id (or a unique beginning of one)")
    _confirmation(undo)

    load = command("import", _import, "import records from files: native CSV or a OneRoster 1.1 export")
    load.add_argument("kind", choices=("csv", "oneroster"), help="the files' format")
    load.add_argument("directory", type=Path, metavar="DIR", help="the folder holding the files")
    dump = command("export", _export, "export every record as native CSV files")
    dump.add_argument("kind", choices=("csv",), help="the files' format")
    dump.add_argument("directory", type=Path, metavar="DIR", help="the folder to write (created if missing)")
    return parser


def _batch_options(sub: argparse.ArgumentParser) -> None:
    """The options of ``plan`` and ``apply``: a batch spec, option by option."""
    sub.add_argument(
        "--mode",
        type=_mode,
        required=True,
        metavar="{" + _MODES.replace(", ", ",") + "}",
        help="whose preferences to set",
    )
    sub.add_argument("--school", type=_id, metavar="ID", help="only students enrolled in this school (default: all)")
    sub.add_argument(
        "--calendar",
        type=_id,
        metavar="ID",
        help="only students enrolled in this calendar, <school>:<year> (default: all)",
    )
    sub.add_argument(
        "--filter-file",
        type=Path,
        metavar="FILE",
        help="ad hoc filter: one id per line (students; people in census-staff, where it is required)",
    )
    sub.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the day enrollments, memberships and assignments are active (default: today)",
    )
    sub.add_argument(
        "--set",
        type=_setting,
        action="append",
        required=True,
        dest="settings",
        metavar="REASON=on|off|no_change",
        help=f"a reason's setting; repeat for several (reasons: {Reason.choices()})",
    )
    sub.add_argument(
        "--keep-portal", action="store_true", help="leave points whose preferences a parent set in the portal"
    )
    sub.add_argument(
        "--allow-emergency-off", action="store_true", help="allow emergency=off (stops emergency messages)"
    )


def _confirmation(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--actor", required=True, type=_id, metavar="NAME", help="who does this, for the history")
    sub.add_argument("--yes", action="store_true", help="do not ask for confirmation (required off a terminal)")


# -- the store --------------------------------------------------------------------


def _store_url(args: argparse.Namespace) -> tuple[str, str]:
    """The store URL and where it came from, for messages."""
    if args.store:
        return args.store, "argument --store"
    if os.environ.get(STORE_VARIABLE):
        return os.environ[STORE_VARIABLE], f"${STORE_VARIABLE}"
    return DEFAULT_STORE, "the default store"


def _open(args: argparse.Namespace, *, create: bool = False) -> Store:
    """The store the command works on.  Only ``create`` commands (demo, import) may start
    the default store: any other command run in a folder without it says so, rather than
    leave an empty ``contact-prefs.db`` behind and report an empty district."""
    url, origin = _store_url(args)
    if url == DEFAULT_STORE and not create and not DEFAULT_FILE.exists():
        raise UsageError(
            f"there is no {DEFAULT_FILE} in {Path.cwd()}: run '{PROG} demo' or '{PROG} import' there first, "
            "or name the store with --store URL"
        )
    try:
        return open_store(url)
    except UnknownStoreError as error:
        raise UsageError(f"{origin}: {error}") from None


# -- commands ---------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    url, _ = _store_url(args)
    today = datetime.date.today()
    with _open(args, create=True) as store:
        if not args.force:
            held, batches = len(store.dump()), len(store.history())
            if held or batches:
                raise UsageError(
                    f"the store {url} already holds {held:,} records and {batches:,} batch(es); the demo adds "
                    "synthetic families only to an empty store, so they never mix with real ones: "
                    "use --store URL for another store, or --force to add them anyway"
                )
        _progress(f"Building a district of {args.students:,} students")
        district = build_district(args.students, seed=args.seed, today=today)
        _progress(f"Loading {len(district):,} records into {url}")
        store.load(district)
        _progress("Applying the demo batch")
        change_set, receipt = run_batch(store, sample_spec(today), actor="demo")
    schools = len({enrollment.school_id for enrollment in district.enrollments})
    print(
        f"Loaded a demo district into {url}: {args.students:,} students in {schools} schools, "
        f"{len(district.persons):,} people, {len(district.contact_points):,} contact points."
    )
    print()
    assert receipt is not None
    print(_applied(change_set, receipt).text(details=False))
    print()
    print("Next: contact-prefs history; contact-prefs plan --mode students --set teacher=on; contact-prefs --help")
    return EXIT_DONE


def _spec(args: argparse.Namespace) -> BatchSpec:
    """The batch spec of ``plan``/``apply``, its usage errors reported by the subcommand's parser."""
    parser: argparse.ArgumentParser = args.parser
    settings: dict[Reason, Setting] = {}
    for reason, setting in args.settings:
        if reason in settings:
            parser.error(f"argument --set: the reason {reason.value!r} is set twice")
        settings[reason] = setting
    if settings.get(Reason.EMERGENCY) is Setting.OFF and not args.allow_emergency_off:
        parser.error(
            "argument --set: emergency=off would stop emergency messages (closures, threats) for everyone "
            "in scope; add --allow-emergency-off if that is really intended"
        )
    if args.mode is Mode.CENSUS_STAFF and args.filter_file is None:
        parser.error(
            "argument --mode: census-staff requires --filter-file FILE "
            "(an ad hoc census filter: one person id per line)"
        )
    if args.mode is Mode.CENSUS_STAFF and (args.school or args.calendar):
        _warn("--school and --calendar do not apply to census-staff, whose people come from the filter file")
    filter_ids = None if args.filter_file is None else _filter_ids(args.filter_file, parser)
    return BatchSpec(
        mode=args.mode,
        settings=settings,
        school_id=args.school,
        calendar_id=args.calendar,
        filter_ids=filter_ids,
        as_of=args.as_of or datetime.date.today(),
        keep_portal=args.keep_portal,
        allow_emergency_off=args.allow_emergency_off,
    )


def _filter_ids(path: Path, parser: argparse.ArgumentParser) -> frozenset[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        parser.error(f"argument --filter-file: cannot read {str(path)!r}: {error.strerror}")
    except UnicodeDecodeError:
        parser.error(f"argument --filter-file: {str(path)!r} is not UTF-8 text")
    ids = frozenset(line.strip() for line in text.splitlines() if line.strip())
    if not ids:
        _warn(f"the filter file {str(path)!r} holds no ids, so the batch selects nobody")
    return ids


def _warn_unknown_ids(store: Store, spec: BatchSpec, path: Path | None) -> None:
    """Report filter ids that match no person (a census probe names them, whatever the mode)."""
    if not spec.filter_ids:
        return
    probe = BatchSpec(mode=Mode.CENSUS_STAFF, settings={}, filter_ids=spec.filter_ids, as_of=spec.as_of)
    unknown = sorted(
        skip.owner_id for skip in plan(probe, store.snapshot(probe)).skips if skip.reason is SkipReason.UNKNOWN_PERSON
    )
    if unknown:
        shown = ", ".join(unknown[:SHOWN_IDS]) + (", ..." if len(unknown) > SHOWN_IDS else "")
        _warn(f"{len(unknown):,} id(s) in {str(path)!r} match no person: {shown}")


def _plan(args: argparse.Namespace) -> int:
    spec = _spec(args)
    with _open(args) as store:
        _warn_unknown_ids(store, spec, args.filter_file)
        _progress("Planning")
        change_set = plan(spec, store.snapshot(spec))
    _warn_if_nobody(change_set)
    _print(_planned(change_set), args)
    return EXIT_DONE


def _warn_if_nobody(change_set: ChangeSet) -> None:
    """A batch that selects nobody is most often a mistyped school, calendar or date."""
    spec = change_set.spec
    if not change_set.recipients and spec.mode is not Mode.CENSUS_STAFF:
        _warn(f"nobody is in scope: no student is enrolled on {spec.as_of} in {describe_scope(spec)}")


def _apply(args: argparse.Namespace) -> int:
    _require_terminal_or_yes(args, "apply")
    spec = _spec(args)
    with _open(args) as store:
        _warn_unknown_ids(store, spec, args.filter_file)
        if not args.yes:
            preview = plan(spec, store.snapshot(spec))
            _warn_if_nobody(preview)
            _confirming(_planned(preview))
            if not _confirm(f"Apply these {len(preview):,} changes?"):
                print("Nothing was applied.")
                return EXIT_DONE
        _progress("Applying")
        try:
            change_set, receipt = run_batch(store, spec, actor=args.actor)
        except ConflictError as error:
            raise ConflictError(error.conflicts, f"planned {TRIES} times, and {error}") from None
    assert receipt is not None  # run_batch commits unless dry_run
    _print(_applied(change_set, receipt), args)
    return EXIT_DONE


def _require_terminal_or_yes(args: argparse.Namespace, action: str) -> None:
    if not args.yes and not sys.stdin.isatty():
        args.parser.error(
            f"{action} asks for confirmation, but its input is not a terminal: pass --yes (nothing was done)"
        )


def _confirming(result: BatchResult) -> None:
    """What a confirmation is about, for the person at the terminal: stdout keeps only the result."""
    print(result.text(details=False), file=sys.stderr)


def _confirm(question: str) -> bool:
    """Ask on the terminal (stderr, so that stdout stays the results); anything but yes is no."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _history(args: argparse.Namespace) -> int:
    with _open(args) as store:
        records = store.history()
    if args.format == "json":
        print(to_json([history_data(record) for record in records]))
    elif args.format == "csv":
        print(history_csv(records))
    else:
        print(history_text(records))
    return EXIT_DONE


def _show(args: argparse.Namespace) -> int:
    with _open(args) as store:
        record = _find(store, args.batch_id, args)
    _print(BatchResult.from_record(record), args)
    return EXIT_DONE


def _undo(args: argparse.Namespace) -> int:
    _require_terminal_or_yes(args, "undo")
    with _open(args) as store:
        record = _find(store, args.batch_id, args)
        if not args.yes:
            _confirming(BatchResult.from_record(record))
            if not _confirm(f"Undo these {len(record.changes):,} changes?"):
                print("Nothing was undone.")
                return EXIT_DONE
        _progress("Undoing")
        try:
            receipt = store.undo(record.batch_id, actor=args.actor)
        except ConflictError as error:
            raise ConflictError(error.conflicts, _undo_conflict(record.batch_id, error)) from None
        undo = _find(store, receipt.batch_id, args)
    _print(BatchResult.from_record(undo), args)
    # An undo leaves off what the batch switched off where consent is withdrawn now.
    held = sum(record.counts.values()) - sum(undo.counts.values())
    if held:
        sys.stdout.flush()  # after the result, also when both go to one pipe
        _warn(
            f"{held:,} {'reason' if held == 1 else 'reasons'} the batch switched off stayed off, "
            "because consent was withdrawn at their contact points"
        )
    return EXIT_DONE


def _undo_conflict(batch_id: str, error: ConflictError) -> str:
    points = sorted({(change.owner_id, change.method.value) for change in error.conflicts})
    shown = ", ".join(f"{owner} {method}" for owner, method in points[:SHOWN_IDS])
    more = f" and {len(points) - SHOWN_IDS} more" if len(points) > SHOWN_IDS else ""
    return (
        f"cannot undo batch {batch_id}: {len(points)} contact point(s) are no longer as the batch left them "
        f"({shown}{more}); nothing was written"
    )


def _find(store: Store, text: str, args: argparse.Namespace) -> BatchRecord:
    """The batch whose id is ``text``, or the only one whose id begins with it."""
    records = store.history()
    exact = [record for record in records if record.batch_id == text]
    matches = exact or [record for record in records if record.batch_id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(
            f"the batch id {text!r} is the beginning of {len(matches)} batch ids "
            f"({', '.join(r.batch_id for r in matches[:SHOWN_IDS])}): give more of it"
        )
    raise UnknownBatchError(
        f"no batch {text!r} in the history of {_store_url(args)[0]} (contact-prefs history lists them)"
    )


def _import(args: argparse.Namespace) -> int:
    url, _ = _store_url(args)
    _progress(f"Reading {args.directory}")
    if args.kind == "csv":
        snapshot = read_csv(args.directory)
        with _open(args, create=True) as store:
            _progress(f"Loading {len(snapshot):,} records")
            store.load(snapshot)
        counts = {name: len(records) for name, records in snapshot.collections().items()}
    else:
        roster = read_oneroster(args.directory)
        with _open(args, create=True) as store:
            _progress(f"Loading {len(roster.snapshot):,} records")
            store.load(roster.snapshot, remove=roster.remove, keep_preferences=True)
        counts = dict(roster.summary)
    print(f"Imported {args.directory} into {url}:")
    print(_listing(counts))
    return EXIT_DONE


def _export(args: argparse.Namespace) -> int:
    with _open(args) as store:
        _progress("Reading the store")
        snapshot = store.dump()
    _progress(f"Writing {len(snapshot):,} records")
    written = write_csv(snapshot, args.directory)
    print(f"Exported {len(snapshot):,} records to {args.directory}:")
    print(_listing(written))
    return EXIT_DONE


def _listing(counts: dict[str, int]) -> str:
    width = max(len(name) for name in counts)
    return "\n".join(f"  {name.ljust(width)}  {count:>9,}" for name, count in counts.items())


# -- results ----------------------------------------------------------------------


def _planned(change_set: ChangeSet) -> BatchResult:
    return BatchResult(
        spec=change_set.spec,
        counts=change_set.counts(),
        changes=change_set.changes,
        recipients=len(change_set.recipients),
        skips=change_set.skip_counts(),
    )


def _applied(change_set: ChangeSet, receipt: Receipt) -> BatchResult:
    return attrs.evolve(
        _planned(change_set),
        counts=receipt.counts,
        batch_id=receipt.batch_id,
        actor=receipt.actor,
        at=receipt.at,
    )


def _print(result: BatchResult, args: argparse.Namespace) -> None:
    if args.format == "json":
        print(to_json(result.data(details=args.details)))
    elif args.format == "csv":
        print(result.csv(details=args.details))
    else:
        print(result.text(details=args.details))
