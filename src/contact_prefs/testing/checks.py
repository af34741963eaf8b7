"""What the kit checks behind every store call: records built by the checked constructors, and storage that means them.

Two ways a store can look right through its own methods and still be wrong:

- it builds the records it returns without their checks (a ``ContactPoint``
  whose method is a plain string, whose reasons are ``{'bogus'}``), so a bad
  value slips through to every caller: :func:`assert_checked` builds every
  record again through its checked constructor, and requires the same value
  of the same types, field by field, and of the types the class declares;
- it stores the wrong thing consistently (two columns swapped on write and
  swapped back on read), so ``dump()`` round-trips while the tables, which a
  SIS sharing the database reads, hold garbage: the backend's ``raw_point``
  side channel reads its own tables directly, and :class:`CheckedStore`
  holds each point it returns to what the tables say.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import collections.abc
import datetime
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from ..chain import Link
from ..changes import ChangeSet
from ..consent import ConsentEvent, ConsentPolicy, Review
from ..contents import StoreContents
from ..enums import Method, Reason
from ..ledger import LoadReport, PolicyChange
from ..progress import NO_PROGRESS, Progress
from ..proposals import Proposal
from ..records import ContactPoint
from ..schedules import Schedule
from ..snapshot import Snapshot
from ..spec import BatchSpec
from ..store import BatchRecord, BatchSummary, Receipt, Store, commit_options, progress_option

__all__ = ["CheckedStore", "RawPoint", "RawPointReader", "assert_checked", "mask_of"]

T = TypeVar("T")


def _plain(kind: type[Any]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def exactly(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not kind:
            raise TypeError(f"RawPoint.{attribute.name} must be a plain {kind.__name__}, not {type(value).__name__}")

    return exactly


@attrs.frozen(kw_only=True)
class RawPoint:
    """A contact point's row as the backend's own tables hold it, in plain values.

    ``enabled``, ``text`` and ``revoked`` (the reasons consent is withdrawn
    for) are the stored bit masks: the bit of each reason is ``1 << i`` for the
    *i*-th reason in ``Reason`` order (Emergency 1, Attendance 2, Behavior 4,
    Staff 8, General 16, Food Service 32, Priority 64, Teacher 128), as the
    original system stores them.  ``source`` is the ``Source`` value
    (``"batch"``, ``"portal"``...), ``address`` the stored address.
    """

    address: str = attrs.field(validator=_plain(str), repr=False)  # personal data: kept out of reports
    enabled: int = attrs.field(validator=_plain(int))
    text: int = attrs.field(validator=_plain(int))
    source: str = attrs.field(validator=_plain(str))
    revoked: int = attrs.field(validator=_plain(int))

    @classmethod
    def of(cls, point: ContactPoint) -> RawPoint:
        """The row that documents ``point``: what a backend's tables must hold for it."""
        return cls(
            address=point.address,
            enabled=mask_of(point.enabled),
            text=mask_of(point.text),
            source=str(point.source.value),
            revoked=mask_of(point.revoked),
        )


RawPointReader = Callable[[Store, str, Method], "RawPoint | None"]
"""``raw_point(store, owner_id, method)``: the stored row of that point, read from the backend's
own tables (not through the store's methods), or ``None`` when there is none."""


def mask_of(reasons: collections.abc.Iterable[Reason]) -> int:
    """The documented bit mask of ``reasons``: bit *i* for the *i*-th reason in ``Reason`` order."""
    held = set(reasons)
    return sum(1 << index for index, reason in enumerate(Reason) if reason in held)


# -- records rebuilt by their checked constructors -------------------------------------


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(kind: type[Any]) -> dict[str, Any]:
    """The resolved field annotations of an attrs class, read once per class."""
    if kind not in _HINTS:
        _HINTS[kind] = typing.get_type_hints(kind)
    return _HINTS[kind]


def assert_checked(value: Any, where: str) -> None:
    """``value`` (a record, snapshot, history record, receipt, or a collection of them) is what
    its checked constructors make of it: built again through each attrs class's ``__init__``
    (validators and converters), every field comes out equal and of the same type, and of
    the type its class declares.  ``where`` names the value in the failure message."""
    kind = type(value)
    if attrs.has(kind):
        _assert_rebuilt(value, kind, where)
    elif isinstance(value, tuple | list | frozenset | set):
        for index, item in enumerate(value):
            assert_checked(item, f"{where}[{index}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            assert_checked(key, f"{where} key {key!r}")
            assert_checked(item, f"{where}[{key!r}]")


def _assert_rebuilt(value: Any, kind: type[Any], where: str) -> None:
    hints = _hints(kind)
    arguments: dict[str, Any] = {}
    for field in attrs.fields(kind):
        if not field.init:
            continue
        held = getattr(value, field.name)
        _assert_type(held, hints[field.name], f"{where}.{field.name}")
        assert_checked(held, f"{where}.{field.name}")
        arguments[field.alias] = held
    try:
        again = kind(**arguments)
    except (ValueError, TypeError, KeyError) as error:
        raise AssertionError(
            f"{where}: the store returned a {kind.__name__} that its checked constructor refuses: {error}"
        ) from error
    for name in arguments:
        field_name = next(f.name for f in attrs.fields(kind) if f.alias == name)
        held, checked = getattr(value, field_name), getattr(again, field_name)
        assert type(held) is type(checked) and held == checked, (
            f"{where}.{field_name}: the store returned a {type(held).__name__} where the checked "
            f"{kind.__name__} constructor makes a {type(checked).__name__}"
        )


def _assert_type(value: Any, hint: Any, where: str) -> None:
    assert _conforms(value, hint), f"{where}: {type(value).__name__} is not a {_name(hint)}"


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the annotated type ``hint`` (the forms the records use)."""
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return any(_conforms(value, arm) for arm in arguments)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(_conforms(item, arguments[0]) for item in value)
        return len(value) == len(arguments) and all(map(_conforms, value, arguments))
    if origin in (frozenset, set):
        return isinstance(value, origin) and all(_conforms(item, arguments[0]) for item in value)
    if origin in (dict, collections.abc.Mapping):
        return isinstance(value, Mapping) and all(
            _conforms(key, arguments[0]) and _conforms(item, arguments[1]) for key, item in value.items()
        )
    if origin is not None:
        return isinstance(value, origin)
    if hint is bool:
        return type(value) is bool
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is datetime.date:
        return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
    return isinstance(value, hint)


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint)


# -- a store whose every answer is checked -----------------------------------------------


@attrs.define
class CheckedStore:
    """The store under test, its every answer checked on the way out.

    Every snapshot, history record, receipt, load report, consent event,
    review, policy and policy change is built again through the checked
    constructors (:func:`assert_checked`), and every contact point a snapshot
    holds must be what the backend's own tables hold (``raw_point``).
    :meth:`stored` reads one point's row.  ``inner`` is the store itself; what
    is not checked here passes through to it.
    """

    inner: Store
    raw_point: RawPointReader = attrs.field(repr=False)

    def load(self, snapshot: Snapshot, **options: Any) -> LoadReport:
        report = self.inner.load(snapshot, **options)
        self._checked(report, LoadReport, "load()")
        return report

    def holds_demo(self) -> bool:
        held = self.inner.holds_demo()
        assert type(held) is bool, f"holds_demo() returned a {type(held).__name__}, not a bool"
        return held

    def dump(self) -> Snapshot:
        return self._checked_snapshot(self.inner.dump(), "dump()")

    def snapshot(self, spec: BatchSpec, *, progress: Progress = NO_PROGRESS) -> Snapshot:
        snapshot = self.inner.snapshot(spec, **progress_option(progress, self.inner.snapshot))
        return self._checked_snapshot(snapshot, "snapshot(spec)")

    def commit(
        self,
        changeset: ChangeSet,
        *,
        actor: str,
        proposal_id: str | None = None,
        schedule_id: str | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Receipt:
        options = commit_options(proposal_id=proposal_id, schedule_id=schedule_id)
        reported = progress_option(progress, self.inner.commit)
        receipt = self.inner.commit(changeset, actor=actor, **options, **reported)
        self._checked(receipt, Receipt, "commit()")
        return receipt

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        receipt = self.inner.revert(batch_id, actor=actor, schedule_id=schedule_id)
        self._checked(receipt, Receipt, "revert()")
        return receipt

    # -- schedules ----------------------------------------------------------------

    def save_schedule(self, schedule: Schedule) -> None:
        returned = self.inner.save_schedule(schedule)  # type: ignore[func-returns-value]
        assert returned is None, f"save_schedule() returned a {type(returned).__name__}, not None"

    def schedules(self) -> tuple[Schedule, ...]:
        return self._checked_tuple(self.inner.schedules(), Schedule, "schedules()")

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        cancelled = self.inner.cancel_schedule(schedule_id, actor=actor, at=at)
        self._checked(cancelled, Schedule, "cancel_schedule()")
        return cancelled

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        receipt = self.inner.undo(batch_id, actor=actor)
        self._checked(receipt, Receipt, "undo()")
        return receipt

    def history(self) -> tuple[BatchRecord, ...]:
        history = self.inner.history()
        assert type(history) is tuple, f"history() returned a {type(history).__name__}, not a tuple"
        for index, record in enumerate(history):
            self._checked(record, BatchRecord, f"history()[{index}]")
        return history

    def batches(self, *, limit: int | None = None) -> tuple[BatchSummary, ...]:
        return self._checked_tuple(self.inner.batches(limit=limit), BatchSummary, f"batches(limit={limit})")

    # -- consent ----------------------------------------------------------------

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        returned = self.inner.record_consent(events, reviews=reviews, actor=actor)  # type: ignore[func-returns-value]
        assert returned is None, f"record_consent() returned a {type(returned).__name__}, not None"

    def resolve_review(
        self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime
    ) -> Review:
        review = self.inner.resolve_review(review_id, revoked=revoked, actor=actor, note=note, at=at)
        self._checked(review, Review, "resolve_review()")
        return review

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        return self._checked_tuple(self.inner.ledger(address), ConsentEvent, "ledger(address)")

    def reviews(self) -> tuple[Review, ...]:
        return self._checked_tuple(self.inner.reviews(), Review, "reviews()")

    def consent_events(self) -> tuple[ConsentEvent, ...]:
        return self._checked_tuple(self.inner.consent_events(), ConsentEvent, "consent_events()")

    def holders(self, address: str) -> tuple[tuple[str, Method], ...]:
        holders = self.inner.holders(address)
        _assert_type(holders, tuple[tuple[str, Method], ...], "holders(address)")
        return holders

    def consent_policy(self) -> ConsentPolicy:
        policy = self.inner.consent_policy()
        self._checked(policy, ConsentPolicy, "consent_policy()")
        return policy

    def set_consent_policy(self, policy: ConsentPolicy, *, actor: str, why: str) -> PolicyChange:
        change = self.inner.set_consent_policy(policy, actor=actor, why=why)
        self._checked(change, PolicyChange, "set_consent_policy()")
        return change

    def policy_changes(self) -> tuple[PolicyChange, ...]:
        return self._checked_tuple(self.inner.policy_changes(), PolicyChange, "policy_changes()")

    # -- proposals and the chain --------------------------------------------------

    def propose(self, proposal: Proposal) -> None:
        returned = self.inner.propose(proposal)  # type: ignore[func-returns-value]
        assert returned is None, f"propose() returned a {type(returned).__name__}, not None"

    def approve(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        approved = self.inner.approve(proposal_id, actor=actor, at=at)
        self._checked(approved, Proposal, "approve()")
        return approved

    def withdraw(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        withdrawn = self.inner.withdraw(proposal_id, actor=actor, at=at)
        self._checked(withdrawn, Proposal, "withdraw()")
        return withdrawn

    def proposals(self) -> tuple[Proposal, ...]:
        return self._checked_tuple(self.inner.proposals(), Proposal, "proposals()")

    def chain(self) -> tuple[Link, ...]:
        return self._checked_tuple(self.inner.chain(), Link, "chain()")

    # -- everything at once ------------------------------------------------------------

    def contents(self) -> StoreContents:
        contents = self.inner.contents()
        self._checked(contents, StoreContents, "contents()")
        self._checked_snapshot(contents.records, "contents().records")
        return contents

    def receive(self, contents: StoreContents, *, replace: bool = False) -> None:
        returned = self.inner.receive(contents, replace=replace)  # type: ignore[func-returns-value]
        assert returned is None, f"receive() returned a {type(returned).__name__}, not None"

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> CheckedStore:
        entered = self.inner.__enter__()
        assert entered is self.inner, "entering a store's with block must give the store itself"
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        self.inner.__exit__(kind, error, traceback)

    def __getattr__(self, name: str) -> Any:
        # The rest of the store's methods pass through unchecked.
        if name in ("inner", "raw_point"):  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def stored(self, like: ContactPoint) -> RawPoint | None:
        """The row the backend's tables hold for the point with the key of ``like``, or ``None``."""
        raw = self.raw_point(self.inner, like.owner_id, like.method)
        assert raw is None or type(raw) is RawPoint, f"raw_point returned a {type(raw).__name__}, not a RawPoint"
        return raw

    def _checked_snapshot(self, snapshot: Snapshot, where: str) -> Snapshot:
        self._checked(snapshot, Snapshot, where)
        for point in snapshot.contact_points:
            expected, stored = RawPoint.of(point), self.stored(point)
            assert stored == expected, (
                f"{where} gives the {point.method.value} point of {point.owner_id!r}, but the backend's "
                f"tables hold {_difference(expected, stored)}"
            )
        return snapshot

    @staticmethod
    def _checked(value: object, kind: type[Any], where: str) -> None:
        assert type(value) is kind, f"{where} returned a {type(value).__name__}, not a {kind.__name__}"
        assert_checked(value, where)

    @classmethod
    def _checked_tuple(cls, values: tuple[T, ...], kind: type[T], where: str) -> tuple[T, ...]:
        assert type(values) is tuple, f"{where} returned a {type(values).__name__}, not a tuple"
        for index, value in enumerate(values):
            cls._checked(value, kind, f"{where}[{index}]")
        return values


def _difference(expected: RawPoint, stored: RawPoint | None) -> str:
    """What the stored row holds where it differs from ``expected``, for a failure message
    (an address is personal data: only whether it differs)."""
    if stored is None:
        return "no row for it"
    differences = [
        "another address" if name == "address" else f"{name} {getattr(stored, name)!r} for {getattr(expected, name)!r}"
        for name in attrs.fields_dict(RawPoint)
        if getattr(stored, name) != getattr(expected, name)
    ]
    return ", ".join(differences)
