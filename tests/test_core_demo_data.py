"""Rule 20: real data stays out of the demo district unless asked."""

from __future__ import annotations

import pytest

from contact_prefs import ContactPrefsError
from contact_prefs.demo_data import DemoStoreError, check_import_target


def test_an_import_into_the_demo_district_is_refused_saying_what_to_do() -> None:
    with pytest.raises(DemoStoreError) as refused:
        check_import_target(holds_demo=True, into_demo=False, store="sqlite:///contact-prefs.db")
    message = str(refused.value)
    assert message.startswith("the store sqlite:///contact-prefs.db holds the demo district (loaded by ")
    assert "--store sqlite:///district.db" in message and "--into-demo" in message
    assert message.endswith("(nothing was written)")
    assert isinstance(refused.value, ContactPrefsError)  # the command line's exit 2


@pytest.mark.parametrize(("holds_demo", "into_demo"), [(True, True), (False, False), (False, True)])
def test_any_other_import_is_let_through(holds_demo: bool, into_demo: bool) -> None:
    assert check_import_target(holds_demo=holds_demo, into_demo=into_demo, store="memory://") is None
