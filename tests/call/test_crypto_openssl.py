"""Identity-key operations (libsecp256k1 through coincurve, for call-setup speed) against
OpenSSL's secp256k1 through pyca/cryptography, an independent implementation: the same
RFC 6979 signatures byte for byte, each side verifies the other's, the same ECDH secret,
and ECIES opens what was sealed with OpenSSL's ECDH."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.crypto import (
    IdentityKey,
    IdentityPublicKey,
    decrypt_with,
    hkdf_sha256,
    recover_public_key,
)

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # SEC 2, secp256k1
CURVE = ec.SECP256K1()
TAG = b"test/openssl"
SIG_DOMAIN = b"ethvoip/sig/v1\x00"  # the tagged-message layout of docs (crypto module)
scalars = st.integers(min_value=1, max_value=N - 1)


def openssl_key(d: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(d, CURVE)


def openssl_public(key: IdentityPublicKey) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, b"\x04" + key.to_bytes())


def tagged(message: bytes) -> bytes:
    return SIG_DOMAIN + bytes([len(TAG)]) + TAG + message


@settings(max_examples=50, deadline=None)
@given(d=scalars, message=st.binary(max_size=200))
def test_signature_equals_openssl_rfc6979_low_s(d: int, message: bytes) -> None:
    ours = IdentityKey.from_private_bytes(d.to_bytes(32, "big"))
    der = openssl_key(d).sign(
        tagged(message), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )
    r, s = decode_dss_signature(der)
    s = min(s, N - s)  # the low-s twin, which both we and Ethereum insist on
    assert ours.sign(TAG, message) == r.to_bytes(32, "big") + s.to_bytes(32, "big")
    # and OpenSSL verifies ours, as ours verifies OpenSSL's (low-s form)
    sig = ours.sign(TAG, message)
    openssl_public(ours.public_key).verify(
        encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
        tagged(message),
        ec.ECDSA(hashes.SHA256()),
    )
    ours.public_key.verify(TAG, message, r.to_bytes(32, "big") + s.to_bytes(32, "big"))


@settings(max_examples=50, deadline=None)
@given(d=scalars, digest=st.binary(min_size=32, max_size=32))
def test_public_key_and_ethereum_signature_equal_openssl(d: int, digest: bytes) -> None:
    # (eth_keys, the other cross-check, runs on coincurve itself once coincurve is installed)
    ours = IdentityKey.from_private_bytes(d.to_bytes(32, "big"))
    nums = openssl_key(d).public_key().public_numbers()
    assert ours.public_key.to_bytes() == nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
    der = openssl_key(d).sign(
        digest, ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True)
    )
    r, s = decode_dss_signature(der)
    sig = ours.sign_digest_recoverable(digest)
    assert sig[:64] == r.to_bytes(32, "big") + min(s, N - s).to_bytes(32, "big")
    assert recover_public_key(digest, sig) == ours.public_key  # v names the right parity


@settings(max_examples=50, deadline=None)
@given(a=scalars, b=scalars)
def test_ecdh_equals_openssl(a: int, b: int) -> None:
    ours = IdentityKey.from_private_bytes(a.to_bytes(32, "big"))
    peer = IdentityKey.from_private_bytes(b.to_bytes(32, "big")).public_key
    assert ours.exchange(peer) == openssl_key(a).exchange(ec.ECDH(), openssl_public(peer))


def test_ecies_sealed_with_openssl_opens() -> None:
    # ECIES as the crypto module documents it, built here on OpenSSL's ECDH
    recipient = IdentityKey.from_private_bytes(hashlib.sha256(b"recipient").digest())
    eph = openssl_key(int.from_bytes(hashlib.sha256(b"ephemeral").digest(), "big"))
    eph_pub = eph.public_key().public_numbers()
    eph_raw = eph_pub.x.to_bytes(32, "big") + eph_pub.y.to_bytes(32, "big")
    shared = eph.exchange(ec.ECDH(), openssl_public(recipient.public_key))
    info = b"ethvoip/ecies/v1\x00" + eph_raw + recipient.public_key.to_bytes()
    okm = hkdf_sha256(shared, info=info, length=44)
    blob = eph_raw + AESGCM(okm[:32]).encrypt(okm[32:], b"envelope key", b"aad")
    assert decrypt_with(recipient, blob, b"aad") == b"envelope key"


def test_openssl_refuses_a_tampered_signature_too() -> None:
    # the negative control of the cross-check above: the check can fail
    ours = IdentityKey.from_private_bytes((12345).to_bytes(32, "big"))
    sig = bytearray(ours.sign(TAG, b"m"))
    sig[5] ^= 1
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    try:
        openssl_public(ours.public_key).verify(
            encode_dss_signature(r, s), tagged(b"m"), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        return
    raise AssertionError("OpenSSL accepted a tampered signature")
