"""Store URLs: the schema parameter, and passwords that never show.  No server needed."""

from __future__ import annotations

import pytest

from contact_prefs import StoreError
from contact_prefs_postgres.url import DEFAULT_SCHEMA, PostgresUrl

SECRET = "s3cr%40t"  # percent-encoded "s3cr@t"


def test_the_schema_defaults_and_is_not_passed_to_libpq() -> None:
    assert PostgresUrl.parse("postgresql://u@h:5432/db").schema == DEFAULT_SCHEMA
    url = PostgresUrl.parse("postgres://u@h/db?sslmode=disable&schema=district%2042&application_name=a+b")
    assert url.schema == "district 42"
    assert url.conninfo == "postgres://u@h/db?sslmode=disable&application_name=a+b"


def test_a_password_is_masked_everywhere_but_the_conninfo() -> None:
    url = PostgresUrl.parse(f"postgresql://u:{SECRET}@h:5432/db?schema=x&sslpassword=other")
    for shown in (url.redacted, str(url), repr(url)):
        assert SECRET not in shown and "s3cr@t" not in shown and "other" not in shown
    assert url.redacted == "postgresql://u:***@h:5432/db?schema=x&sslpassword=***"
    assert SECRET in url.conninfo
    assert url.scrub("failed for s3cr@t and s3cr%40t and other") == "failed for *** and *** and ***"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://u@h/db", "not a PostgreSQL URL"),
        ("postgresql://u@h/db?schema=a&schema=b", "names the schema 2 times"),
        ("postgresql://u@h/db?schema=", "must be 1 to 63 bytes"),
        (f"postgresql://u@h/db?schema={'x' * 64}", "must be 1 to 63 bytes"),
    ],
)
def test_a_bad_url_is_refused_clearly(url: str, problem: str) -> None:
    with pytest.raises(StoreError, match=problem) as raised:
        PostgresUrl.parse(url.replace("u@", f"u:{SECRET}@"))
    assert SECRET not in str(raised.value)
