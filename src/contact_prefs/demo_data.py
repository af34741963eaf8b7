"""Demo data kept apart: real records are never imported into the store holding the demo district.  Pure.

``contact-prefs demo`` loads its synthetic district with ``Store.load(..., demo=True)``, which marks
the store for good (``Store.holds_demo``).  The demo lives in the default store, ``contact-prefs.db``,
which is also where every later command goes unless told otherwise: without this rule the first
``import`` of a district's export would mix its families with the fictional ones, silently.
"""

from __future__ import annotations

from .errors import ContactPrefsError

__all__ = ["DEMO_LOADER", "INTO_DEMO", "DemoStoreError", "check_import_target"]

DEMO_LOADER = "contact-prefs demo"
"""What loads the demo district, as messages name it."""

INTO_DEMO = "--into-demo"
"""The option of ``import`` that asks for an import into a store holding the demo district."""


class DemoStoreError(ContactPrefsError):
    """An import of real records into the store holding the demo district, not asked for."""


def check_import_target(*, holds_demo: bool, into_demo: bool, store: str) -> None:
    """Refuse an import into ``store`` (its URL as messages show it) when it holds the demo district,
    unless asked (``into_demo``): :class:`DemoStoreError` says what to do instead."""
    if holds_demo and not into_demo:
        raise DemoStoreError(
            f"the store {store} holds the demo district (loaded by {DEMO_LOADER}), and real records "
            "are kept apart from its fictional families: name a store of their own with --store URL "
            f"(for example --store sqlite:///district.db), or add {INTO_DEMO} to import into the demo "
            "store anyway (nothing was written)"
        )
