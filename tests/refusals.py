"""Matching refusals by the check that refused, never by message text.

``with refused(Check.MAC, CryptoError): ...`` passes only if the block raises a
:class:`~ethvoip.spec.errors.Refused` that is also a ``CryptoError`` (the family callers
catch) and names :attr:`Check.MAC`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ethvoip.spec.errors import Check, Refused


@contextmanager
def refused(check: Check, family: type[Exception] = Refused) -> Iterator[None]:
    with pytest.raises(family) as info:
        yield
    err = info.value
    assert isinstance(err, Refused), f"{type(err).__name__} names no check: {err}"
    assert err.check is check, f"refused by {err.check.value}, not {check.value}: {err}"
