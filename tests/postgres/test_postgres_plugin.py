"""The backend as a plugin: found through its entry point, and clear when it cannot work."""

from __future__ import annotations

import getpass
import subprocess
import sys
import textwrap
import urllib.parse

import pytest

from contact_prefs import Plugins, StoreError, open_store

PASSWORD = "pg-s3cret"


def test_both_schemes_are_registered_through_the_entry_point() -> None:
    import contact_prefs_postgres

    factories = Plugins.load().stores()
    assert factories["postgresql"] is factories["postgres"] is contact_prefs_postgres.open_postgres


def test_without_psycopg_opening_says_which_extra_to_install() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["psycopg"] = None  # as if the postgres extra were not installed
        from contact_prefs import StoreError, open_store
        assert open_store("memory://") is not None  # other schemes are unaffected
        try:
            open_store("postgresql://postgres:{PASSWORD}@127.0.0.1:5432/test")
        except StoreError as error:
            print(error)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "pip install 'contact-prefs[postgres]' (from a clone: pip install -e '.[postgres]')" in result.stdout
    assert "postgresql://postgres:***@127.0.0.1:5432/test" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_a_server_that_does_not_answer_is_a_clear_error_without_the_password(postgres_server: str) -> None:
    # Port 1 on the loopback refuses at once: nothing listens there.  (The fixture stands for
    # "the postgres extra is installed and PostgreSQL tests are enabled"; its server is not used.)
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL at postgresql://postgres:\*\*\*@") as raised:
        open_store(f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/test?connect_timeout=5")
    assert PASSWORD not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def with_password(url: str) -> tuple[str, str]:
    """``url`` with a password (the test server's own, or one that trust authentication ignores)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        return url, parts.password
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user or getpass.getuser()}:{PASSWORD}@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), PASSWORD


def test_an_open_store_shows_no_password(schema_url: str) -> None:
    url, password = with_password(schema_url)
    with open_store(url) as store:
        assert password not in repr(store) and password not in str(store)
        assert ":***@" in repr(store)
