"""The exceptions the library raises.  Every one is a :class:`ContactPrefsError`.

Messages repeat the offending value, say what was wrong and list the valid
choices where there are any.  They name ids and methods, never an address:
phone numbers and e-mail addresses are personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .privacy import redact_url
from .privacy import shown as _shown

if TYPE_CHECKING:
    from .changes import Change


class ContactPrefsError(Exception):
    """The base of every error this library raises on purpose."""


class SpecError(ContactPrefsError, ValueError):
    """A batch spec that must not run: an unknown reason, a forbidden setting..."""


class SnapshotError(ContactPrefsError, ValueError):
    """A snapshot that contradicts itself, such as two points with one key."""


class StoreError(ContactPrefsError):
    """A store that cannot be opened or used: unreadable, read-only, too new..."""


class StoreNotEmptyError(StoreError):
    """A store asked to receive everything another held, while it holds something itself
    (``Store.receive`` without ``replace``); nothing was written."""


class UnknownStoreError(ContactPrefsError, LookupError):
    """A store URL whose scheme no installed backend serves; ``url`` is the URL with its password masked."""

    def __init__(self, url: str, schemes: Iterable[str]) -> None:
        self.url = redact_url(url)
        self.schemes = tuple(sorted(schemes))
        scheme = self.url.partition(":")[0]
        super().__init__(
            f"no store backend serves the scheme {scheme!r} of {self.url!r}; "
            f"registered schemes: {', '.join(self.schemes) or '(none)'}"
        )


class UnknownBatchError(ContactPrefsError, LookupError):
    """A batch id that is not in the store's history."""


class UnknownReviewError(ContactPrefsError, LookupError):
    """A review id that is not in the store's review queue."""


class ConflictError(ContactPrefsError):
    """Stored points changed since the batch was planned; nothing was written.

    ``conflicts`` lists every change whose point no longer matches what the
    plan saw (a parent's portal edit, a concurrent batch, a deleted point).
    """

    def __init__(self, conflicts: Sequence[Change], message: str = "") -> None:
        self.conflicts = tuple(conflicts)
        points = sorted({(c.owner_id, c.method.value) for c in self.conflicts})
        shown = ", ".join(f"{owner} {method}" for owner, method in points[:5])
        more = f" and {len(points) - 5} more" if len(points) > 5 else ""
        super().__init__(
            message
            or f"{len(points)} contact point(s) changed since the batch was planned "
            f"({shown}{more}); nothing was written: plan again"
        )


class NotAuthorizedError(ContactPrefsError, PermissionError):
    """An actor may not take an action: the district's policy, or a plugin, said no; nothing was read or written.

    ``actor`` and ``action`` say who and what, ``reason`` why (as the policy or plugin put it).
    """

    def __init__(self, actor: str, action: str, reason: str) -> None:
        self.actor = actor
        self.action = action
        self.reason = reason
        # PermissionError's own constructor would read the arguments as an errno; the message is ours.
        ContactPrefsError.__init__(self, f"{_shown(actor)} may not take the action {action!r}: {reason}")

    def __str__(self) -> str:
        return str(self.args[0])
