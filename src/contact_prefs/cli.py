"""The command line: ``contact-prefs`` (also ``python -m contact_prefs``).

The shell around the library: options and files become a :class:`BatchSpec`
and store calls; results and errors become text, JSON or CSV and an exit
code: 0 done, 1 a conflict that retries could not resolve (nothing was
applied), for ``consent inbox`` a message overdue for review, for ``verify`` a history
that does not verify, for ``restore`` and ``copy`` a target that does not read back as
written, or for ``run-due`` a due step that failed; 2 bad usage or bad input, 130
interrupted before anything was written.  ``docs/cli.md`` is the reference; the
``consent`` commands are in :mod:`contact_prefs.cli_consent`, ``info`` in
:mod:`contact_prefs.cli_info`, ``backup``, ``restore`` and ``copy`` in
:mod:`contact_prefs.cli_backup`, the approval commands and ``verify`` in
:mod:`contact_prefs.cli_governance`, the schedules in :mod:`contact_prefs.cli_schedules`.

Nothing it prints holds a store's password (URLs go through
:func:`~contact_prefs.privacy.redact_url`) or repeats a value that looks like
a phone number or e-mail address (values go through
:func:`~contact_prefs.privacy.shown`; argparse's own messages are cleaned of
such arguments before they are printed).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import attrs

from .approval import ApprovalPolicy
from .batch import TRIES, run_batch
from .batch_ids import batch_id_problem, find_batch
from .bulk import collector_paused
from .changes import ChangeSet
from .demo import build_district, sample_spec
from .demo_data import DEMO_LOADER, INTO_DEMO, check_import_target
from .enums import Method, Mode, Reason, Setting, SkipReason
from .errors import ConflictError, ContactPrefsError, UnknownStoreError
from .formats import read_csv, read_oneroster, write_csv
from .formats.csv_native import point_lines
from .formats.oneroster import user_lines
from .formats.results import BatchResult, describe_scope, history_csv, history_data, history_text, to_json
from .formats.table import parse_date
from .formats.transfer import Transferred, Where
from .identifiers import check_actor, id_problem
from .interrupts import CommitPoint, HeldStore, commit_point
from .ledger import LoadReport
from .planning import plan
from .privacy import looks_personal, redact_url, scrub, shown, url_secrets
from .progress import NO_PROGRESS, Progress, reporting
from .progress_bar import progress_for
from .proposals import check_approval_not_needed
from .rights import Action
from .rules import check_undoable
from .scope import UnknownId, diagnose, reaches_nobody, unknown_scope_ids
from .spec import TEXT_REFUSAL, BatchSpec, SettingError, reason_setting
from .store import BatchRecord, Receipt, Store, progress_option
from .undoing import may_write_nothing, undo_writes_nothing

PROG = "contact-prefs"
DEFAULT_STORE = "sqlite:///contact-prefs.db"
DEFAULT_FILE = Path("contact-prefs.db")
"""The file ``DEFAULT_STORE`` names, in the current folder."""
STORE_VARIABLE = "CONTACT_PREFS_STORE"
EXIT_DONE, EXIT_CONFLICT, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SHOWN_IDS = 5
"""How many lines of unknown filter ids a warning lists."""
WITHHELD = "<withheld>"
BATCH_ID_HELP = "a batch id, or a beginning of it (4 characters or more) that only one batch has"
NOTHING_RECORDED = "nothing to change: no batch was recorded"


class UsageError(ContactPrefsError):
    """Bad usage found once the options are parsed: the store already holds data, an ambiguous id..."""


class _BadUsage(Exception):
    """argparse's complaint about the options, raised (not printed) so that main can clean it first."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _BadUsage(self, message)


@attrs.frozen
class _Withheld:
    """What no message may repeat: the passwords of the store URLs given, and the arguments that look
    like phone numbers or e-mail addresses (argparse quotes a bad argument as it was typed)."""

    secrets: tuple[str, ...]
    personal: tuple[str, ...]

    @classmethod
    def of(cls, arguments: Sequence[str]) -> _Withheld:
        urls = [*arguments, os.environ.get(STORE_VARIABLE, "")]
        secrets = {secret for url in urls for secret in url_secrets(url)}
        values = {part for argument in arguments for part in (argument, argument.partition("=")[2])}
        personal = {value for value in values if "://" not in value and looks_personal(value)}
        return cls(tuple(secrets), tuple(sorted(personal, key=len, reverse=True)))

    def clean(self, message: str) -> str:
        message = scrub(message, self.secrets)
        for value in self.personal:
            message = message.replace(value, WITHHELD)
        return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    withheld = _Withheld.of(arguments)
    try:
        return _run(arguments)
    except _BadUsage as usage:  # bad options: the usage, then the complaint
        usage.parser.print_usage(sys.stderr)
        print(f"{usage.parser.prog}: error: {withheld.clean(usage.message)}", file=sys.stderr)
        return EXIT_USAGE
    except ConflictError as error:
        _error(withheld.clean(str(error)))
        return EXIT_CONFLICT
    except ContactPrefsError as error:
        _error(withheld.clean(str(error)))
        return EXIT_USAGE
    except OSError as error:
        _error(withheld.clean(f"{error.filename}: {error.strerror}" if error.filename else str(error)))
        return EXIT_USAGE
    except KeyboardInterrupt:
        # Only ever before a command's commit point (see contact_prefs.interrupts).
        _error("interrupted: nothing was written to the store")
        return EXIT_INTERRUPTED


def _run(arguments: list[str]) -> int:
    args = build_parser().parse_args(arguments)
    from .cli_rights import resolve_actor  # here, not at the top: it builds on this module

    resolve_actor(args)
    _REPORTING.progress = progress_for(sys.stderr, quiet=getattr(args, "quiet", False))
    try:
        with collector_paused():  # one district-wide job per process: the opt-in is ours to take
            code: int = args.run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
    except BrokenPipeError:
        # The reader stopped reading (``| head``): the work is done, and nobody wants the rest.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_DONE
    return code


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


@attrs.define
class _Reporting:
    """Where the command being run reports its long work (set once its options are parsed)."""

    progress: Progress = NO_PROGRESS


_REPORTING = _Reporting()


def _steps() -> Progress:
    """Where long work reports (pass it as ``progress=``): a bar on a terminal, for steps that
    count their work; nowhere off a terminal (scripts get quiet stderr) or with ``--quiet``."""
    return _REPORTING.progress


def planned_now(store: Store, spec: BatchSpec) -> ChangeSet:
    """``spec`` planned from the store as it is now, the reading and the planning reporting to
    :func:`_steps` (the reading only from a store that reports its progress)."""
    return plan(spec, store.snapshot(spec, **progress_option(_steps(), store.snapshot)), progress=_steps())


def _progress(message: str) -> None:
    """A step that cannot count its work (one call into the store) says what it is doing, on the
    terminal :func:`_steps` reports to."""
    with reporting(_steps(), None, message):
        pass


# -- options ---------------------------------------------------------------------


_MODES = ", ".join(mode.value.replace("_", "-") for mode in Mode)


def _mode(text: str) -> Mode:
    try:
        return Mode(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid mode {shown(text)}; choose from {_MODES}") from None


def _setting(text: str) -> tuple[Reason, Setting]:
    """``REASON=SETTING``, checked by the core's :func:`~contact_prefs.spec.reason_setting`, as a spec checks it."""
    key, equals, value = text.partition("=")
    try:
        if not equals:
            reason_setting(key, Setting.NO_CHANGE)  # "--set text" is refused as text, not as a bad pair
            raise argparse.ArgumentTypeError(f"{shown(text)} is not REASON=SETTING (for example attendance=on)")
        return reason_setting(key, value)
    except SettingError as error:
        if not equals and error.problem != TEXT_REFUSAL:
            raise argparse.ArgumentTypeError(
                f"{shown(text)} is not REASON=SETTING (for example attendance=on)"
            ) from None
        # A withheld pair says nothing: the problem names the part at fault already.
        given = f"{shown(text)}: " if shown(text) == repr(text) else ""
        raise argparse.ArgumentTypeError(f"{given}{error.problem}") from None


def _date(text: str) -> datetime.date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{shown(text)} {error}") from None


def one_line(when_empty: str, wrong: Callable[[str, str], str]) -> Callable[[str], str]:
    """An argument type for text under the id rule (:mod:`contact_prefs.identifiers`): not only
    spaces, one line, not too long.  ``wrong(text, problem)`` words the refusal."""

    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(when_empty)
        problem = id_problem(text)
        if problem:
            raise argparse.ArgumentTypeError(wrong(text, problem))
        return text

    return check


_id = one_line(
    "an empty id: name one, or leave the option out for all",
    lambda text, problem: f"{shown(text)} {problem}, and is not an id",
)
_actor = one_line(
    "an empty name: say who does this, for the history",
    lambda text, problem: f"{shown(text)} {problem}: the history needs a name on one line",
)


def _batch_id(text: str) -> str:
    problem = batch_id_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number of zero or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and option (``docs/cli.md`` documents them)."""
    parser = _Parser(
        prog=PROG,
        description="Set messenger contact preferences in bulk, safely: plan, review, apply, undo.",
        epilog=f"The store is --store URL, else ${STORE_VARIABLE}, else {DEFAULT_STORE} in the current folder. "
        "Exit codes: 0 done; 1 a conflict that retries could not resolve (nothing applied), "
        "or a message overdue for review (consent inbox), "
        "or a target that does not read back as written (restore, copy); "
        "2 bad usage or bad input; 130 interrupted before anything was written.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {importlib.metadata.version(PROG)}")
    parser.add_argument(
        "--store", metavar="URL", help=f"where the district lives (default: ${STORE_VARIABLE}, else {DEFAULT_STORE})"
    )
    # The same options after the subcommand; SUPPRESS keeps a value given before it.
    store = _Parser(add_help=False)
    store.add_argument("--store", metavar="URL", default=argparse.SUPPRESS, help="where the district lives")
    from .cli_rights import add_rights_options  # here, not at the top: it builds on this module

    add_rights_options(parser, after_command=False)
    add_rights_options(store, after_command=True)
    output = _Parser(add_help=False)
    output.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format (default: table)"
    )
    quiet = _quiet_option()
    details = _Parser(add_help=False)
    details.add_argument(
        "--details", action="store_true", help="also list every change (ids, method, reason, before, after)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(
        name: str, run: Callable[[argparse.Namespace], int], help: str, *parents: _Parser
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[store, *parents])
        sub.set_defaults(run=run, parser=sub)
        return sub

    demo = command("demo", _demo, "build a synthetic demo district, load it, apply a sample batch", quiet)
    demo.add_argument("--students", type=_count, default=2000, metavar="N", help="how many students (default: 2000)")
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="the random seed (default: 0)")
    demo.add_argument("--force", action="store_true", help="add the synthetic people even to a store that holds data")

    from .cli_governance import add_apply_options  # here, not at the top: it builds on this module

    for name, run, help in (
        ("plan", _plan, "show what a batch would change (a dry run: nothing is written)"),
        ("apply", _apply, "plan a batch and apply it"),
    ):
        sub = command(name, run, help, output, details, quiet)
        _batch_options(sub, required=name == "plan")
        if name == "apply":
            _confirmation(sub)
            add_apply_options(sub)

    listing = command("history", _history, "list the applied batches and undos, newest first", output)
    listing.add_argument("--limit", type=_count, metavar="N", help="list only the newest N (default: every one)")
    show = command("show", _show, "show one batch of the history", output, details)
    show.add_argument(
        "batch_id", type=_batch_id, metavar="BATCH_ID", help=BATCH_ID_HELP
    )
    undo = command("undo", _undo, "undo a batch, if its points are still as it left them", output, details, quiet)
    undo.add_argument(
        "batch_id", type=_batch_id, metavar="BATCH_ID", help=BATCH_ID_HELP
    )
    _confirmation(undo)

    summary = _Parser(add_help=False)
    summary.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    load = command(
        "import", _import, "import records from files: native CSV or a OneRoster 1.1 export", summary, quiet
    )
    load.add_argument("kind", choices=("csv", "oneroster"), help="the files' format")
    load.add_argument("directory", type=Path, metavar="DIR", help="the folder holding the files")
    load.add_argument(
        INTO_DEMO,
        action="store_true",
        help=f"import even into a store holding the demo district (which {DEMO_LOADER} built)",
    )
    dump = command("export", _export, "export every record as native CSV files", summary, quiet)
    dump.add_argument("kind", choices=("csv",), help="the files' format")
    dump.add_argument(
        "directory",
        type=Path,
        metavar="DIR",
        help="the folder to write (created if missing; an empty one, unless --overwrite)",
    )
    dump.add_argument(
        "--overwrite", action="store_true", help="write into a folder that holds files, replacing the six CSV files"
    )

    from .cli_backup import add_backup_commands
    from .cli_consent import add_consent_commands  # here, not at the top: they build on this module
    from .cli_governance import add_governance_commands
    from .cli_info import add_info_command
    from .cli_schedules import add_schedule_commands

    add_info_command(commands, store, output)
    add_backup_commands(commands, store)
    add_consent_commands(commands, store, output)
    add_governance_commands(commands, store, summary, details)
    add_schedule_commands(commands, store)
    return parser


def _quiet_option() -> _Parser:
    """``--quiet``, for a command whose long work shows its progress on a terminal."""
    quiet = _Parser(add_help=False)
    quiet.add_argument(
        "--quiet", action="store_true", help="show no progress on the terminal (warnings and errors still show)"
    )
    return quiet


def _batch_options(sub: argparse.ArgumentParser, *, required: bool = True) -> None:
    """The options of ``plan``, ``apply`` and ``propose``: a batch spec, option by option.  ``--mode`` and
    ``--set`` are required unless ``required`` is false (``apply``, whose ``--proposal`` stands for them)."""
    sub.add_argument(
        "--mode",
        type=_mode,
        required=required,
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
        required=required,
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
    sub.add_argument("--yes", action="store_true", help="do not ask for confirmation (required off a terminal)")


# -- the store --------------------------------------------------------------------


def _store_url(args: argparse.Namespace) -> tuple[str, str]:
    """The store URL and where it came from.  Messages name it only through :func:`_shown_url`."""
    if args.store:
        return args.store, "argument --store"
    if os.environ.get(STORE_VARIABLE):
        return os.environ[STORE_VARIABLE], f"${STORE_VARIABLE}"
    return DEFAULT_STORE, "the default store"


def _shown_url(args: argparse.Namespace) -> str:
    """The store URL as messages and results name it: with its password masked."""
    return redact_url(_store_url(args)[0])


def _open(
    args: argparse.Namespace,
    action: Action,
    context: Mapping[str, object] | None = None,
    *,
    create: bool = False,
    existing: bool = False,
    governed: bool = True,
) -> Store:
    """The store the command works on, once the actor is authorized for ``action`` (with ``context``
    and the store's masked URL as the context): a denial reads and writes nothing.  The store asks
    again before each write (:class:`~contact_prefs.plugins.ObservedStore`); ``governed=False``
    opens it without the district's policy (the demo, which writes under its own names).

    Only ``create`` commands (demo, import) may start the default store: any other command run in
    a folder without it says so, rather than leave an empty ``contact-prefs.db`` behind and report
    an empty district.  A store named explicitly is opened (and created) as its backend does, unless
    the command needs an ``existing`` one: an export from a mistyped SQLite file would write an
    empty district."""
    from .cli_rights import authorize, plugins  # here, not at the top: it builds on this module

    url, origin = _store_url(args)
    authorize(args, action, {"store": redact_url(url), **(context or {})})
    if url == DEFAULT_STORE and not create and not DEFAULT_FILE.exists():
        raise UsageError(
            f"there is no {DEFAULT_FILE} in {Path.cwd()}: run '{PROG} demo' or '{PROG} import' there first, "
            "or name the store with --store URL"
        )
    missing = _missing_sqlite_file(url) if existing else None
    if missing is not None:
        raise UsageError(f"{origin}: there is no SQLite store {missing}: check the URL (nothing was written)")
    try:
        return plugins(args, governed=governed).open_store(url)
    except UnknownStoreError as error:
        raise UsageError(f"{origin}: {error}") from None


def _missing_sqlite_file(url: str) -> str | None:
    """The path of the file a ``sqlite:`` URL names, if there is no such file; else ``None``
    (another backend, an in-memory store, or a URL the store itself will refuse)."""
    if not url.startswith("sqlite:///"):
        return None
    from contact_prefs_sqlite.url import database_path  # only for SQLite URLs: the backend is a plugin

    try:
        path = database_path(url)
    except ContactPrefsError:
        return None
    return None if os.path.exists(path) else path


# -- commands ---------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    url = _shown_url(args)
    today = datetime.date.today()
    # Anyone the policy lets administer may build the demo, which writes as "import" and "demo".
    with _open(args, Action.ADMIN, create=True, governed=False) as opened, commit_point() as point:
        store = HeldStore(opened, point)
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
        # Marked, so that no import of real records lands here unasked.
        store.load(district, demo=True, **progress_option(_steps(), store.load))
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
        _finished(point)
    return EXIT_DONE


def _finished(point: CommitPoint) -> None:
    """The result is printed: say so if Ctrl-C came after the commit point, when it could no longer stop the work."""
    sys.stdout.flush()  # the result first, also when both go to one pipe
    if point.interrupted:
        _warn("interrupted after the commit point: the command finished, and the result above stands")


def _spec(args: argparse.Namespace) -> tuple[BatchSpec, dict[str, int]]:
    """The batch spec of ``plan``/``apply`` and the line of each filter id, its usage errors reported
    by the subcommand's parser."""
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
    lines = {} if args.filter_file is None else _filter_ids(args.filter_file, parser)
    spec = BatchSpec(
        mode=args.mode,
        settings=settings,
        school_id=args.school,
        calendar_id=args.calendar,
        filter_ids=None if args.filter_file is None else lines.keys(),
        as_of=args.as_of or datetime.date.today(),
        keep_portal=args.keep_portal,
        allow_emergency_off=args.allow_emergency_off,
    )
    return spec, lines


def _filter_ids(path: Path, parser: argparse.ArgumentParser) -> dict[str, int]:
    """The ids of a filter file, one a line (blank lines ignored), each with the first line that has it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        parser.error(f"argument --filter-file: cannot read {str(path)!r}: {error.strerror}")
    except UnicodeDecodeError:
        parser.error(f"argument --filter-file: {str(path)!r} is not UTF-8 text")
    lines: dict[str, int] = {}
    # Lines end at "\n" only (so that line numbers are an editor's): whitespace around an id is
    # forgiven, a control character inside one is refused.
    for number, line in enumerate(text.split("\n"), start=1):
        identifier = line.strip()
        if identifier:
            problem = id_problem(identifier)
            if problem:  # the line, not its text: it may be an address pasted into the wrong file
                parser.error(f"argument --filter-file: {str(path)!r}, line {number}: the id there {problem}")
            lines.setdefault(identifier, number)
    if not lines:
        _warn(f"the filter file {str(path)!r} holds no ids, so the batch selects nobody")
    return lines


def _warn_unknown_ids(store: Store, spec: BatchSpec, path: Path | None, lines: dict[str, int]) -> None:
    """Report the lines of filter ids that match no person (a census probe finds them, whatever the mode).

    The ids themselves are not repeated: a filter file may hold addresses pasted by mistake."""
    if not spec.filter_ids:
        return
    probe = BatchSpec(mode=Mode.CENSUS_STAFF, settings={}, filter_ids=spec.filter_ids, as_of=spec.as_of)
    unknown = sorted(
        lines[skip.owner_id]
        for skip in plan(probe, store.snapshot(probe)).skips
        if skip.reason is SkipReason.UNKNOWN_PERSON
    )
    if unknown:
        listed = ", ".join(map(str, unknown[:SHOWN_IDS])) + (", ..." if len(unknown) > SHOWN_IDS else "")
        where = "line" if len(unknown) == 1 else "lines"
        _warn(f"{len(unknown):,} id(s) in {str(path)!r} match no person: {where} {listed}")


def _plan(args: argparse.Namespace) -> int:
    spec, lines = _spec(args)
    with _open(args, Action.PLAN, {"spec": spec}) as store:
        _warn_unknown_ids(store, spec, args.filter_file, lines)
        change_set = planned_now(store, spec)
        _check_scope(store, change_set, args)
    _print(_planned(change_set), args)
    return EXIT_DONE


def _check_scope(store: Store, change_set: ChangeSet, args: argparse.Namespace) -> None:
    """A batch that reaches nobody is most often a mistyped school, calendar or date: an id no
    enrollment names is a usage error with the closest known ids; otherwise a warning says which
    step of the scope came up empty (:mod:`contact_prefs.scope`).

    Checked after planning, and only when the plan reaches nobody: a plan that reaches someone has
    an enrollment in the school and calendar, so both are known.  Reads the whole district then."""
    spec = change_set.spec
    unreachable = change_set.skip_counts().get(SkipReason.NO_CONTACT_METHOD, 0)
    if spec.mode is Mode.CENSUS_STAFF or not reaches_nobody(change_set.recipients, unreachable):
        return
    district = store.dump()
    unknown = unknown_scope_ids(spec, district)
    if unknown:
        args.parser.error("; ".join(map(_unknown_id, unknown)))
    found = diagnose(spec, district, describe_scope(attrs.evolve(spec, filter_ids=None)))
    if found is not None:
        _warn(found.message())


def _unknown_id(unknown: UnknownId) -> str:
    """The message of an unknown ``--school`` or ``--calendar``: the value as :func:`shown` quotes it,
    and the store's closest ids (ids of schools and calendars, not of people)."""
    what = "school" if unknown.option == "--school" else "calendar"
    closest = " or ".join(map(repr, unknown.closest))
    hint = f"did you mean {closest}? " if closest else ""
    return (
        f"argument {unknown.option}: {shown(unknown.value)} is not a {what} id in this store "
        f"({hint}{PROG} info lists the schools and calendars)"
    )


def _apply(args: argparse.Namespace) -> int:
    from .cli_governance import _approval_policy, apply_proposal_command, require_batch_or_proposal

    if args.proposal is not None:
        return apply_proposal_command(args)
    require_batch_or_proposal(args)
    _require_terminal_or_yes(args, "apply")
    spec, lines = _spec(args)
    approval = _approval_policy(args)
    with _open(args, Action.APPLY, {"spec": spec}) as opened:
        _warn_unknown_ids(opened, spec, args.filter_file, lines)
        preview = planned_now(opened, spec)
        _check_scope(opened, preview, args)
        if not preview:
            return _nothing_recorded(preview, args)
        check_approval_not_needed(approval, preview)  # before anyone is asked, and again at each commit
        if not args.yes:
            _confirming(_planned(preview))
            if not _confirm(f"Apply these {len(preview):,} changes?"):
                print("Nothing was applied.")
                return EXIT_DONE
        with commit_point() as point:
            try:
                change_set, receipt = _commit(HeldStore(opened, point), preview, actor=args.actor, approval=approval)
            except ConflictError as error:
                raise ConflictError(error.conflicts, f"planned {TRIES} times, and {error}") from None
            if receipt is None:
                return _nothing_recorded(change_set, args)
            _print(_applied(change_set, receipt), args)
            _finished(point)
    return EXIT_DONE


def _commit(
    store: Store, planned: ChangeSet, *, actor: str, approval: ApprovalPolicy
) -> tuple[ChangeSet, Receipt | None]:
    """Commit the change set shown (or planned, with --yes); on a conflict, which wrote nothing,
    plan again from a fresh snapshot, as :func:`~contact_prefs.batch.run_batch` does.  A plan that
    comes out empty is not committed (``None``): an empty batch is never recorded; one that needs
    a second person under ``approval`` is refused."""
    check_actor(actor)
    change_set = planned
    for attempt in range(1, TRIES + 1):
        if not change_set:
            return change_set, None
        check_approval_not_needed(approval, change_set)
        try:
            return change_set, store.commit(change_set, actor=actor, **progress_option(_steps(), store.commit))
        except ConflictError:
            if attempt == TRIES:
                raise
        change_set = planned_now(store, planned.spec)
    raise AssertionError("unreachable")


def _nothing_recorded(change_set: ChangeSet, args: argparse.Namespace) -> int:
    """A batch that would write nothing: the plan as the result, and no batch in the history."""
    _print(_planned(change_set), args)
    sys.stdout.flush()  # the result first, also when both go to one pipe
    _warn(NOTHING_RECORDED)
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
    with _open(args, Action.PLAN) as store:
        records = store.batches(limit=args.limit)
    if args.format == "json":
        print(to_json([history_data(record) for record in records]))
    elif args.format == "csv":
        print(history_csv(records))
    else:
        print(history_text(records))
    return EXIT_DONE


def _show(args: argparse.Namespace) -> int:
    with _open(args, Action.PLAN, {"batch_id": args.batch_id}) as store:
        record = find_batch(store.history(), args.batch_id, history_of=_shown_url(args))
    _print(BatchResult.from_record(record), args)
    return EXIT_DONE


def _undo(args: argparse.Namespace) -> int:
    _require_terminal_or_yes(args, "undo")
    with _open(args, Action.UNDO, {"batch_id": args.batch_id}) as opened:
        record = find_batch(opened.history(), args.batch_id, history_of=_shown_url(args))
        check_undoable(record.batch_id, undoes=record.undoes, undone_by=record.undone_by)
        if _undo_would_write_nothing(opened, record):
            why = "changed nothing"
            if record.changes:
                why = "only switched off reasons whose consent is withdrawn now"
            _warn(f"batch {record.batch_id} {why}, so its undo would write nothing: {NOTHING_RECORDED}")
            return EXIT_DONE
        if not args.yes:
            _confirming(BatchResult.from_record(record))
            if not _confirm(f"Undo these {len(record.changes):,} changes?"):
                print("Nothing was undone.")
                return EXIT_DONE
        _progress("Undoing")
        with commit_point() as point:
            store = HeldStore(opened, point)
            try:
                receipt = store.undo(record.batch_id, actor=args.actor)
            except ConflictError as error:
                raise ConflictError(error.conflicts, _undo_conflict(record.batch_id, error)) from None
            undo = find_batch(store.history(), receipt.batch_id, history_of=_shown_url(args))
            _print(BatchResult.from_record(undo), args)
            # An undo leaves off what the batch switched off where consent is withdrawn now.
            held = sum(record.counts.values()) - sum(undo.counts.values())
            if held:
                sys.stdout.flush()  # after the result, also when both go to one pipe
                _warn(
                    f"{held:,} {'reason' if held == 1 else 'reasons'} the batch switched off stayed off, "
                    "because consent was withdrawn at their contact points"
                )
            _finished(point)
    return EXIT_DONE


def _undo_would_write_nothing(store: Store, record: BatchRecord) -> bool:
    """Whether the store's undo of ``record`` would write nothing (:mod:`contact_prefs.undoing`).
    Reads the whole district, only for a batch that switched nothing on."""
    if not may_write_nothing(record.changes):
        return False
    points = {point.key: point for point in store.dump().contact_points}
    return undo_writes_nothing(record.changes, points)


def _undo_conflict(batch_id: str, error: ConflictError) -> str:
    points = sorted({(change.owner_id, change.method.value) for change in error.conflicts})
    listed = ", ".join(f"{owner} {method}" for owner, method in points[:SHOWN_IDS])
    more = f" and {len(points) - SHOWN_IDS} more" if len(points) > SHOWN_IDS else ""
    return (
        f"cannot undo batch {batch_id}: {len(points)} contact point(s) are no longer as the batch left them "
        f"({listed}{more}); nothing was written"
    )


def _import(args: argparse.Namespace) -> int:
    if args.kind == "csv":
        snapshot = read_csv(args.directory, progress=_steps())
        remove, keep_preferences = None, False
        counts = {name: len(records) for name, records in snapshot.collections().items()}
    else:
        roster = read_oneroster(args.directory, progress=_steps())
        snapshot, remove, keep_preferences = roster.snapshot, roster.remove, True
        counts = dict(roster.summary)
    context = {"directory": str(args.directory), "kind": args.kind}
    with _open(args, Action.IMPORT, context, create=True) as opened, commit_point() as point:
        check_import_target(holds_demo=opened.holds_demo(), into_demo=args.into_demo, store=_shown_url(args))
        report = HeldStore(opened, point).load(
            snapshot, remove=remove, keep_preferences=keep_preferences, actor=args.actor, progress=_steps()
        )
        where = _where_points_are(args, report)
        result = Transferred(
            directory=args.directory, store=_shown_url(args), counts=counts, report=report, where=where
        )
        _print_transfer(result, args)
        _finished(point)
    return EXIT_DONE


def _where_points_are(args: argparse.Namespace, report: LoadReport) -> dict[tuple[str, Method], Where]:
    """The file and line of each point whose address could not be normalized: what the import
    reports instead of the address.  The files are read again only when there is one."""
    if not report.unnormalized:
        return {}
    if args.kind == "csv":
        lines = point_lines(args.directory)
        return {key: ("contact_points.csv", lines[key]) for key in report.unnormalized if key in lines}
    users = user_lines(args.directory)
    return {key: ("users.csv", users[key[0]]) for key in report.unnormalized if key[0] in users}


def _export(args: argparse.Namespace) -> int:
    _check_export_folder(args)
    with _open(args, Action.EXPORT, {"directory": str(args.directory)}, existing=True) as store:
        _progress("Reading the store")
        snapshot = store.dump()
    written = write_csv(snapshot, args.directory, progress=_steps())
    _print_transfer(Transferred(directory=args.directory, store=_shown_url(args), counts=written), args)
    return EXIT_DONE


def _check_export_folder(args: argparse.Namespace) -> None:
    """An export replaces the files of a folder: one that holds anything (a good backup, say) is
    only written with ``--overwrite``.  Checked before the store is opened, so nothing is written."""
    folder: Path = args.directory
    if args.overwrite or not folder.is_dir() or not any(folder.iterdir()):
        return
    raise UsageError(
        f"the folder {str(folder)!r} is not empty: export into a new or empty folder, "
        "or add --overwrite to replace its CSV files (nothing was written)"
    )


def _print_transfer(result: Transferred, args: argparse.Namespace) -> None:
    print(to_json(result.data()) if args.format == "json" else result.text())


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
