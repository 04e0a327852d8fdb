"""The EIP-712 digests of ethvoip.impl.chain.eip712 against eth_account's independent
implementation (``encode_typed_data``), for every struct type; and the refusals of bad input."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.chain import eip712
from ethvoip.spec.errors import DecodeError

b32 = st.binary(min_size=32, max_size=32)
u64 = st.integers(0, 2**64 - 1)
VALUES: dict[str, Any] = {
    "Register": st.fixed_dictionaries(
        {
            "identifier": b32,
            "keyHash": b32,
            "registrant": st.binary(min_size=20, max_size=20),
            "recordVersion": u64,
        }
    ),
    "Rotate": st.fixed_dictionaries({"identifier": b32, "newKeyHash": b32, "version": u64}),
    "RotateTo": st.fixed_dictionaries({"identifier": b32, "newKeyHash": b32, "version": u64}),
    "Revoke": st.fixed_dictionaries({"identifier": b32, "version": u64}),
    "Recovery": st.fixed_dictionaries({"identifier": b32, "newKeyHash": b32, "serial": u64}),
    "Veto": st.fixed_dictionaries({"identifier": b32, "newKeyHash": b32, "serial": u64}),
}


@pytest.mark.parametrize("name", sorted(eip712.TYPES))
@given(data=st.data(), chain_id=st.integers(1, 2**32), contract=st.binary(min_size=20, max_size=20))
def test_digest_matches_eth_account(name: str, data: Any, chain_id: int, contract: bytes) -> None:
    values = data.draw(VALUES[name])
    ours = eip712.digest(chain_id, contract, name, **values)
    full = eip712.typed_data(chain_id, contract, name, **values)
    signable = encode_typed_data(full_message=full)
    assert ours == keccak(b"\x19" + signable.version + signable.header + signable.body)


def test_every_type_has_its_own_digest() -> None:
    # Same field values, different struct types (Rotate vs RotateTo, Recovery vs Veto):
    # a signature for one never verifies for the other (claim 4).
    fields = {"identifier": b"\x01" * 32, "newKeyHash": b"\x02" * 32}
    a = eip712.digest(1, b"\x03" * 20, "Rotate", version=1, **fields)
    b = eip712.digest(1, b"\x03" * 20, "RotateTo", version=1, **fields)
    c = eip712.digest(1, b"\x03" * 20, "Recovery", serial=1, **fields)
    d = eip712.digest(1, b"\x03" * 20, "Veto", serial=1, **fields)
    assert len({a, b, c, d}) == 4
    assert eip712.digest(2, b"\x03" * 20, "Rotate", version=1, **fields) != a
    assert eip712.digest(1, b"\x04" * 20, "Rotate", version=1, **fields) != a


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("Nope", {}),
        ("Revoke", {"identifier": b"\x01" * 32}),
        ("Revoke", {"identifier": b"\x01" * 31, "version": 1}),
        ("Revoke", {"identifier": b"\x01" * 32, "version": -1}),
        ("Revoke", {"identifier": b"\x01" * 32, "version": 2**64}),
        (
            "Register",
            {
                "identifier": b"\x01" * 32,
                "keyHash": b"\x01" * 32,
                "registrant": b"\x01" * 19,
                "recordVersion": 0,
            },
        ),
    ],
)
def test_bad_values_are_refused(name: str, values: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        eip712.digest(1, b"\x03" * 20, name, **values)
