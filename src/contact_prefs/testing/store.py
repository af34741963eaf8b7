"""The store contract as tests: ``StoreContract``, a mixin for a backend's test module.

A backend proves it is a :class:`contact_prefs.Store` by subclassing the mixin
in a ``Test*`` class and overriding two fixtures, ``new_store`` (a factory of
fresh stores) and ``raw_point`` (its side channel: a point's row read from its
own tables)::

    import itertools
    import sqlite3

    import pytest
    from contact_prefs import open_store
    from contact_prefs.testing.checks import RawPoint
    from contact_prefs.testing.store import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def new_store(self, tmp_path):
            numbers = itertools.count()
            return lambda: open_store(f"mine:///{tmp_path}/{next(numbers)}.db")

        @pytest.fixture
        def raw_point(self):
            def read(store, owner_id, method):
                with sqlite3.connect(store.path) as db:
                    row = db.execute("SELECT address, enabled, text, source, revoked FROM points "
                                     "WHERE owner_id = ? AND method = ?", (owner_id, method.value)).fetchone()
                return None if row is None else RawPoint(
                    address=row[0], enabled=row[1], text=row[2], source=row[3], revoked=row[4])
            return read

The contract is split by concern, one mixin each, which a backend may also
use on their own: :class:`~.lifecycle.LifecycleContract`,
:class:`~.loading.LoadingContract`, :class:`~.commit.CommitContract`,
:class:`~.undo.UndoContract`, :class:`~.privacy.PrivacyContract` and
:class:`~.consent.ConsentContract`, :class:`~.governance.GovernanceContract` and
:class:`~.transfer.TransferContract` and :class:`~.schedules.ScheduleContract` and
:class:`~.demo_data.DemoDataContract` and :class:`~.progress.ProgressContract`.
``DISTRICT`` and ``SPEC`` (a small district and a batch that changes all four
of its saved points) are there for a backend's own tests too.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

from .base import EXAMPLES, ContractBase, StoreFactory
from .checks import CheckedStore, RawPoint, RawPointReader
from .commit import CommitContract
from .consent import ConsentContract
from .demo_data import DemoDataContract
from .district import (
    ADDRESSES,
    CELL,
    CROWDED_DISTRICTS,
    DAY,
    DISTRICT,
    G1_CELL,
    G1_MAIL,
    G2_MAIL,
    H1_PHONE,
    HOUSEHOLD_PHONE,
    IDLE_SPEC,
    MAIL,
    NASTY,
    NOTHING_SAVED,
    OFF_SPEC,
    OTHER_MAIL,
    SPEC,
    SPECS,
    TEXT,
)
from .expected import records, undone
from .governance import GovernanceContract
from .lifecycle import LifecycleContract
from .loading import LoadingContract
from .privacy import PrivacyContract
from .progress import ProgressContract, Recorder
from .schedules import ScheduleContract
from .transfer import TransferContract
from .undo import UndoContract

__all__ = [
    "ADDRESSES",
    "CELL",
    "CROWDED_DISTRICTS",
    "DAY",
    "DISTRICT",
    "EXAMPLES",
    "G1_CELL",
    "G1_MAIL",
    "G2_MAIL",
    "H1_PHONE",
    "HOUSEHOLD_PHONE",
    "IDLE_SPEC",
    "MAIL",
    "NASTY",
    "NOTHING_SAVED",
    "OFF_SPEC",
    "OTHER_MAIL",
    "SPEC",
    "SPECS",
    "TEXT",
    "CheckedStore",
    "CommitContract",
    "ConsentContract",
    "ContractBase",
    "DemoDataContract",
    "GovernanceContract",
    "LifecycleContract",
    "LoadingContract",
    "PrivacyContract",
    "ProgressContract",
    "RawPoint",
    "RawPointReader",
    "Recorder",
    "ScheduleContract",
    "StoreContract",
    "StoreFactory",
    "TransferContract",
    "UndoContract",
    "records",
    "undone",
]


class StoreContract(
    LifecycleContract,
    LoadingContract,
    CommitContract,
    UndoContract,
    PrivacyContract,
    ConsentContract,
    GovernanceContract,
    TransferContract,
    ScheduleContract,
    DemoDataContract,
    ProgressContract,
):
    """The whole store contract, as tests to mix into a backend's ``Test*`` class.

    Override two fixtures, ``new_store`` and ``raw_point`` (see
    :class:`~.base.ContractBase`).  The kit provides ``store``, one checked
    store from ``new_store`` closed after the test.  Hypothesis tests run 30
    examples each under the thorough profile (fewer under the fast one, see
    :mod:`~.profiles`), without a deadline.
    """
