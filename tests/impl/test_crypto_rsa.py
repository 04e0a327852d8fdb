"""RSA PKCS#1 v1.5 / SHA-256 receipt signatures of ethvoip.impl.crypto, against OpenSSL.

PKCS#1 v1.5 signing is deterministic (RFC 8017 section 8.2.1), so the independent check is
exact: the ``openssl dgst -sha256 -sign`` command line must produce the very bytes we do, and
each side must accept the other's signature.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.crypto import load_rsa_public_key, receipts, rsa_receipt_sign, rsa_receipt_verify
from ethvoip.spec.errors import CryptoError

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
DATA = b'{"orderId":"GPA.0000-0000-0000-00001","purchaseState":0}'


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_signature_is_byte_for_byte_openssls(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(_pem(KEY))
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(tmp_path / "key.pem")],
        input=DATA,
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert rsa_receipt_sign(KEY, DATA) == out.stdout
    rsa_receipt_verify(load_rsa_public_key(_public_pem(KEY.public_key())), DATA, out.stdout)


def test_our_signature_verifies_with_openssl(tmp_path: Path) -> None:
    (tmp_path / "pub.pem").write_bytes(_public_pem(KEY.public_key()))
    (tmp_path / "sig").write_bytes(rsa_receipt_sign(KEY, DATA))
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"), "-signature",
         str(tmp_path / "sig")],
        input=DATA,
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert out.returncode == 0 and b"Verified OK" in out.stdout, out.stderr


@settings(max_examples=60, deadline=None)
@given(flip=st.integers(min_value=0, max_value=2047), other=st.binary(max_size=64))
def test_any_change_is_refused(flip: int, other: bytes) -> None:
    sig = bytearray(rsa_receipt_sign(KEY, DATA))
    sig[flip // 8] ^= 1 << (flip % 8)
    with pytest.raises(CryptoError):
        rsa_receipt_verify(KEY.public_key(), DATA, bytes(sig))
    if other != DATA:
        with pytest.raises(CryptoError):
            rsa_receipt_verify(KEY.public_key(), other, rsa_receipt_sign(KEY, DATA))


def test_a_non_rsa_or_broken_key_is_a_crypto_error() -> None:
    ec_pem = _public_pem(ec.generate_private_key(ec.SECP256R1()).public_key())
    for pem in (ec_pem, b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n", b""):
        with pytest.raises(CryptoError):
            load_rsa_public_key(pem)


def test_private_key_pem_round_trip_and_a_key_of_another_type_is_refused() -> None:
    again = receipts.load_rsa_private_key(receipts.rsa_private_pem(KEY))
    pem = receipts.rsa_public_pem
    assert pem(again.public_key()) == pem(KEY.public_key())
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(CryptoError, match="not an RSA key"):
        receipts.load_rsa_private_key(other)
