"""What the command line never prints: a store's password, or a value that looks like a phone number or
e-mail address.  Commands run in process (``main``), which is what ``contact-prefs`` runs; one runs as a
process, to show there is no traceback.  The PostgreSQL server's own run is in tests/postgres."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contact_prefs import open_store, run_batch
from contact_prefs.cli import STORE_VARIABLE, main
from contact_prefs.demo import build_district, sample_spec
from contact_prefs.formats import write_csv

CANARY = "CANARY-s3cr%40t"  # percent-encoded: "CANARY-s3cr@t" once decoded
LEAKS = ("CANARY", "s3cr")
TODAY = datetime.date.today()
SAMPLE = Path("/work/shared/data/oneroster-sample/LMS-Toolkit")
if not SAMPLE.is_dir():
    SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "oneroster-sample" / "LMS-Toolkit"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def district(tmp_path: Path) -> str:
    """The URL of a small district with its demo batch, in a SQLite file."""
    url = f"sqlite:///{tmp_path / 'district.db'}"
    with open_store(url) as store:
        store.load(build_district(40, today=TODAY))
        run_batch(store, sample_spec(TODAY), actor="demo")
    return url


# -- passwords -------------------------------------------------------------------------

# Each fails before it reaches a district: no server listens on port 1, the scheme is misspelled,
# the URL is malformed, or it is no SQLite URL.  Every one holds the canary password.
FAILING_URLS = {
    "no server, user:password@": f"postgresql://postgres:{CANARY}@127.0.0.1:1/test?connect_timeout=5",
    "no server, ?password=": f"postgresql://postgres@127.0.0.1:1/test?connect_timeout=5&password={CANARY}",
    "misspelled scheme, user:password@": f"postgress://user:{CANARY}@127.0.0.1:5432/test",
    "misspelled scheme, ?password=": f"postgress://user@127.0.0.1:5432/test?password={CANARY}",
    "malformed host": f"postgresql://postgres:{CANARY}@[::1/test",
    "malformed port": f"postgresql://postgres:{CANARY}@127.0.0.1:port/test",
    "a SQLite URL with a password": f"sqlite://user:{CANARY}@somewhere/district.db",
    "an unknown scheme": f"mongo://user:{CANARY}@db.example.org/district",
}
BATCH = ("--mode", "students", "--set", "general=on")
COMMANDS = {
    "history": ["history"],
    "show": ["show", "deadbeef"],
    "undo": ["undo", "deadbeef", "--actor", "ann", "--yes"],
    "plan": ["plan", *BATCH],
    "apply": ["apply", *BATCH, "--actor", "ann", "--yes"],
    "import": ["import", "csv", "."],
    "export": ["export", "csv", "out"],
    "demo": ["demo", "--students", "5"],
}


@pytest.mark.parametrize("url", FAILING_URLS.values(), ids=FAILING_URLS.keys())
def test_no_command_prints_the_password_of_a_store_it_cannot_open(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_csv(build_district(3, today=TODAY), tmp_path)
    for name, command in COMMANDS.items():
        code, out, err = cli(capsys, "--store", url, *command)
        assert code == 2, (name, err)
        assert err.startswith("contact-prefs: error: ") and out == "", (name, err)
        assert not any(leak in out + err for leak in LEAKS), (name, err)
    monkeypatch.setenv(STORE_VARIABLE, url)
    code, out, err = cli(capsys, "history")
    assert code == 2 and not any(leak in out + err for leak in LEAKS), err
    assert "***" in err or "CANARY" not in url


def test_the_store_errors_say_what_is_wrong_with_the_password_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = cli(capsys, "--store", FAILING_URLS["misspelled scheme, ?password="], "history")
    assert err.startswith(
        "contact-prefs: error: argument --store: no store backend serves the scheme 'postgress' of "
        "'postgress://user@127.0.0.1:5432/test?password=***'; registered schemes: "
    )
    _, _, err = cli(capsys, "--store", FAILING_URLS["malformed host"], "history")
    assert err == "contact-prefs: error: 'postgresql://postgres:***@[::1/test' is not a valid URL: Invalid IPv6 URL\n"
    _, _, err = cli(capsys, "--store", FAILING_URLS["a SQLite URL with a password"], "history")
    assert "not 'sqlite://user:***@somewhere/district.db'" in err


def test_a_malformed_url_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "contact_prefs", "--store", "postgresql://postgres:pw-CANARY@[::1/test", "history"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "contact-prefs: error: 'postgresql://postgres:***@[::1/test' is not a valid URL: Invalid IPv6 URL\n"
    )


def test_a_url_given_where_no_url_belongs_is_not_repeated_with_its_password(
    district: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # argparse repeats an argument it does not expect: not this one's password.
    code, _, err = cli(capsys, "--store", district, "history", f"postgresql://ann:{CANARY}@db/district")
    assert code == 2 and "unrecognized arguments: postgresql://ann:***@db/district" in err
    assert not any(leak in err for leak in LEAKS)


# -- personal data in files and options ----------------------------------------------------


def import_error(capsys: pytest.CaptureFixture[str], url: str, kind: str, folder: Path) -> str:
    code, out, err = cli(capsys, "--store", url, "import", kind, str(folder))
    assert code == 2 and out == "", err
    return err


POINTS = "owner_id,method,address,enabled,text,source,revoked"


def test_a_phone_number_under_a_swapped_header_is_not_echoed(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    swapped = POINTS.replace("method,address", "address,method")
    (files / "contact_points.csv").write_text(f"{swapped}\ng1,cell_phone,(280) 555-0143,,,default,false\n")
    err = import_error(capsys, district, "csv", files)
    assert f"{files / 'contact_points.csv'}, line 2, column method: a value that looks like a phone number" in err
    assert "555" not in err and "280" not in err


def test_an_email_address_in_the_enabled_column_is_not_echoed(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "contact_points.csv").write_text(f"{POINTS}\ng1,email,x,pat@example.org,,default,false\n")
    err = import_error(capsys, district, "csv", files)
    assert f"{files / 'contact_points.csv'}, line 2, column enabled: a value that looks like an e-mail" in err
    assert "pat" not in err and "example.org" not in err


def test_an_email_address_in_agent_sourced_ids_is_not_echoed(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = Path(shutil.copytree(SAMPLE, tmp_path / "roster"))
    users = roster / "users.csv"
    users.chmod(0o644)
    text = users.read_text(encoding="utf-8")
    # The first user's agentSourcedIds (after the phone column) holds an e-mail address.
    users.write_text(text.replace("(950) 336 6601,,", "(950) 336 6601,pat@example.org,", 1), encoding="utf-8")
    err = import_error(capsys, district, "oneroster", roster)
    assert f"{users}, line 2, column agentSourcedIds: a value that looks like an e-mail address names no user" in err
    assert "pat" not in err


def test_unknown_filter_ids_are_reported_by_count_and_line_not_by_value(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("stu-0001\npat@example.org\n\n(280) 555-0143\nnobody\n", encoding="utf-8")
    code, out, err = cli(capsys, "--store", district, "plan", *BATCH, "--filter-file", str(ids))
    assert code == 0 and "Recipients: 1" in out
    assert err == f"contact-prefs: warning: 3 id(s) in {str(ids)!r} match no person: lines 2, 4, 5\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "--mode", "students", "--set", "pat@example.org=on"), "argument --set: unknown reason a value"),
        (("plan", "--mode", "students", "--set", "general=5550143"), "argument --set: unknown setting a value"),
        (("plan", "--mode", "pat@example.org", "--set", "general=on"), "argument --mode: invalid mode a value"),
        (("plan", *BATCH, "--as-of", "(280) 555-0143"), "argument --as-of: a value that looks like a phone number"),
        (("demo", "--students", "(280) 555-0143"), "argument --students: a value that looks like a phone"),
        (("import", "pat@example.org", "."), "argument kind: invalid choice: '<withheld>'"),
        (("history", "--format", "(280) 555-0143"), "argument --format: invalid choice: '<withheld>'"),
        (("history", "pat@example.org"), "unrecognized arguments: <withheld>"),
    ],
)
def test_usage_errors_withhold_what_looks_like_personal_data(
    district: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = cli(capsys, "--store", district, *args)
    assert code == 2 and out == ""
    assert message in err
    assert "pat" not in err and "555" not in err
