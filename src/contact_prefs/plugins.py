"""The plugin system: a plugin manager per use, and ``open_store`` on top of it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .changes import ChangeSet
from .errors import ContactPrefsError, StoreError, UnknownBatchError, UnknownStoreError
from .hookspecs import StoreFactory
from .identifiers import check_actor, check_id, id_problem
from .ledger import LoadReport
from .privacy import redact_url, scrub, shown, url_secrets
from .schedules import Schedule
from .snapshot import Snapshot
from .spec import BatchSpec
from .store import BatchRecord, Receipt, Store, commit_options


@attrs.define
class Plugins:
    """A typed facade over pluggy's manager: the hooks, and the store registry they fill."""

    manager: pluggy.PluginManager

    @classmethod
    def load(cls, extra: Iterable[object] = ()) -> Plugins:
        """Plugins from the ``contact_prefs`` entry points, plus ``extra`` plugin objects."""
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
        for plugin in extra:
            manager.register(plugin)
        manager.check_pending()
        return cls(manager)

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
        return ObservedStore(store, self.manager.hook)


def open_store(url: str) -> Store:
    """Open the store at ``url`` with the backend registered for its scheme.

    ``memory://`` is a fresh empty store; ``sqlite:///path/to/file.db`` a SQLite
    file (created if missing); ``sqlite://`` a private in-memory database.
    Observers (``contact_prefs_after_commit``) hear of its commits and undos.
    """
    return Plugins.load().open_store(url)


@attrs.define
class ObservedStore:
    """A store whose commits and undos are announced to the ``after_commit`` hook.

    It also checks what enters the history (the actor, the batch id to undo) by
    the rule of :mod:`contact_prefs.identifiers`, so every backend refuses the
    same ones the same way.  Everything else is the backend's own: other
    attributes pass through.
    """

    inner: Store
    hook: Any = attrs.field(repr=False)

    def load(
        self,
        snapshot: Snapshot,
        *,
        remove: Snapshot | None = None,
        keep_preferences: bool = False,
        actor: str = "import",
    ) -> LoadReport:
        return self.inner.load(snapshot, remove=remove, keep_preferences=keep_preferences, actor=actor)

    def dump(self) -> Snapshot:
        return self.inner.dump()

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        return self.inner.snapshot(spec)

    def commit(
        self, changeset: ChangeSet, *, actor: str, proposal_id: str | None = None, schedule_id: str | None = None
    ) -> Receipt:
        check_actor(actor)
        options = commit_options(proposal_id=proposal_id, schedule_id=schedule_id)
        return self._announce(self.inner.commit(changeset, actor=actor, **options))

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        check_actor(actor)
        problem = id_problem(batch_id)
        if problem:  # no batch has such an id: say so before a backend tries to look it up
            raise UnknownBatchError(f"no batch has the id {shown(batch_id)}, which {problem}")
        return self._announce(self.inner.revert(batch_id, actor=actor, schedule_id=schedule_id))

    def save_schedule(self, schedule: Schedule) -> None:
        self.inner.save_schedule(schedule)

    def schedules(self) -> tuple[Schedule, ...]:
        return self.inner.schedules()

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        check_actor(actor)
        check_id(schedule_id, "the schedule id")
        return self.inner.cancel_schedule(schedule_id, actor=actor, at=at)

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        check_actor(actor)
        problem = id_problem(batch_id)
        if problem:  # no batch has such an id: say so before a backend tries to look it up
            raise UnknownBatchError(f"no batch has the id {shown(batch_id)}, which {problem}")
        return self._announce(self.inner.undo(batch_id, actor=actor))

    def history(self) -> tuple[BatchRecord, ...]:
        return self.inner.history()

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

    def _announce(self, receipt: Receipt) -> Receipt:
        self.hook.contact_prefs_after_commit(store=self.inner, receipt=receipt)
        return receipt
