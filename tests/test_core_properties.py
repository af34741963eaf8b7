"""Invariants of ``plan`` over generated districts and specs."""

from __future__ import annotations

import json
import random

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from contact_prefs import BatchSpec, ChangeSet, Method, Reason, Snapshot, Source, plan
from contact_prefs.changes import count_changes
from contact_prefs.plain import spec_from_plain, spec_to_plain
from contact_prefs.rules import District
from contact_prefs.snapshot import RECORD_FIELDS
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.strategies import DAY, districts, specs

CORE = settings(max_examples=examples(100), deadline=None)


@CORE
@given(districts(), specs())
def test_changes_stay_within_scope(snapshot: Snapshot, spec: BatchSpec) -> None:
    """Every change's owner is a recipient, or a household one of them belongs to; ``affects`` stays in it."""
    result = plan(spec, snapshot)
    district = District(snapshot, DAY)
    recipients = set(result.recipients)
    for change in result.changes:
        if change.method is Method.HOUSEHOLD_PHONE:
            members = district.members_of[change.owner_id]
            assert members & recipients
            assert change.affects == members
        else:
            assert change.owner_id in recipients
            assert change.affects == {change.owner_id}


@CORE
@given(districts(), specs())
def test_each_change_is_real_and_reads_the_snapshot(snapshot: Snapshot, spec: BatchSpec) -> None:
    points = {p.key: p for p in snapshot.contact_points}
    result = plan(spec, snapshot)
    seen = set()
    for change in result.changes:
        stored = points[change.point_key]
        assert stored.address, "nothing saved, nothing set"
        assert change.before is (change.reason in stored.enabled) is not change.after
        assert change.enabled_before is stored.enabled and change.source_before is stored.source
        assert spec.settings[change.reason].value == ("on" if change.after else "off")
        assert (change.point_key, change.reason) not in seen
        seen.add((change.point_key, change.reason))


@CORE
@given(districts(), specs())
def test_text_address_and_consent_are_never_touched(snapshot: Snapshot, spec: BatchSpec) -> None:
    after = plan(spec, snapshot).apply_to(snapshot)
    for old, new in zip(snapshot.contact_points, after.contact_points, strict=True):
        assert (new.text, new.address, new.revoked, new.key) == (old.text, old.address, old.revoked, old.key)


@CORE
@given(districts(), specs())
def test_planning_again_after_applying_changes_nothing(snapshot: Snapshot, spec: BatchSpec) -> None:
    first = plan(spec, snapshot)
    assert plan(spec, first.apply_to(snapshot)).changes == ()


@CORE
@given(districts(), specs(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(snapshot: Snapshot, spec: BatchSpec, rng: random.Random) -> None:
    shuffled = {}
    for name in RECORD_FIELDS:
        records = list(getattr(snapshot, name))
        rng.shuffle(records)
        shuffled[name] = records
    assert plan(spec, attrs.evolve(snapshot, **shuffled)) == plan(spec, snapshot)


@CORE
@given(districts(), specs())
def test_the_inverse_restores_every_preference(snapshot: Snapshot, spec: BatchSpec) -> None:
    result = plan(spec, snapshot)
    applied = result.apply_to(snapshot)
    undo = result.inverse()
    assert len(undo) == len(result)
    restored = undo.apply_to(applied)
    for old, new in zip(snapshot.contact_points, restored.contact_points, strict=True):
        assert new.enabled == old.enabled
        if old.key in {c.point_key for c in result.changes}:
            assert new.source is Source.BATCH


@CORE
@given(districts(), specs())
def test_counts_add_up_to_the_number_of_changes(snapshot: Snapshot, spec: BatchSpec) -> None:
    result = plan(spec, snapshot)
    counts = result.counts()
    assert set(counts) == {(m, r) for m in Method for r in Reason}
    assert sum(counts.values()) == len(result)


@CORE
@given(districts(), specs())
def test_the_safety_rules_hold(snapshot: Snapshot, spec: BatchSpec) -> None:
    points = {p.key: p for p in snapshot.contact_points}
    district = District(snapshot, DAY)
    result: ChangeSet = plan(spec, snapshot)
    for change in result.changes:
        stored = points[change.point_key]
        assert not (stored.revoked and change.after), "revoked consent switched back on"
        assert not (spec.keep_portal and stored.source is Source.PORTAL), "portal choice overwritten"
        if change.reason is Reason.EMERGENCY and not change.after:
            assert spec.allow_emergency_off, "emergency switched off without consent"
        if change.reason is Reason.STAFF:
            assert change.method is not Method.HOUSEHOLD_PHONE and change.owner_id in district.assigned


@CORE
@given(districts(), specs())
def test_a_change_set_rebuilt_from_its_changes_is_equal(snapshot: Snapshot, spec: BatchSpec) -> None:
    result = plan(spec, snapshot)
    rebuilt = ChangeSet(
        spec=spec, basis=result.basis, changes=result.changes, skips=result.skips, recipients=result.recipients
    )
    assert rebuilt == result
    assert rebuilt.counts() == count_changes(result.changes)
    assert result.portal_overwrites == sum(c.source_before is Source.PORTAL for c in result.changes)


@CORE
@given(specs())
def test_a_spec_survives_its_plain_data_form(spec: BatchSpec) -> None:
    plain = spec_to_plain(spec)
    assert json.loads(json.dumps(plain)) == plain
    assert spec_from_plain(plain) == spec
