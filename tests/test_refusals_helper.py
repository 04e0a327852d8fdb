"""The refusal matcher itself can fail."""

from __future__ import annotations

import pytest

from ethvoip.spec.errors import Check, CryptoError, DecodeError, MacInvalid, Replayed
from tests.refusals import refused


def test_passes_on_the_named_check_and_family() -> None:
    with refused(Check.MAC, CryptoError):
        raise MacInvalid("bad tag")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (MacInvalid("another check"), AssertionError),  # right family, wrong check
        (Replayed("another family"), Replayed),  # not a CryptoError: goes through
        (CryptoError("names no check"), AssertionError),
    ],
)
def test_fails_on_another_check_or_family(error: Exception, outcome: type[Exception]) -> None:
    with pytest.raises(outcome), refused(Check.SIGNATURE, CryptoError):
        raise error


def test_fails_when_nothing_is_refused() -> None:
    with pytest.raises(pytest.fail.Exception), refused(Check.DECODE, DecodeError):
        pass
