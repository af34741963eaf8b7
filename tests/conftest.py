"""The Hypothesis profile of the whole suite: fast by default, thorough under ``--hypothesis-profile=ci``.

Loaded here, before the test modules are imported, because the kit and the
tests size their examples with ``contact_prefs.testing.profiles.examples``
when their settings are made.  ``.ci/run`` selects the thorough profile;
``HYPOTHESIS_PROFILE=ci pytest`` does the same.
"""

from contact_prefs.testing.profiles import load_profile

load_profile()
