"""Test helpers for the library and for plugin authors.

``contact_prefs.testing.strategies`` holds Hypothesis strategies for whole
districts and batch specs, and ``contact_prefs.testing.profiles`` the
Hypothesis profiles (fast for development, thorough for CI).  The store
conformance kit lives in ``contact_prefs.testing.store`` (``StoreContract``,
composed of one contract class per concern: ``lifecycle``, ``loading``,
``commit``, ``undo``, ``privacy``, ``consent``, ``governance``, ``transfer``, ``schedules``),
``contact_prefs.testing.checks`` (what it checks behind every store call, and the ``RawPoint`` of the side channel) and
``contact_prefs.testing.stateful`` (``StoreStateMachine``).  These modules
import pytest and Hypothesis, which the ``testing`` extra installs; importing
``contact_prefs`` itself never does.
"""

_ASSERTING = (
    "checks",
    "commit",
    "consent",
    "expected",
    "lifecycle",
    "loading",
    "privacy",
    "schedules",
    "stateful",
    "transfer",
    "undo",
)

try:
    import pytest
except ImportError:  # the strategies and profiles need only Hypothesis
    pass
else:
    # The kit's assertions report the values they compared, as a test module's do.
    pytest.register_assert_rewrite(*(f"{__name__}.{module}" for module in _ASSERTING))
