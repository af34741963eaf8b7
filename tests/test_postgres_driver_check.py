"""The PostgreSQL tests without their driver: one clear failure when a server is configured, not one per test.

Each case runs ``tests/postgres/conftest.py`` in a pytest session of its own
(in a child process, since it imports psycopg or finds it missing), on a
stand-in folder of PostgreSQL tests, next to a test of another folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).parent / "postgres" / "conftest.py"
INSTALL = "pip install -e '.[test,postgres]'"

TESTS = '''
import psycopg  # as the real modules do: unimportable without the driver


def test_needs_the_server(postgres_server):
    assert postgres_server


def test_needs_only_the_driver():
    assert psycopg
'''


@pytest.fixture
def folder(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CONTACT_PREFS_TEST_POSTGRES", raising=False)
    monkeypatch.delenv("CONTACT_PREFS_REQUIRE_POSTGRES", raising=False)
    postgres = pytester.mkdir("postgres")
    (postgres / "conftest.py").write_text(CONFTEST.read_text(encoding="utf-8"), encoding="utf-8")
    (postgres / "test_stand_in.py").write_text(TESTS, encoding="utf-8")
    (postgres / "test_another.py").write_text(TESTS, encoding="utf-8")
    pytester.makepyfile(test_elsewhere="def test_elsewhere():\n    assert True\n")
    return pytester


def without_driver(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import sys\n\nsys.modules['psycopg'] = None  # as if the postgres extra were not installed")


def with_driver(pytester: pytest.Pytester) -> None:
    # A stand-in module: the case holds whether or not this machine installed the postgres extra.
    pytester.makeconftest(
        "import sys\nimport types\n\nsys.modules.setdefault('psycopg', types.ModuleType('psycopg'))"
    )


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")


def test_a_configured_server_without_the_driver_fails_once_saying_how_to_install_it(
    folder: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_driver(folder)
    monkeypatch.setenv("CONTACT_PREFS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    result = run(folder)
    result.assert_outcomes(passed=1, failed=1)  # the other folder's test runs; no error, nothing skipped
    message = (
        "CONTACT_PREFS_TEST_POSTGRES is set but psycopg, the PostgreSQL driver, is not installed: "
        f"{INSTALL}; none of the PostgreSQL tests ran"
    )
    # Once, not once per test: one failure's report, and its line in the summary (cut to the terminal's width).
    reports = [line for line in result.stdout.lines if message in line and not line.startswith("FAILED ")]
    assert len(reports) == 1
    assert sum(line.startswith("FAILED ") for line in result.stdout.lines) == 1
    result.stdout.fnmatch_lines(["*_ the PostgreSQL tests _*", message, "FAILED postgres::psycopg - Failed: *"])


def test_a_required_server_without_the_driver_fails_once_too(
    folder: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_driver(folder)
    monkeypatch.setenv("CONTACT_PREFS_REQUIRE_POSTGRES", "1")
    result = run(folder)
    result.assert_outcomes(passed=1, failed=1)
    assert f"CONTACT_PREFS_REQUIRE_POSTGRES is set but psycopg, the PostgreSQL driver, is not installed: {INSTALL}" in (
        result.stdout.str()
    )


def test_without_a_server_or_the_driver_nothing_fails(folder: pytest.Pytester) -> None:
    # The driver is optional when no server is configured: the folder's modules skip themselves then.
    without_driver(folder)
    folder.path.joinpath("postgres", "test_stand_in.py").write_text(
        'import pytest\n\npsycopg = pytest.importorskip("psycopg")\n', encoding="utf-8"
    )
    folder.path.joinpath("postgres", "test_another.py").unlink()
    result = run(folder)
    result.assert_outcomes(passed=1, skipped=1)


def test_with_the_driver_the_tests_are_collected_as_ever(folder: pytest.Pytester) -> None:
    # No server configured: the tests that need one skip, saying how to enable them; the rest pass.
    with_driver(folder)
    result = run(folder)
    result.assert_outcomes(passed=3, skipped=2)
    skipped = "*no PostgreSQL server configured; to run these tests set CONTACT_PREFS_TEST_POSTGRES=*"
    result.stdout.fnmatch_lines([skipped, skipped])
