"""contact-prefs: set messenger contact preferences in bulk, safely.

The core (types, rules, :func:`plan`) does no I/O; stores come from plugins
and are opened with :func:`open_store`.
"""

from .approval import ApprovalPolicy
from .batch import run_batch
from .chain import ChainReport
from .changes import Change, ChangeSet, PointUpdate, Skip
from .consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, Review, RevocationScope
from .contents import StoreContents
from .enums import Method, Mode, Reason, Setting, SkipReason, Source
from .errors import (
    ConflictError,
    ContactPrefsError,
    NotAuthorizedError,
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
from .proposals import (
    Approval,
    ApprovalRequiredError,
    PlanMovedError,
    Proposal,
    ProposalError,
    ProposalState,
    UnknownProposalError,
)
from .reasons import ReasonSet
from .records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from .rights import Action, Governance, Rights
from .selection import Selection
from .snapshot import Snapshot
from .spec import BatchSpec
from .store import BatchRecord, BatchSummary, Receipt, Store

__all__ = [
    "Action",
    "Approval",
    "ApprovalPolicy",
    "ApprovalRequiredError",
    "BatchRecord",
    "BatchSpec",
    "BatchSummary",
    "ChainReport",
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
    "Governance",
    "HouseholdMember",
    "LoadReport",
    "Method",
    "Mode",
    "NotAuthorizedError",
    "Person",
    "PlanMovedError",
    "Plugins",
    "PointUpdate",
    "PolicyChange",
    "Proposal",
    "ProposalError",
    "ProposalState",
    "Reason",
    "ReasonSet",
    "Receipt",
    "Relationship",
    "Review",
    "RevocationScope",
    "Rights",
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
    "UnknownProposalError",
    "UnknownReviewError",
    "UnknownStoreError",
    "hookimpl",
    "open_store",
    "plan",
    "run_batch",
]
