"""contact-prefs: set messenger contact preferences in bulk, safely.

The core (types, rules, :func:`plan`) does no I/O; stores come from plugins
and are opened with :func:`open_store`.
"""

from .batch import run_batch
from .changes import Change, ChangeSet, PointUpdate, Skip
from .consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, Review, RevocationScope
from .contents import StoreContents
from .enums import Method, Mode, Reason, Setting, SkipReason, Source
from .errors import (
    ConflictError,
    ContactPrefsError,
    SnapshotError,
    SpecError,
    StoreError,
    StoreNotEmptyError,
    UnknownBatchError,
    UnknownReviewError,
    UnknownStoreError,
)
from .hookspecs import hookimpl
from .ledger import LoadReport, PolicyChange
from .planning import plan
from .plugins import Plugins, open_store
from .reasons import ReasonSet
from .records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from .selection import Selection
from .snapshot import Snapshot
from .spec import BatchSpec
from .store import BatchRecord, BatchSummary, Receipt, Store

__all__ = [
    "BatchRecord",
    "BatchSpec",
    "BatchSummary",
    "Change",
    "ChangeSet",
    "Channel",
    "ConflictError",
    "ConsentAction",
    "ConsentEvent",
    "ConsentPolicy",
    "ContactPoint",
    "ContactPrefsError",
    "DistrictAssignment",
    "Enrollment",
    "HouseholdMember",
    "LoadReport",
    "Method",
    "Mode",
    "Person",
    "Plugins",
    "PointUpdate",
    "PolicyChange",
    "Reason",
    "ReasonSet",
    "Receipt",
    "Relationship",
    "Review",
    "RevocationScope",
    "Selection",
    "Setting",
    "Skip",
    "SkipReason",
    "Snapshot",
    "SnapshotError",
    "Source",
    "SpecError",
    "Store",
    "StoreContents",
    "StoreError",
    "StoreNotEmptyError",
    "UnknownBatchError",
    "UnknownReviewError",
    "UnknownStoreError",
    "hookimpl",
    "open_store",
    "plan",
    "run_batch",
]
