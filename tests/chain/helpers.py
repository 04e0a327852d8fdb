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
    """The malleated twin (r, n - s, the other v) of a low-s signature: ecrecover accepts it
    and recovers the same signer (v 27 <-> 28: a twin with v 26 or 29 would be refused by the
    precompile itself, whatever the contract checks)."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def key_signing_with_s(digest: bytes, s: int, nonce: int = 2) -> tuple[IdentityKey, bytes]:
    """A key whose signature on ``digest`` (with nonce ``nonce``) has exactly this ``s``:
    ECDSA's s = (z + r d) / k solved for the key, d = (s k - z) / r mod n."""
    point = IdentityKey.from_private_bytes(nonce.to_bytes(32, "big")).public_key.to_bytes()
    r, y = int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")
    z = int.from_bytes(digest, "big")
    d = (s * nonce - z) * pow(r, -1, SECP256K1_N) % SECP256K1_N
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + (y & 1)])
    return IdentityKey.from_private_bytes(d.to_bytes(32, "big")), signature
