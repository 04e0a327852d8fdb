"""Shared pytest configuration: hypothesis profiles sized for a 2-core CI machine, and
generous bounds on waiting for what a peer must send.

``ci`` (the default) is derandomized, so a red run reproduces exactly; ``HYPOTHESIS_PROFILE=dev``
draws new examples every run and ``HYPOTHESIS_PROFILE=deep`` searches ten times longer, for
fuzzing sessions outside CI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
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


#: A test waits this long for an event that must come (a SIP reply, a call, media): the
#: bound only decides how long a genuine failure takes to show; a loaded machine (CI, two
#: cores shared) must never turn a slow step into a red run.
TEST_EVENT_WAIT = 120.0


@pytest.fixture(autouse=True)
def _generous_event_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Only where the SIP transport is loaded (test modules import it at collection): the
    # spec and model tests stay free of the implementation's imports.
    transport = sys.modules.get("ethvoip.impl.sip.transport")
    if transport is not None:
        monkeypatch.setattr(transport, "EVENT_WAIT", TEST_EVENT_WAIT)
    yield
