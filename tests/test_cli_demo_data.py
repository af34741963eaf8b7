"""Demo data kept apart: ``import`` into the store holding the demo district is refused unless
``--into-demo``; ``info`` says what the store remembers, and what its addresses suggest."""

from __future__ import annotations

import json
from pathlib import Path

from contact_prefs import open_store

from .test_cli import SAMPLE, district, fails, folder, ok  # noqa: F401  (fixtures: the demo district, a copy)

REFUSAL = (
    "contact-prefs: error: the store sqlite:///contact-prefs.db holds the demo district (loaded by contact-prefs "
    "demo), and real records are kept apart from its fictional families: name a store of their own with --store "
    "URL (for example --store sqlite:///district.db), or add --into-demo to import into the demo store anyway "
    "(nothing was written)\n"
)


def held(folder: Path, name: str = "contact-prefs.db") -> tuple[object, ...]:  # noqa: F811
    with open_store(f"sqlite:///{folder / name}") as store:
        return store.dump(), store.history(), store.consent_events(), store.holds_demo()


def test_the_demo_marks_its_store(district: Path) -> None:  # noqa: F811
    assert held(district)[-1] is True


def test_importing_a_roster_into_the_demo_store_is_refused_and_writes_nothing(folder: Path) -> None:  # noqa: F811
    before = held(folder)
    for extra in ((), ("--format", "json"), ("--quiet",)):
        assert fails(folder, "import", "oneroster", str(SAMPLE), *extra) == REFUSAL
    # Bad files are reported as such: they are read before the store is opened.
    unreadable = fails(folder, "import", "csv", str(folder / "nowhere"))
    assert "is not a folder" in unreadable and "demo district" not in unreadable
    assert held(folder) == before


def test_importing_into_the_demo_store_with_into_demo_is_accepted_and_keeps_the_mark(folder: Path) -> None:  # noqa: F811
    dump, history, _, _ = held(folder)
    out = json.loads(ok(folder, "import", "oneroster", str(SAMPLE), "--into-demo", "--format", "json"))
    assert out["store"] == "sqlite:///contact-prefs.db" and out["counts"]["students"] == 8
    after, history_after, _, demo = held(folder)
    assert demo is True and history_after == history
    assert len(after.persons) > len(dump.persons)
    text = ok(folder, "info")
    assert text.endswith(
        "\nDemo data: yes, loaded by contact-prefs demo, but 18 of its "
        f"{sum(1 for p in after.contact_points if p.address):,} saved addresses are not fictional 555-01xx "
        "numbers or example.org addresses\n"
    )


def test_a_fresh_store_takes_the_roster_and_is_no_demo(folder: Path) -> None:  # noqa: F811
    out = ok(folder, "--store", "sqlite:///district.db", "import", "oneroster", str(SAMPLE))
    assert out.startswith(f"Imported {SAMPLE} into sqlite:///district.db:")
    assert held(folder, "district.db")[-1] is False
    data = json.loads(ok(folder, "info", "--format", "json", store="sqlite:///district.db"))
    assert (data["demo_data"], data["addresses_look_like_demo"]) == (False, False)
    assert ok(folder, "--store", "sqlite:///district.db", "import", "oneroster", str(SAMPLE)).startswith("Imported")


def test_demo_data_copied_through_csv_is_unmarked_but_info_hints_at_it(folder: Path, tmp_path: Path) -> None:  # noqa: F811
    ok(folder, "export", "csv", str(tmp_path / "files"))
    ok(folder, "--store", "sqlite:///copy.db", "import", "csv", str(tmp_path / "files"))
    assert held(folder, "copy.db")[-1] is False
    data = json.loads(ok(folder, "info", "--format", "json", store="sqlite:///copy.db"))
    assert (data["demo_data"], data["addresses_look_like_demo"]) == (False, True)
    text = ok(folder, "info", store="sqlite:///copy.db")
    assert text.endswith(f"\nDemo data: no, but its addresses look like demo data: {data['addresses_why']}\n")
    assert data["addresses_why"].startswith("all ") and data["addresses_why"].endswith(
        " of its saved addresses are fictional 555-01xx numbers or example.org addresses"
    )
    # Not marked, so a second import into the copy goes through.
    ok(folder, "--store", "sqlite:///copy.db", "import", "csv", str(tmp_path / "files"))
