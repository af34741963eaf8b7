"""The plugin system: a plugin manager per use, and ``open_store`` on top of it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType, TracebackType
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .changes import ChangeSet
from .consent import ConsentEvent, ConsentPolicy, Review
from .contents import StoreContents
from .errors import ContactPrefsError, NotAuthorizedError, StoreError, UnknownBatchError, UnknownStoreError
from .hookspecs import StoreFactory, hookimpl
from .identifiers import check_actor, check_id, id_problem
from .ledger import LoadReport, PolicyChange
from .privacy import redact_url, scrub, shown, url_secrets
from .progress import NO_PROGRESS, Progress
from .proposals import Proposal
from .rights import Action, Governance, action_of
from .schedules import Schedule
from .snapshot import Snapshot
from .spec import BatchSpec
from .store import BatchRecord, Receipt, Store, commit_options, progress_option


@attrs.define
class Plugins:
    """A typed facade over pluggy's manager: the hooks, and the store registry they fill."""

    manager: pluggy.PluginManager
    governance: Governance = attrs.field(factory=Governance)
    """The district's policy these plugins enforce (rights and approval); no policy by default."""

    @classmethod
    def load(cls, extra: Iterable[object] = (), *, governance: Governance | None = None) -> Plugins:
        """Plugins from the ``contact_prefs`` entry points, plus ``extra`` plugin objects, plus
        :class:`PolicyRights` for ``governance`` when it names rights."""
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
        for plugin in extra:
            manager.register(plugin)
        if governance is None:
            governance = Governance()
        if governance.rights is not None:
            manager.register(PolicyRights(governance), name="contact_prefs.policy")
        manager.check_pending()
        return cls(manager, governance)

    def authorize(self, actor: str, action: Action | str, context: Mapping[str, object] | None = None) -> None:
        """The one place that decides whether ``actor`` may take ``action``: raises
        :class:`~contact_prefs.errors.NotAuthorizedError` with the first denial of a
        ``contact_prefs_authorize`` hook, or returns.  The actor is checked by the actor rule first
        (:func:`~contact_prefs.identifiers.check_actor`).  ``context`` says what the action is about
        (``docs/governance.md`` lists the keys)."""
        check_actor(actor)
        wanted = action_of(action)
        shown_context = MappingProxyType(dict(context or {}))
        reason = self.manager.hook.contact_prefs_authorize(actor=actor, action=wanted.value, context=shown_context)
        if reason is not None:
            raise NotAuthorizedError(actor, wanted.value, str(reason))

    def stores(self) -> dict[str, StoreFactory]:
        """URL scheme -> store factory, from every plugin's ``contact_prefs_register_stores``."""
        factories: dict[str, StoreFactory] = {}
        owners: dict[str, str] = {}
        for impl in self.manager.hook.contact_prefs_register_stores.get_hookimpls():

            def register(scheme: str, factory: StoreFactory, plugin: str = impl.plugin_name) -> None:
                if scheme in owners:
                    raise ContactPrefsError(
                        f"the store scheme {scheme!r} is registered by two plugins: {owners[scheme]!r} and {plugin!r}"
                    )
                owners[scheme] = plugin
                factories[scheme] = factory

            impl.function(register=register)
        return factories

    def open_store(self, url: str) -> Store:
        scheme = url.partition("://")[0] if "://" in url else ""
        factories = self.stores()
        if scheme not in factories:
            raise UnknownStoreError(url, factories)
        try:
            store = factories[scheme](url)
        except ImportError as error:
            # A backend imports its driver when first used: a missing one breaks only its own scheme.
            raise StoreError(
                f"the {scheme!r} store backend cannot start: it needs {error.name or str(error)!r}, which is "
                "not installed (install the extra or package that provides it)"
            ) from error
        except ContactPrefsError as error:
            # Whatever a backend says about its URL, its password stays out of the message.
            if any(secret in str(error) for secret in url_secrets(url)):
                raise StoreError(scrub(str(error), url_secrets(url))) from None
            raise
        except ValueError as error:  # a URL the backend could not parse
            raise StoreError(
                f"cannot open the store {redact_url(url)!r}: {scrub(str(error), url_secrets(url))}"
            ) from None
        return ObservedStore(store, self, redact_url(url))


def open_store(url: str) -> Store:
    """Open the store at ``url`` with the backend registered for its scheme.

    ``memory://`` is a fresh empty store; ``sqlite:///path/to/file.db`` a SQLite
    file (created if missing); ``sqlite://`` a private in-memory database.
    Observers (``contact_prefs_after_commit``) hear of its commits and undos.
    """
    return Plugins.load().open_store(url)


@attrs.frozen
class PolicyRights:
    """The bundled rights plugin: denies what a district's :class:`~contact_prefs.rights.Governance`
    does not grant (:func:`~contact_prefs.rights.rights_denial`)."""

    governance: Governance

    @hookimpl
    def contact_prefs_authorize(self, actor: str, action: str) -> str | None:
        return self.governance.denial(actor, Action(action))


@attrs.define
class ObservedStore:
    """A store whose writes are authorized first and whose commits and undos are announced.

    Before every write it asks :meth:`Plugins.authorize` with the write's actor
    (``load``: import, ``commit``: apply, ``undo``: undo, ``record_consent`` and
    ``resolve_review``: consent, ``set_consent_policy``: admin), so a denial
    writes nothing; commits and undos are announced to the ``after_commit``
    hook.  It also checks what enters the history (the actor, the batch id to
    undo) by the rule of :mod:`contact_prefs.identifiers`, so every backend
    refuses the same ones the same way.  Everything else is the backend's own:
    other attributes pass through.
    """

    inner: Store
    plugins: Plugins = attrs.field(repr=False)
    masked_url: str = ""
    """The store's URL with its password masked: the ``store`` of every authorization's context."""

    def load(
        self,
        snapshot: Snapshot,
        *,
        remove: Snapshot | None = None,
        keep_preferences: bool = False,
        actor: str = "import",
        demo: bool = False,
        progress: Progress = NO_PROGRESS,
    ) -> LoadReport:
        context = {"snapshot": snapshot, "remove": remove, "keep_preferences": keep_preferences}
        self._authorize(actor, Action.IMPORT, context)
        return self.inner.load(
            snapshot,
            remove=remove,
            keep_preferences=keep_preferences,
            actor=actor,
            demo=demo,
            **progress_option(progress, self.inner.load),
        )

    def holds_demo(self) -> bool:
        return self.inner.holds_demo()

    def dump(self) -> Snapshot:
        return self.inner.dump()

    def snapshot(self, spec: BatchSpec, *, progress: Progress = NO_PROGRESS) -> Snapshot:
        return self.inner.snapshot(spec, **progress_option(progress, self.inner.snapshot))

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
        self._authorize(actor, Action.APPLY, {"spec": changeset.spec, "change_set": changeset, **options})
        reported = progress_option(progress, self.inner.commit)
        return self._announce(self.inner.commit(changeset, actor=actor, **options, **reported))

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        # A schedule's end is the second half of the apply that scheduled it.
        self._authorize(actor, Action.APPLY, {"batch_id": batch_id, "schedule_id": schedule_id})
        problem = id_problem(batch_id)
        if problem:  # no batch has such an id: say so before a backend tries to look it up
            raise UnknownBatchError(f"no batch has the id {shown(batch_id)}, which {problem}")
        return self._announce(self.inner.revert(batch_id, actor=actor, schedule_id=schedule_id))

    def save_schedule(self, schedule: Schedule) -> None:
        # Scheduling is an apply, on the days it names.
        self._authorize(schedule.actor, Action.APPLY, {"spec": schedule.spec, "schedule_id": schedule.schedule_id})
        self.inner.save_schedule(schedule)

    def schedules(self) -> tuple[Schedule, ...]:
        return self.inner.schedules()

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        self._authorize(actor, Action.APPLY, {"schedule_id": schedule_id})
        check_id(schedule_id, "the schedule id")
        return self.inner.cancel_schedule(schedule_id, actor=actor, at=at)

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        self._authorize(actor, Action.UNDO, {"batch_id": batch_id})
        problem = id_problem(batch_id)
        if problem:  # no batch has such an id: say so before a backend tries to look it up
            raise UnknownBatchError(f"no batch has the id {shown(batch_id)}, which {problem}")
        return self._announce(self.inner.undo(batch_id, actor=actor))

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        self._authorize(actor, Action.CONSENT, {"events": tuple(events), "reviews": tuple(reviews)})
        self.inner.record_consent(events, reviews=reviews, actor=actor)

    def resolve_review(
        self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime
    ) -> Review:
        self._authorize(actor, Action.CONSENT, {"review_id": review_id, "revoked": revoked})
        return self.inner.resolve_review(review_id, revoked=revoked, actor=actor, note=note, at=at)

    def set_consent_policy(self, policy: ConsentPolicy, *, actor: str, why: str) -> PolicyChange:
        self._authorize(actor, Action.ADMIN, {"policy": policy, "why": why})
        return self.inner.set_consent_policy(policy, actor=actor, why=why)

    def propose(self, proposal: Proposal) -> None:
        # Proposing is the first half of an apply: the proposer is named on the batch it becomes.
        self._authorize(proposal.proposer, Action.APPLY, {"spec": proposal.spec, "proposal_id": proposal.proposal_id})
        self.inner.propose(proposal)

    def approve(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        self._authorize(actor, Action.APPROVE, {"proposal_id": proposal_id})
        return self.inner.approve(proposal_id, actor=actor, at=at)

    def withdraw(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        self._authorize(actor, Action.APPLY, {"proposal_id": proposal_id})
        return self.inner.withdraw(proposal_id, actor=actor, at=at)

    def history(self) -> tuple[BatchRecord, ...]:
        return self.inner.history()

    def contents(self) -> StoreContents:
        return self.inner.contents()

    def receive(self, contents: StoreContents, *, replace: bool = False) -> None:
        self.inner.receive(contents, replace=replace)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> ObservedStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _authorize(self, actor: str, action: Action, context: Mapping[str, object]) -> None:
        self.plugins.authorize(actor, action, {"store": self.masked_url, **context})

    def _announce(self, receipt: Receipt) -> Receipt:
        self.plugins.manager.hook.contact_prefs_after_commit(store=self.inner, receipt=receipt)
        return receipt
