"""The Hypothesis profile of the whole suite: fast by default, thorough under ``--hypothesis-profile=ci``.

Loaded here, before the test modules are imported, because the kit and the
tests size their examples with ``contact_prefs.testing.profiles.examples``
when their settings are made.  ``.ci/run`` selects the thorough profile;
``HYPOTHESIS_PROFILE=ci pytest`` does the same.

The ``as_version_1`` fixture rewrites a backup as version 1 of the archive
format wrote it, for the tests of reading and restoring older backups.
"""

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from contact_prefs.testing.profiles import load_profile

load_profile()

# pytester runs the kit on deliberately broken stores (tests/test_kit_catches_broken_stores.py).
pytest_plugins = ["pytester"]

_V2_ONLY_SECTIONS = ("proposals", "schedules", "chain")
_V2_ONLY_BATCH_FIELDS = ("approval", "schedule_id", "left_alone")


def _as_version_1(path: Path) -> None:
    """Rewrite the backup at ``path`` as version 1 of the format wrote it: without the proposals,
    schedules and chain members, batches without approval, schedule and left-alone counts, and a
    manifest of version 1 with the sizes and checksums of what is left."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    for section in _V2_ONLY_SECTIONS:
        del members[manifest["sections"].pop(section)["name"]]
    batches = [json.loads(line) for line in members["history.jsonl"].splitlines()]
    members["history.jsonl"] = b"".join(
        json.dumps({k: v for k, v in batch.items() if k not in _V2_ONLY_BATCH_FIELDS}).encode() + b"\n"
        for batch in batches
    )
    for member in manifest["sections"].values():
        data = members[member["name"]]
        member.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    manifest["version"] = 1
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest))


@pytest.fixture
def as_version_1() -> Callable[[Path], None]:
    """Rewrite a backup file as version 1 of the archive format wrote it (before proposals, schedules
    and the chain were archived)."""
    return _as_version_1
