"""Test helpers for the library and for plugin authors.

``contact_prefs.testing.strategies`` holds Hypothesis strategies for whole
districts and batch specs.  The store conformance kit lives in
``contact_prefs.testing.store`` (``StoreContract``) and
``contact_prefs.testing.stateful`` (``StoreStateMachine``).  These modules
import pytest and Hypothesis, which the ``testing`` extra installs; importing
``contact_prefs`` itself never does.
"""
