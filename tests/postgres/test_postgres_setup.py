"""The PostgreSQL tests skip only when no server is configured, and never when CI requires them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
A_SERVER_TEST = "tests/postgres/test_postgres_store.py::test_a_closed_store_says_so"
SERVER, REQUIRE = "CONTACT_PREFS_TEST_POSTGRES", "CONTACT_PREFS_REQUIRE_POSTGRES"


def run_server_test(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in (SERVER, REQUIRE)} | environment
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", A_SERVER_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_a_server_the_tests_skip_saying_how_to_enable_them() -> None:
    result = run_server_test()
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert f"set {SERVER}=postgresql://postgres@127.0.0.1:5432/test" in result.stdout


@pytest.mark.parametrize("url", ["", "postgresql://postgres@127.0.0.1:1/test?connect_timeout=5"])
def test_when_required_a_missing_or_silent_server_fails_the_tests(url: str) -> None:
    result = run_server_test(**{REQUIRE: "1", SERVER: url})
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout and "skipped" not in result.stdout
