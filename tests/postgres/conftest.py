"""Where the PostgreSQL tests find their server, and a fresh schema for each test.

The server is named by ``CONTACT_PREFS_TEST_POSTGRES`` (a URL).  Without it
the tests that need a server are skipped, saying how to enable them; with
``CONTACT_PREFS_REQUIRE_POSTGRES=1`` (as CI runs) a missing variable or an
unreachable server fails them instead.  A configured (or required) server
without the driver, psycopg, fails once, clearly: none of this folder's tests
is collected, and one test in their place fails with the line that installs
it.  Each test gets schemas of its own with random names, dropped afterwards,
so runs can share one database.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SERVER = "CONTACT_PREFS_TEST_POSTGRES"
REQUIRE = "CONTACT_PREFS_REQUIRE_POSTGRES"
EXAMPLE = "postgresql://postgres@127.0.0.1:5432/test"
INSTALL = "pip install -e '.[test,postgres]'"
HERE = Path(__file__).parent


def required() -> bool:
    return os.environ.get(REQUIRE, "") not in ("", "0")


def _driver_installed() -> bool:
    try:
        importlib.import_module("psycopg")
    except ImportError:
        return False
    return True


def missing_driver() -> str | None:
    """Why the PostgreSQL tests cannot run at all: a server is configured (or required) and the
    driver is not installed; ``None`` otherwise."""
    if not (os.environ.get(SERVER) or required()) or _driver_installed():
        return None
    wanted = f"{SERVER} is set" if os.environ.get(SERVER) else f"{REQUIRE} is set"
    return f"{wanted} but psycopg, the PostgreSQL driver, is not installed: {INSTALL}"


MISSING_DRIVER = missing_driver()

# Without the driver, the tests are not collected (their modules import it), but one stands in for them.
collect_ignore_glob = ["test_*.py"] if MISSING_DRIVER else []


class MissingDriver(pytest.Item):
    """The one test that stands for this folder's tests when they cannot run: it fails, saying why."""

    def runtest(self) -> None:
        pytest.fail(f"{MISSING_DRIVER}; none of the PostgreSQL tests ran", pytrace=False)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return HERE, None, "the PostgreSQL tests"


def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    if MISSING_DRIVER:
        try:
            folder = HERE.relative_to(session.config.rootpath).as_posix()
        except ValueError:
            folder = HERE.name
        items.append(MissingDriver.from_parent(session, name=folder, nodeid=f"{folder}::psycopg"))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server's URL; skips (or fails in CI) when none is configured, fails when it does not answer."""
    url = os.environ.get(SERVER, "")
    if not url:
        if required():
            pytest.fail(f"{REQUIRE} is set but {SERVER} is not: set it to the server's URL, e.g. {SERVER}={EXAMPLE}")
        pytest.skip(f"no PostgreSQL server configured; to run these tests set {SERVER}={EXAMPLE}")
    try:
        import psycopg
    except ImportError:  # a test named on the command line, collected despite the missing driver
        pytest.fail(f"{SERVER} is set but psycopg is missing: {INSTALL}")
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as error:
        pytest.fail(f"the PostgreSQL server in {SERVER} does not answer: {error}")
    return url


def with_schema(url: str, schema: str) -> str:
    """``url`` naming ``schema``."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def admin(url: str) -> Any:
    """A plain autocommit connection to the server, for setting up and inspecting."""
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def connect(postgres_server: str) -> Iterator[Callable[[], Any]]:
    """Each call opens a plain autocommit connection to the server; all are closed after the test."""
    opened: list[Any] = []

    def new() -> Any:
        opened.append(admin(postgres_server))
        return opened[-1]

    yield new
    for connection in opened:
        connection.close()


@pytest.fixture
def new_schema(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Each call gives the URL of a new, not yet created schema; all are dropped after the test."""
    created: list[str] = []

    def new() -> str:
        created.append(f"cp_test_{uuid.uuid4().hex[:12]}")
        return with_schema(postgres_server, created[-1])

    yield new
    from psycopg import sql

    with admin(postgres_server) as connection:
        connection.execute("SET lock_timeout = '30s'")  # a store left open must not hang the run
        for schema in created:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def schema_url(new_schema: Callable[[], str]) -> str:
    """The URL of one fresh schema for this test."""
    return new_schema()
