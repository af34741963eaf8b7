"""The Hypothesis profile of the whole suite: fast by default, thorough under ``--hypothesis-profile=ci``.

Loaded here, before the test modules are imported, because the kit and the
tests size their examples with ``contact_prefs.testing.profiles.examples``
when their settings are made.  ``.ci/run`` selects the thorough profile;
``HYPOTHESIS_PROFILE=ci pytest`` does the same.
"""

from contact_prefs.testing.profiles import load_profile

load_profile()

# pytester runs the kit on deliberately broken stores (tests/test_kit_catches_broken_stores.py).
pytest_plugins = ["pytester"]
