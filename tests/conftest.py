"""Shared pytest configuration: hypothesis profiles sized for a 2-core CI machine.

``ci`` (the default) is derandomized, so a red run reproduces exactly; ``HYPOTHESIS_PROFILE=dev``
draws new examples every run and ``HYPOTHESIS_PROFILE=deep`` searches ten times longer, for
fuzzing sessions outside CI.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
