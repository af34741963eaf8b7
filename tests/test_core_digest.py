"""The change-set digest, recomputed here from its documentation alone, and what it depends on."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import attrs
from hypothesis import assume, given
from hypothesis import strategies as st

from contact_prefs import BatchSpec, ChangeSet, Method, Reason, ReasonSet, Skip, SkipReason, Source
from contact_prefs.changes import PointUpdate
from contact_prefs.digest import changes_between, changeset_digest, updates_digest
from contact_prefs.testing.district import IDS
from contact_prefs.testing.strategies import reason_sets

SPEC = BatchSpec(mode="students", settings={"attendance": "on", "general": "off"})
OTHER_SPEC = BatchSpec(mode="census_staff", settings={"food_service": "on"}, filter_ids={"p1"})


def mask(reasons: Iterable[Reason]) -> int:
    """A reason set as the documentation spells it: bit i for the i-th reason of ``Reason``."""
    order = list(Reason)
    return sum(1 << order.index(reason) for reason in reasons)


def documented_digest(updates: Sequence[PointUpdate]) -> str:
    """The digest exactly as the module docstring describes it, without the module's code."""
    lines = ["contact-prefs change set 1\n"]
    for update in updates:
        fields = [
            update.owner_id,
            update.method.value,
            update.source_before.value,
            str(mask(update.enabled_before)),
            str(mask(update.enabled_after)),
            str(mask(update.revoked_before)),
            *sorted(update.affects),
        ]
        lines.append("\t".join(fields) + "\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def update(
    owner: str,
    method: str,
    source: str,
    before: set[str],
    after: set[str],
    *,
    affects: frozenset[str] | None = None,
    revoked_before: frozenset[str] = frozenset(),
) -> PointUpdate:
    return PointUpdate(
        owner_id=owner,
        method=Method(method),
        source_before=Source(source),
        enabled_before=ReasonSet(before),
        enabled_after=ReasonSet(after),
        affects=frozenset({owner}) if affects is None else affects,
        revoked_before=ReasonSet(revoked_before),
    )


HAND_BUILT = (
    update("g1", "cell_phone", "portal", {"emergency", "general"}, {"emergency", "attendance"}),
    update("g2", "email", "default", set(), {"attendance"}, revoked_before=frozenset({"priority", "teacher"})),
    update("h1", "household_phone", "import", {"general"}, set(), affects=frozenset({"s2", "g1", "s10"})),
)


def test_the_digest_is_the_documented_text_hashed() -> None:
    text = (
        "contact-prefs change set 1\n"
        "g1\tcell_phone\tportal\t17\t3\t0\tg1\n"
        "g2\temail\tdefault\t0\t2\t192\tg2\n"
        "h1\thousehold_phone\timport\t16\t0\t0\tg1\ts10\ts2\n"
    )
    change_set = ChangeSet(spec=SPEC, basis="v1", updates=HAND_BUILT)
    assert changeset_digest(change_set) == hashlib.sha256(text.encode()).hexdigest()
    # Pinned: a change here breaks every other program that computes it, and every stored proposal.
    assert changeset_digest(change_set) == "023d75db18846d79c4526fe98785dd4f959738d9319a802559e0b1dd24d4aa5c"


def test_an_empty_change_set_hashes_the_header_alone() -> None:
    empty = ChangeSet(spec=SPEC, basis="")
    assert changeset_digest(empty) == hashlib.sha256(b"contact-prefs change set 1\n").hexdigest()


def test_a_district_wide_change_set_hashes_every_update() -> None:
    many = [update(f"p{n:05}", "email", "staff", set(), {"attendance"}) for n in range(10_001)]
    assert updates_digest(many) == documented_digest(many)
    assert updates_digest(many[:-1]) != updates_digest(many)


@st.composite
def point_updates(draw: st.DrawFn) -> PointUpdate:
    before, after = draw(reason_sets), draw(reason_sets)
    switched_on = after.mask & ~before.mask
    return PointUpdate(
        owner_id=draw(IDS),
        method=draw(st.sampled_from(Method)),
        source_before=draw(st.sampled_from(Source)),
        enabled_before=before,
        enabled_after=after,
        affects=frozenset(draw(st.lists(IDS, max_size=3))),
        revoked_before=ReasonSet.from_mask(draw(reason_sets).mask & ~switched_on),
    )


UPDATES = st.lists(point_updates(), max_size=6)


@given(updates=UPDATES, basis=st.text(max_size=5))
def test_the_digest_is_a_function_of_the_updates_in_order(updates: list[PointUpdate], basis: str) -> None:
    digest = changeset_digest(ChangeSet(spec=SPEC, basis="", updates=updates))
    assert digest == documented_digest(updates) == updates_digest(updates)
    # Equal updates, whatever else the change set holds, give the same digest.
    copied = [attrs.evolve(u, affects=frozenset(sorted(u.affects, reverse=True))) for u in updates]
    other = ChangeSet(
        spec=OTHER_SPEC,
        basis=basis,
        updates=copied,
        skips=[Skip(owner_id="x", reason=SkipReason.NO_CONTACT_METHOD)],
        recipients=["x"],
    )
    assert changeset_digest(other) == digest


@given(updates=st.lists(point_updates(), min_size=2, max_size=6), data=st.data())
def test_the_order_of_the_updates_is_part_of_the_digest(updates: list[PointUpdate], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(updates) - 2))
    j = data.draw(st.integers(i + 1, len(updates) - 1))
    assume(documented_digest([updates[i]]) != documented_digest([updates[j]]))
    swapped = list(updates)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert updates_digest(swapped) != updates_digest(updates)


def _other(draw: st.DrawFn, strategy: st.SearchStrategy[object], old: object) -> object:
    value = draw(strategy)
    assume(value != old)
    return value


@st.composite
def one_field_changed(draw: st.DrawFn, point: PointUpdate) -> PointUpdate:
    """``point`` with one field given another value (still a valid update)."""
    field = draw(
        st.sampled_from(
            [
                "owner_id",
                "method",
                "source_before",
                "enabled_before",
                "enabled_after",
                "revoked_before",
                "affects",
            ]
        )
    )
    revoked, before, after = point.revoked_before.mask, point.enabled_before.mask, point.enabled_after.mask
    strategies: dict[str, st.SearchStrategy[object]] = {
        "owner_id": IDS,
        "method": st.sampled_from(Method),
        "source_before": st.sampled_from(Source),
        # Each reason set keeps the update valid: nothing switched on where consent was withdrawn.
        "enabled_before": reason_sets.map(lambda r: ReasonSet.from_mask(r.mask | (revoked & after))),
        "enabled_after": reason_sets.map(lambda r: ReasonSet.from_mask(r.mask & ~(revoked & ~before))),
        "revoked_before": reason_sets.map(lambda r: ReasonSet.from_mask(r.mask & ~(after & ~before))),
        "affects": st.frozensets(IDS, max_size=3),
    }
    return attrs.evolve(point, **{field: _other(draw, strategies[field], getattr(point, field))})


@given(updates=st.lists(point_updates(), min_size=1, max_size=5), data=st.data())
def test_changing_any_field_of_any_update_changes_the_digest(updates: list[PointUpdate], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(updates) - 1))
    changed = list(updates)
    changed[i] = data.draw(one_field_changed(updates[i]))
    assert updates_digest(changed) != updates_digest(updates)
    assert updates_digest(changed) == documented_digest(changed)


def test_the_consent_planned_under_is_part_of_the_digest_though_not_of_change_set_equality() -> None:
    # A revocation that arrived after approval: the same switches, planned under other consent.
    revoked = [attrs.evolve(u, revoked_before={"food_service"}) for u in HAND_BUILT]
    planned, replanned = (ChangeSet(spec=SPEC, basis="", updates=u) for u in (HAND_BUILT, revoked))
    assert planned == replanned
    assert changeset_digest(planned) != changeset_digest(replanned)


E, A = (Method.EMAIL, Reason.EMERGENCY), (Method.CELL_PHONE, Reason.ATTENDANCE)


def test_changes_between_two_results_tables() -> None:
    assert changes_between({E: 3, A: 2}, {E: 3, A: 2}) == 0
    assert changes_between({E: 3}, {E: 1}) == 2
    assert changes_between({E: 1}, {E: 3}) == 2
    assert changes_between({E: 3}, {A: 3}) == 6  # as many, elsewhere: all of them differ
    assert changes_between({E: 3, A: 0}, {E: 3}) == 0  # a missing pair counts as zero
    assert changes_between({}, {E: 2, A: 5}) == 7


def test_the_fast_encoding_is_the_documented_one() -> None:
    """``updates_digest`` writes each line out for speed; it must be :func:`update_line` exactly."""
    from contact_prefs.demo import build_district, sample_spec
    from contact_prefs.digest import _lines, update_line
    from contact_prefs.planning import plan

    updates = plan(sample_spec(), build_district(students=300)).updates
    assert {len(update.affects) for update in updates} >= {1, 2}  # household phones affect several
    for with_consent in (True, False):
        fast = list(_lines(updates, with_consent))
        assert fast == [update_line(update, with_consent=with_consent) for update in updates]
