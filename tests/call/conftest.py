"""Fixtures of the call tests: one chain world per module (provisioning takes ~2 s)."""

from __future__ import annotations

import pytest

from .world import World, make_world


@pytest.fixture(scope="package")
def world() -> World:
    return make_world()
