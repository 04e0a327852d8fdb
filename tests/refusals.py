"""Matching refusals by the check that refused, never by message text.

``with refused(Check.MAC, CryptoError): ...`` passes only if the block raises a
:class:`~ethvoip.spec.errors.Refused` that is also a ``CryptoError`` (the family callers
catch) and names :attr:`Check.MAC`.  ``with reverts("WrongSigner"): ...`` passes only if the
block raises a :class:`~ethvoip.spec.errors.ContractRevert` whose ``reason`` is that custom
error of the contract's ABI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ethvoip.spec.errors import Check, ContractRevert, Refused


@contextmanager
def refused(check: Check, family: type[Exception] = Refused) -> Iterator[None]:
    with pytest.raises(family) as info:
        yield
    err = info.value
    assert isinstance(err, Refused), f"{type(err).__name__} names no check: {err}"
    assert err.check is check, f"refused by {err.check.value}, not {check.value}: {err}"


@contextmanager
def reverts(reason: str) -> Iterator[None]:
    with pytest.raises(ContractRevert) as info:
        yield
    assert info.value.reason == reason, f"reverted with {info.value.reason}, not {reason}"
