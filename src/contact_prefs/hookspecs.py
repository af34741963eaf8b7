"""The hooks a plugin may implement.  Mark implementations with :data:`contact_prefs.hookimpl`.

Plugins are found through the ``contact_prefs`` entry-point group; the bundled
backends register themselves the same way.  Every hook here is documented in
``docs/plugins.md`` (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .store import Receipt, Store

PROJECT = "contact_prefs"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

StoreFactory = Callable[[str], "Store"]
"""Opens a store for a URL of the scheme it was registered for."""

RegisterStore = Callable[[str, StoreFactory], None]
"""``register(scheme, factory)``: offers ``factory`` for URLs of ``scheme``."""


@hookspec
def contact_prefs_register_stores(register: RegisterStore) -> None:
    """Register the store backends this plugin provides.

    :param register: call ``register(scheme, factory)`` once for each URL scheme
        served (``"sqlite"`` serves ``sqlite://...``); ``factory(url)`` returns an
        open :class:`~contact_prefs.Store`.  Import heavy dependencies inside the
        factory, not at module level, so a missing one breaks only that scheme.
        Two plugins registering one scheme is an error naming both.

    Called for every plugin (not ``firstresult``); the return value is ignored.
    """


@hookspec
def contact_prefs_after_commit(store: Store, receipt: Receipt) -> None:
    """Hear of every commit and undo made through a store from :func:`~contact_prefs.open_store`.

    :param store: the store that was written.
    :param receipt: what was written; ``receipt.undoes`` is set for an undo.

    Called after the write is durable, for every plugin (not ``firstresult``).
    An exception raised here propagates to the caller; the write stays.
    """


@hookspec(firstresult=True)
def contact_prefs_authorize(actor: str, action: str, context: Mapping[str, object]) -> str | None:
    """Say whether ``actor`` may take ``action``: a SIS's own rights, or the district's policy file.

    :param actor: who acts, a name valid under the id rule (checked before the hook is called).
    :param action: one of the :class:`~contact_prefs.rights.Action` values (``"plan"``, ``"apply"``,
        ``"undo"``, ``"import"``, ``"export"``, ``"consent"``, ``"approve"``, ``"admin"``).
    :param context: what the action is about; the keys per action are in ``docs/governance.md``
        (``"store"``, the store's URL with its password masked, is there for every store write).

    Return the reason the action is denied, or ``None`` to allow it.  ``firstresult``: the first
    plugin that returns a reason decides, and the others are not asked; when none does, the action
    is allowed.  Called through :meth:`contact_prefs.Plugins.authorize`, before anything is read
    for the action or written.
    """
