"""``StoreStateMachine``: random sequences of store operations, checked against the memory store.

A backend subclasses the machine, says how to open its store, and exposes
the machine's ``TestCase`` to pytest::

    from hypothesis import settings
    from contact_prefs import open_store
    from contact_prefs.testing.profiles import examples
    from contact_prefs.testing.stateful import StoreStateMachine

    @settings(max_examples=examples(25), stateful_step_count=15, deadline=None)
    class MyStoreMachine(StoreStateMachine):
        def make_store(self):
            return open_store("mine://")

    TestMyStoreMachine = MyStoreMachine.TestCase

This module imports Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, precondition, rule

from contact_prefs_memory import MemoryStore

from ..batch import run_batch
from ..changes import ChangeSet
from ..consent import Channel, ConsentEvent, Review
from ..enums import Method, Source
from ..errors import ConflictError, ContactPrefsError
from ..governance import verify_history
from ..ledger import LoadReport, PolicyChange, floors, ledger_key, new_review
from ..planning import plan
from ..records import ContactPoint
from ..schedules import Schedule, new_schedule
from ..scheduling import Ran, run_due
from ..snapshot import Snapshot, merge
from ..spec import BatchSpec
from ..store import BatchRecord, Receipt, Store
from . import strategies
from .consent_data import ADDRESS_KEYS, KEYS, MESSAGES, MOMENTS, consent_events, consent_policies, undated
from .district import DAY, SPECS
from .expected import records

__all__ = ["StoreStateMachine"]

ACTORS = st.sampled_from(["alice", "bob", "O'Brien"])
SCHEDULED_AT = datetime.datetime(2026, 11, 1, 9, tzinfo=datetime.UTC)


def _ran(ran: Ran) -> tuple[Any, ...]:
    """What two stores running one due step must agree on: all but the batch ids (and the words of a failure)."""
    receipt = ran.receipt
    done = None if receipt is None else (receipt.applied, dict(receipt.counts), receipt.left_alone)
    return (ran.schedule_id, ran.step, ran.day, ran.done_already, ran.failed, done)


@attrs.frozen
class Planned:
    """One spec planned on both stores at one moment; committed later, perhaps when stale."""

    tested: ChangeSet
    reference: ChangeSet


@attrs.frozen
class Batch:
    """One history record's id in each store."""

    tested: str
    reference: str


def _point_order(point: ContactPoint) -> tuple[str, str]:
    return (point.owner_id, point.method.value)


def _key(key: tuple[str, Method]) -> str:
    """A point's key for a note: ids and methods only, never an address."""
    return f"{key[1].value} of {key[0]!r}"


def _address(key: str) -> str:
    """An address key for a note: its place among the generated keys, never the address."""
    return f"address #{ADDRESS_KEYS.index(key)}" if key in ADDRESS_KEYS else "a moved address"


def _event(event: ConsentEvent) -> str:
    """An event for a note: what it does, to which reasons, of which address, when."""
    at = f"{event.received_at:%Y-%m-%d %H:%M%z}"
    return f"{event.action.value} mask {event.reasons.mask} of {_address(event.address)} at {at}"


def _without_basis(changeset: ChangeSet) -> tuple[Any, ...]:
    """What two stores planning one spec over the same records must agree on."""
    return (changeset.spec, changeset.updates, changeset.skips, changeset.recipients)


class StoreStateMachine(RuleBasedStateMachine):
    """Loads, portal edits, plans, commits, batches, undos, consent and schedules on a backend and on
    :class:`MemoryStore`.

    After every step both stores must hold the same records, ledgers, review
    queue and consent policy, and every operation must end the same way in
    both: the same change set (but its ``basis``), the same receipt (but its
    id and time), the same load report, resolved review and policy change (but
    its time), the same error class and conflicts, the same steps of a daily
    job (:func:`~contact_prefs.scheduling.run_due`, on days that only move
    forward), and the same history and schedules (ids mapped, times ignored).
    The consent rules hold of the tested store after every step: every point
    holding an address is revoked exactly as its ledger says (:func:`~contact_prefs.ledger.floors`), no batch or undo
    switches on a reason revoked at that moment, and ledgers only grow.

    Subclasses implement :meth:`make_store`, which returns a fresh, empty,
    open store; the machine closes it in :meth:`teardown` (extend it to
    clean up more, calling ``super().teardown()``).  Choose modest settings
    with ``@settings(max_examples=examples(25), stateful_step_count=15, deadline=None)``
    on the subclass (:func:`~contact_prefs.testing.profiles.examples` sizes it by the
    Hypothesis profile); expose ``Subclass.TestCase`` to pytest.

    Every step notes (``hypothesis.note``) what it did and how both stores
    answered, by ids, methods and counts, never an address, so a failure
    report reads as a story.
    """

    plans = Bundle("plans")
    batches = Bundle("batches")

    def __init__(self) -> None:
        super().__init__()
        self.tested = self.make_store()
        self.reference = MemoryStore()
        self.ids: dict[str, str] = {}  # the tested store's batch ids -> the reference's
        self.planned: list[Planned] = []  # what the plans bundle holds, for the preconditions
        self.ledgers: dict[str, tuple[ConsentEvent, ...]] = {}  # the tested store's, as last seen
        self.queued = 0  # review ids given out
        self.today = DAY  # the day of the daily job's last run; it only moves forward
        self.scheduled = 0  # schedule ids given out

    def make_store(self) -> Store:
        """A fresh, empty, open store of the backend under test."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_store(self) -> Store")

    def teardown(self) -> None:
        self.tested.close()
        self.reference.close()

    # -- writes from outside: the SIS and the portal ------------------------

    @initialize(district=st.lists(strategies.districts(), min_size=4, max_size=8).map(merge))
    def start_with(self, district: Snapshot) -> None:
        note(f"start with {len(district)} records, {len(district.contact_points)} of them contact points")
        self._load(lambda store: store.load(district))

    @rule(
        district=strategies.districts(),
        remove=st.none() | strategies.districts(),
        keep_preferences=st.booleans(),
        demo=st.booleans(),
    )
    def load(self, district: Snapshot, remove: Snapshot | None, keep_preferences: bool, demo: bool) -> None:
        removed = 0 if remove is None else len(remove)
        note(f"load {len(district)} records after removing {removed}, {keep_preferences=}, {demo=}")
        self._load(lambda store: store.load(district, remove=remove, keep_preferences=keep_preferences, demo=demo))

    @precondition(lambda self: bool(self.reference.dump().contact_points))
    @rule(data=st.data())
    def portal_edit(self, data: st.DataObject) -> None:
        """A parent changes a point in the portal (or consent is withdrawn), as a one-point load."""
        points = self.reference.dump().contact_points
        stored: ContactPoint = data.draw(st.sampled_from(sorted(points, key=_point_order)))
        edited = attrs.evolve(
            stored,
            enabled=data.draw(strategies.reason_sets, label="enabled"),
            source=Source.PORTAL,
            revoked=data.draw(st.booleans(), label="revoked"),
        )
        note(f"portal edit at {_key(edited.key)}: enabled mask {edited.enabled.mask}, revoked={edited.revoked}")
        self._load(lambda store: store.load(Snapshot(contact_points=[edited])))

    @precondition(lambda self: bool(self._waiting_points()))
    @rule(data=st.data(), edit=st.sampled_from(["portal", "withdraw consent", "remove", "readdress"]))
    def interfere(self, data: st.DataObject, edit: str) -> None:
        """Someone changes a point that a plan waiting to be committed will write."""
        target: ContactPoint = data.draw(st.sampled_from(self._waiting_points()), label="target")
        note(f"{edit} at {_key(target.key)}, which a waiting plan writes")
        if edit == "remove":
            self._load(lambda store: store.load(Snapshot(), remove=Snapshot(contact_points=[target])))
        else:
            if edit == "readdress":  # a roster import: the address changes, which is no conflict
                changed = attrs.evolve(target, address=target.address + "0")
            elif edit == "withdraw consent":
                changed = attrs.evolve(target, revoked=True)
            else:
                changed = attrs.evolve(target, enabled=data.draw(strategies.reason_sets), source=Source.PORTAL)
            keep = edit == "readdress"
            self._load(lambda store: store.load(Snapshot(contact_points=[changed]), keep_preferences=keep))

    # -- batches ------------------------------------------------------------

    @rule(target=plans, spec=SPECS)
    def plan_for_later(self, spec: BatchSpec) -> Planned:
        planned = Planned(
            tested=plan(spec, self.tested.snapshot(spec)), reference=plan(spec, self.reference.snapshot(spec))
        )
        assert _without_basis(planned.tested) == _without_basis(planned.reference)
        note(f"plan {spec.mode.value} for later: {len(planned.reference.updates)} points to write")
        self.planned.append(planned)
        return planned

    @rule(target=batches, planned=plans, actor=ACTORS)
    def commit_planned(self, planned: Planned, actor: str) -> Any:
        """Commit a plan, perhaps stale: then both stores must refuse it alike."""
        note(f"commit a waiting plan of {len(planned.reference.updates)} points as {actor!r}")
        outcome = self._within_consent(
            lambda: self._both(
                lambda store: store.commit(planned.tested if store is self.tested else planned.reference, actor=actor)
            )
        )
        return self._batch(outcome)

    @rule(target=batches, spec=SPECS, actor=ACTORS, dry_run=st.booleans())
    def run_whole_batch(self, spec: BatchSpec, actor: str, dry_run: bool) -> Any:
        tested = self._within_consent(lambda: run_batch(self.tested, spec, actor=actor, dry_run=dry_run))
        reference = run_batch(self.reference, spec, actor=actor, dry_run=dry_run)
        assert _without_basis(tested[0]) == _without_basis(reference[0])
        note(f"run_batch {spec.mode.value} as {actor!r}, dry_run={dry_run}: {len(reference[0])} changes planned")
        if tested[1] is None or reference[1] is None:
            assert tested[1] is reference[1] is None
            return self._batch(None)
        self._note_receipts((tested[1], reference[1]))
        return self._batch((tested[1], reference[1]))

    @rule(target=batches, spec=SPECS, actor=ACTORS)
    def commit_and_undo(self, spec: BatchSpec, actor: str) -> Any:
        """Take a batch back at once, before anything else touches its points."""
        note(f"run_batch {spec.mode.value} as {actor!r}, then undo it")
        outcome = self._within_consent(lambda: self._both(lambda store: run_batch(store, spec, actor=actor)[1]))
        done = self._batch(outcome)
        if not isinstance(done, Batch):
            return multiple()
        return self.undo(done, actor)

    @rule(target=batches, batch=batches, actor=ACTORS)
    def undo(self, batch: Batch, actor: str) -> Any:
        """Undo any batch: one already undone, or an undo itself, must fail alike."""
        note(f"undo batch {batch.tested} as {actor!r}")
        outcome = self._within_consent(
            lambda: self._both(
                lambda store: store.undo(batch.tested if store is self.tested else batch.reference, actor=actor)
            )
        )
        return self._batch(outcome)

    # -- schedules -------------------------------------------------------------

    @rule(spec=SPECS, starts_in=st.integers(0, 10), length=st.none() | st.integers(1, 20), actor=ACTORS)
    def make_schedule(self, spec: BatchSpec, starts_in: int, length: int | None, actor: str) -> None:
        starts_on = self.today + datetime.timedelta(days=starts_in)
        ends_on = None if length is None else starts_on + datetime.timedelta(days=length)
        schedule_id, self.scheduled = f"s{self.scheduled}", self.scheduled + 1
        made = new_schedule(
            spec, starts_on=starts_on, ends_on=ends_on, actor=actor, at=SCHEDULED_AT, schedule_id=schedule_id
        )
        note(f"schedule {schedule_id} of {spec.mode.value} from {starts_on} to {ends_on} by {actor!r}")
        self._both(lambda store: store.save_schedule(made))

    @rule(days=st.integers(0, 15), actor=ACTORS)
    def run_the_daily_job(self, days: int, actor: str) -> None:
        """The daily job, on a day as late as the last one or later: both stores run the same steps alike."""
        self.today += datetime.timedelta(days=days)
        tested = self._within_consent(lambda: run_due(self.tested, today=self.today, actor=actor))
        reference = run_due(self.reference, today=self.today, actor=actor)
        note(f"run the daily job on {self.today} as {actor!r}: {len(reference)} steps")
        assert [_ran(ran) for ran in tested] == [_ran(ran) for ran in reference]
        for mine, theirs in zip(tested, reference, strict=True):
            if mine.receipt is not None and theirs.receipt is not None:
                self._same_receipt(mine.receipt, theirs.receipt)
                self._note_receipts((mine.receipt, theirs.receipt))
                self.ids[mine.receipt.batch_id] = theirs.receipt.batch_id
        assert run_due(self.tested, today=self.today, actor=actor) == ()  # nothing the second time
        assert run_due(self.reference, today=self.today, actor=actor) == ()

    @precondition(lambda self: bool(self.reference.schedules()))
    @rule(data=st.data(), actor=ACTORS)
    def cancel_schedule(self, data: st.DataObject, actor: str) -> None:
        """Cancel a schedule, in any state: one cancelled or finished must be refused alike."""
        schedule_id = data.draw(st.sampled_from([schedule.schedule_id for schedule in self.reference.schedules()]))
        note(f"cancel schedule {schedule_id} as {actor!r}")
        outcome = self._both(lambda store: store.cancel_schedule(schedule_id, actor=actor, at=SCHEDULED_AT))
        if outcome is not None:
            tested, reference = outcome
            assert isinstance(tested, Schedule) and self._mapped_schedule(tested) == reference

    # -- consent --------------------------------------------------------------

    @rule(events=st.lists(consent_events(), min_size=1, max_size=3), actor=ACTORS)
    def record_events(self, events: list[ConsentEvent], actor: str) -> None:
        """Revocations and grants from any channel, of addresses the points hold (and one they do not)."""
        note(f"record {', '.join(map(_event, events))} as {actor!r}")
        self._consent(lambda store: store.record_consent(events, actor=actor))

    @rule(
        key=KEYS,
        message=MESSAGES,
        channel=st.sampled_from(Channel),
        received_at=MOMENTS,
        events=st.lists(consent_events(), max_size=2),
        taken=st.booleans(),
    )
    def queue_review(
        self, key: str, message: str, channel: Channel, received_at: Any, events: list[ConsentEvent], taken: bool
    ) -> None:
        """A message for a person to read (perhaps with events); an id already queued is refused by both."""
        queue = self.reference.reviews()
        if taken and queue:
            review_id = queue[-1].review_id
        else:
            review_id, self.queued = f"r{self.queued}", self.queued + 1
        review = new_review(
            review_id,
            address=key,
            message=message,
            channel=channel,
            received_at=received_at,
            policy=self.reference.consent_policy(),
        )
        note(f"queue review {review_id} from {_address(key)}, with {', '.join(map(_event, events)) or 'no events'}")
        self._consent(lambda store: store.record_consent(events, reviews=[review], actor="vendor-feed"))

    @precondition(lambda self: bool(self.reference.reviews()))
    @rule(data=st.data(), revoked=st.booleans(), at=MOMENTS, actor=ACTORS)
    def resolve(self, data: st.DataObject, revoked: bool, at: Any, actor: str) -> None:
        """Resolve a review: a waiting one, or one resolved already or unknown, which both must refuse alike."""
        ids = [review.review_id for review in self.reference.reviews()]
        waiting = [review.review_id for review in self.reference.reviews() if review.waiting]
        review_id = data.draw(st.sampled_from(waiting) if waiting else st.sampled_from([*ids, "unknown"]))
        if data.draw(st.integers(0, 9), label="pick another") == 0:
            review_id = data.draw(st.sampled_from([*ids, "unknown"]), label="review id")
        note(f"resolve review {review_id} as revoked={revoked} by {actor!r}")
        outcome = self._consent(
            lambda store: store.resolve_review(review_id, revoked=revoked, actor=actor, note="read", at=at)
        )
        if outcome is not None:
            tested, reference = outcome
            assert isinstance(tested, Review) and tested == reference

    @rule(policy=consent_policies(), actor=ACTORS)
    def set_policy(self, policy: Any, actor: str) -> None:
        """The district changes its exemption, scope or holidays: every point is derived anew."""
        note(f"set the policy: scope {policy.scope.value}, exempt mask {policy.exempt.mask} by {actor!r}")
        outcome = self._consent(lambda store: store.set_consent_policy(policy, actor=actor, why="board decision"))
        if outcome is not None:
            tested, reference = outcome
            assert isinstance(tested, PolicyChange)
            assert tested.at.utcoffset() == datetime.timedelta(0)
            assert attrs.evolve(tested, at=reference.at) == reference

    # -- what must hold after every step ------------------------------------

    @invariant()
    def samerecords(self) -> None:
        assert records(self.tested.dump()) == records(self.reference.dump())

    @invariant()
    def same_history(self) -> None:
        tested, reference = self.tested.history(), self.reference.history()
        assert len(tested) == len(reference)
        for mine, theirs in zip(tested, reference, strict=True):
            assert mine.at.utcoffset() == datetime.timedelta(0)
            assert self._mapped(mine) == attrs.evolve(theirs, at=mine.at)
            assert dict(mine.counts) == dict(theirs.counts)

    @invariant()
    def same_schedules(self) -> None:
        assert [self._mapped_schedule(schedule) for schedule in self.tested.schedules()] == list(
            self.reference.schedules()
        )

    @invariant()
    def same_demo_mark(self) -> None:
        assert self.tested.holds_demo() is self.reference.holds_demo()

    @invariant()
    def version_is_stable_between_writes(self) -> None:
        assert self.tested.dump().version == self.tested.dump().version

    @invariant()
    def same_consent(self) -> None:
        """The same ledgers (a load's revocations dated by each store), holders, queue and policy."""
        for key in self._keys():
            tested, reference = self.tested.ledger(key), self.reference.ledger(key)
            assert [undated(e) for e in tested] == [undated(e) for e in reference], f"the ledger of {_address(key)}"
            assert self.tested.holders(key) == self.reference.holders(key), f"the holders of {_address(key)}"
        assert self.tested.reviews() == self.reference.reviews()
        assert self.tested.consent_policy() == self.reference.consent_policy()
        tested_changes, reference_changes = self.tested.policy_changes(), self.reference.policy_changes()
        assert [attrs.evolve(c, at=r.at) for c, r in zip(tested_changes, reference_changes, strict=True)] == list(
            reference_changes
        )

    @invariant()
    def every_point_is_revoked_as_its_ledger_says(self) -> None:
        """No point holding an address is less (or more) revoked than its ledger, the queue and the policy say."""
        policy = self.tested.consent_policy()
        waiting = {review.address for review in self.tested.reviews() if review.waiting}
        points = self.tested.dump().contact_points
        keys = {point.key: ledger_key(point.method, point.address, policy.region) for point in points}
        held = {key for key in keys.values() if key is not None}
        floor = floors(held, {key: self.tested.ledger(key) for key in held}, waiting, policy)
        for point in points:
            key = keys[point.key]
            if key is not None:
                assert point.revoked == floor[key], f"revoked at {_key(point.key)}: mask {point.revoked.mask}"

    @invariant()
    def ledgers_only_grow(self) -> None:
        for key in self._keys():
            ledger = self.tested.ledger(key)
            seen = self.ledgers.get(key, ())
            assert ledger[: len(seen)] == seen, f"the ledger of {_address(key)} lost or changed an event"
            self.ledgers[key] = ledger

    @invariant()
    def the_chain_holds_every_entry_intact(self) -> None:
        report = verify_history(self.tested)
        assert report.intact, report.problem
        kinds = [link.kind for link in self.tested.chain()]
        assert kinds == [link.kind for link in self.reference.chain()]

    # -- helpers ------------------------------------------------------------

    def _both(self, operation: Callable[[Store], Any]) -> Any:
        """Run ``operation`` on both stores; both must succeed or fail alike.

        Returns ``(tested result, reference result)``, or ``None`` when both
        failed.  A failure must leave the tested version as it was, and a
        success that changed the records must change it.
        """
        before = self.tested.dump().version
        records_before = records(self.reference.dump())
        results: list[Any] = []
        errors: list[ContactPrefsError] = []
        for store in (self.tested, self.reference):
            try:
                results.append(operation(store))
            except ContactPrefsError as error:
                errors.append(error)
        if errors:
            assert len(errors) == 2, f"only one store failed: {errors[0]!r}"
            tested, reference = errors
            assert type(tested) is type(reference)
            if isinstance(tested, ConflictError) and isinstance(reference, ConflictError):
                assert sorted(tested.conflicts, key=repr) == sorted(reference.conflicts, key=repr)
            assert self.tested.dump().version == before, "a failed operation changed the version"
            conflicts = len(reference.conflicts) if isinstance(reference, ConflictError) else 0
            note(f"  both refused: {type(tested).__name__} ({conflicts} conflicting changes)")
            return None
        if isinstance(results[0], Receipt):
            self._same_receipt(results[0], results[1])
            self._note_receipts((results[0], results[1]))
        if records(self.reference.dump()) != records_before:
            assert self.tested.dump().version != before, "a write left the version unchanged"
        return tuple(results)

    def _load(self, operation: Callable[[Store], Any]) -> None:
        """A load on both stores: the same report (its unnormalized points in any order)."""
        outcome = self._both(operation)
        if outcome is not None:
            tested, reference = outcome
            assert isinstance(tested, LoadReport)
            assert (tested.revocations, tested.kept_revoked) == (reference.revocations, reference.kept_revoked)
            assert sorted(map(_key, tested.unnormalized)) == sorted(map(_key, reference.unnormalized))
            note(f"  both loaded: {tested.revocations} revocations recorded, {tested.kept_revoked} points kept revoked")

    def _consent(self, operation: Callable[[Store], Any]) -> Any:
        """A consent write on both stores: every one is a write, so the version changes when it succeeds."""
        before = self.tested.dump().version
        outcome = self._both(operation)
        if outcome is not None:
            assert self.tested.dump().version != before, "a consent write left the version unchanged"
        return outcome

    def _within_consent(self, operation: Callable[[], Any]) -> Any:
        """``operation`` (a commit, batch or undo), after which no point of the tested store has a reason
        on that was off and revoked before it."""
        before = {point.key: point for point in self.tested.dump().contact_points}
        outcome = operation()
        for point in self.tested.dump().contact_points:
            was = before.get(point.key)
            if was is not None:
                switched_on = point.enabled - was.enabled
                assert not switched_on & was.revoked, f"a revoked reason switched on at {_key(point.key)}"
        return outcome

    def _keys(self) -> list[str]:
        """The address keys to compare: every key generated, and every key a point holds now (a roster moves some)."""
        region = self.reference.consent_policy().region
        held = {ledger_key(p.method, p.address, region) for p in self.reference.dump().contact_points}
        return sorted({*ADDRESS_KEYS, *(key for key in held if key is not None)})

    def _waiting_points(self) -> list[ContactPoint]:
        """The stored points that a plan waiting in the ``plans`` bundle would write, in key order."""
        stored = {point.key: point for point in self.reference.dump().contact_points}
        keys = {update.key for planned in self.planned for update in planned.reference.updates}
        return sorted((stored[key] for key in keys & stored.keys()), key=_point_order)

    @staticmethod
    def _note_receipts(receipts: tuple[Receipt, Receipt]) -> None:
        tested, reference = receipts
        undoes = "" if reference.undoes is None else f", undoing {tested.undoes}"
        note(f"  both wrote {reference.applied} changes: batch {tested.batch_id}{undoes}")

    def _same_receipt(self, tested: Receipt, reference: Receipt) -> None:
        assert tested.at.utcoffset() == datetime.timedelta(0)
        assert tested.batch_id not in self.ids
        assert (tested.actor, tested.applied, dict(tested.counts)) == (
            reference.actor,
            reference.applied,
            dict(reference.counts),
        )
        assert (tested.schedule_id, tested.left_alone) == (reference.schedule_id, reference.left_alone)
        assert (tested.undoes is None) is (reference.undoes is None)
        if tested.undoes is not None:
            assert self.ids[tested.undoes] == reference.undoes

    def _batch(self, outcome: tuple[Receipt, Receipt] | None) -> Any:
        """The new batch for the ``batches`` bundle, or nothing when there is none.

        An empty commit is recorded but not offered for undo: undos of batches
        that changed something are the ones worth the steps.
        """
        if outcome is None:
            return multiple()
        tested, reference = outcome
        self.ids[tested.batch_id] = reference.batch_id
        if tested.applied == 0 and tested.undoes is None:
            return multiple()
        return Batch(tested=tested.batch_id, reference=reference.batch_id)

    def _mapped_schedule(self, schedule: Schedule) -> Schedule:
        """``schedule`` with the tested store's batch ids replaced by the reference's."""
        return attrs.evolve(
            schedule,
            start_batch=None if schedule.start_batch is None else self.ids[schedule.start_batch],
            end_batch=None if schedule.end_batch is None else self.ids[schedule.end_batch],
        )

    def _mapped(self, record: BatchRecord) -> BatchRecord:
        """``record`` with the tested store's batch ids replaced by the reference's."""

        def mapped(batch_id: str | None) -> str | None:
            return None if batch_id is None else self.ids[batch_id]

        return attrs.evolve(
            record,
            batch_id=self.ids[record.batch_id],
            undone_by=mapped(record.undone_by),
            undoes=mapped(record.undoes),
        )
