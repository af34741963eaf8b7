"""Hypothesis profiles: a fast one while developing, a thorough one in CI, and tests sized by the profile.

A test that names its own ``max_examples`` overrides every profile, so the
kit and the project's tests give theirs through :func:`examples` instead:
``examples(30)`` is 30 under the thorough profile (``ci``) and a fifth of it
under the fast one (``dev``).  Register the profiles and load one before the
test modules are imported, in a ``conftest.py``::

    from contact_prefs.testing.profiles import load_profile

    load_profile()  # $HYPOTHESIS_PROFILE, else "dev"; pytest --hypothesis-profile=ci overrides

This module imports Hypothesis and nothing of the kit, so a ``conftest.py``
can load a profile before the kit's modules size their tests.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["DEV", "THOROUGH", "examples", "load_profile", "register_profiles"]

DEV = "dev"
"""The fast profile: a fifth of the thorough examples, for the edit-test loop."""

THOROUGH = "ci"
"""The thorough profile that CI selects (``pytest --hypothesis-profile=ci``)."""

THOROUGH_EXAMPLES = 100
"""The ``max_examples`` of the thorough profile: :func:`examples` scales by the loaded profile's share of it."""


def register_profiles() -> None:
    """Register :data:`DEV` and :data:`THOROUGH` (registering again is harmless)."""
    # No deadline: a store's first call in a test opens files or connections, and
    # CI machines are slow at unpredictable moments; a slow example is no failure.
    slow = [HealthCheck.too_slow]
    settings.register_profile(
        THOROUGH, max_examples=THOROUGH_EXAMPLES, deadline=None, suppress_health_check=slow, print_blob=True
    )
    settings.register_profile(DEV, max_examples=THOROUGH_EXAMPLES // 5, deadline=None, suppress_health_check=slow)


def load_profile(default: str = DEV) -> str:
    """Register the profiles and load the one ``$HYPOTHESIS_PROFILE`` names, else ``default``; return its name."""
    register_profiles()
    name = os.environ.get("HYPOTHESIS_PROFILE") or default
    settings.load_profile(name)
    return name


def examples(thorough: int) -> int:
    """``thorough`` examples under the thorough profile, the same share of it under the loaded one.

    Read when a test's settings are made (at import), so load the profile before.
    Never fewer than one example; a profile with more examples than the thorough one
    (a long soak run) scales every test up alike.
    """
    loaded = settings.default
    share = (THOROUGH_EXAMPLES if loaded is None else loaded.max_examples) / THOROUGH_EXAMPLES
    return max(1, round(thorough * share))
