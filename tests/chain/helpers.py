"""Flows the key-store tests repeat: a full registration, a signature with a chosen flaw."""

from __future__ import annotations

from ethvoip.impl.chain import Chain, KeyStoreClient, Registration
from ethvoip.impl.crypto import IdentityKey

from .conftest import MIN_AGE

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def register(
    ks: KeyStoreClient,
    chain: Chain,
    ident: bytes,
    key: IdentityKey,
    sender: str,
    *,
    approve_by: str | None = None,
    secret: bytes = b"\x07" * 32,
) -> Registration:
    """commit, wait the minimum age, register (and approve if ``approve_by`` is the operator)."""
    reg = ks.registration(ident, key, sender, secret=secret)
    ks.commit(reg.commitment, sender)
    chain.increase_time(MIN_AGE)
    ks.register(reg, sender)
    if approve_by is not None:
        ks.approve(ident, reg.public_key, reg.record_version, approve_by, registrant=sender)
    return reg


def high_s(signature: bytes) -> bytes:
    """The malleated twin (r, n - s, v ^ 1) of a low-s signature: ecrecover would accept it."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([signature[64] ^ 1])
