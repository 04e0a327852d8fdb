"""Tests of ethvoip.impl.crypto against published vectors and independent implementations.

Vectors live in ``vectors/crypto_vectors.json`` with their origin.  The independent
implementations are eth_keys and eth_account (pure-Python secp256k1, Ethereum's reference
tooling), which share no code with pyca/cryptography or with our key recovery.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_keys.datatypes import PrivateKey as EthPrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl import crypto
from ethvoip.impl.crypto import (
    AeadName,
    DhKey,
    IdentityKey,
    IdentityPublicKey,
    NonceAead,
    aead_decrypt,
    aead_encrypt,
    decrypt_with,
    encrypt_to,
    hkdf_sha256,
    recover_public_key,
    recover_signer,
    seeded_rng,
)
from ethvoip.spec.errors import CryptoError, DecodeError, DecryptFailed, EthVoipError

VECTORS = json.loads((Path(__file__).parent / "vectors" / "crypto_vectors.json").read_text())
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # SEC 2, secp256k1 order

private_keys = st.integers(min_value=1, max_value=N - 1).map(lambda d: d.to_bytes(32, "big"))
digests = st.binary(min_size=32, max_size=32)


# --- published vectors ----------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["hkdf_sha256"]["cases"], ids=lambda c: c["name"])
def test_hkdf_rfc5869(case: dict[str, str]) -> None:
    okm = bytes.fromhex(case["okm"])
    got = hkdf_sha256(
        bytes.fromhex(case["ikm"]),
        salt=bytes.fromhex(case["salt"]),
        info=bytes.fromhex(case["info"]),
        length=len(okm),
    )
    assert got == okm


def test_x25519_rfc7748() -> None:
    v = VECTORS["x25519"]
    alice = DhKey.from_private_bytes(bytes.fromhex(v["alice_private"]))
    bob = DhKey.from_private_bytes(bytes.fromhex(v["bob_private"]))
    assert alice.public_bytes.hex() == v["alice_public"]
    assert bob.public_bytes.hex() == v["bob_public"]
    assert alice.exchange(bob.public_bytes).hex() == v["shared"]
    assert bob.exchange(alice.public_bytes).hex() == v["shared"]


def test_x25519_rejects_low_order_point() -> None:
    # u = 0 is a point of small order (RFC 7748 section 6.1: check for the all-zero output)
    with pytest.raises(CryptoError):
        DhKey.generate(seeded_rng(b"x")).exchange(bytes(32))


def test_eip155_signature_reproduced_byte_for_byte() -> None:
    v = VECTORS["ecdsa_secp256k1"]
    key = IdentityKey.from_private_bytes(bytes.fromhex(v["private_key"]))
    digest = bytes.fromhex(v["digest"])
    sig = key.sign_digest_recoverable(digest)
    assert int.from_bytes(sig[:32], "big") == int(v["r"])
    assert int.from_bytes(sig[32:64], "big") == int(v["s"])
    assert sig[64] == 27 + v["parity"]
    expected = EthPrivateKey(bytes.fromhex(v["private_key"])).public_key
    assert recover_signer(digest, sig) == expected.to_canonical_address()


# --- agreement with eth_keys / eth_account ----------------------------------------------


@given(private_keys)
def test_public_key_and_address_agree_with_eth_keys(d: bytes) -> None:
    ours = IdentityKey.from_private_bytes(d).public_key
    theirs = EthPrivateKey(d).public_key
    assert ours.to_bytes() == theirs.to_bytes()
    assert ours.eth_address == theirs.to_canonical_address()
    assert ours.eth_address == bytes.fromhex(Account.from_key(d).address[2:])


@given(private_keys, digests)
def test_recoverable_signature_agrees_with_eth_account(d: bytes, digest: bytes) -> None:
    ours = IdentityKey.from_private_bytes(d).sign_digest_recoverable(digest)
    theirs = Account.unsafe_sign_hash(digest, d)
    # both sign deterministically (RFC 6979) and normalise s, so the bytes coincide
    assert ours == bytes(theirs.signature)
    # and each side recovers the other's signature to the same signer
    address = bytes.fromhex(Account.from_key(d).address[2:])
    assert recover_signer(digest, bytes(theirs.signature)) == address
    assert Account._recover_hash(digest, signature=ours) == Account.from_key(d).address


def test_recover_signer_refuses_bad_v_and_high_s() -> None:
    key = IdentityKey.generate(seeded_rng(b"k"))
    digest = bytes(range(32))
    sig = key.sign_digest_recoverable(digest)
    assert recover_signer(digest, sig) == key.public_key.eth_address
    for v in (0, 1, 26, 29, 37):
        with pytest.raises(CryptoError):
            recover_signer(digest, sig[:64] + bytes([v]))
    s = int.from_bytes(sig[32:64], "big")
    high = sig[:32] + (N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    with pytest.raises(CryptoError):
        recover_signer(digest, high)
    with pytest.raises(CryptoError):
        recover_signer(digest, bytes(32) + sig[32:])
    with pytest.raises(DecodeError):
        recover_signer(digest, sig[:64])


def test_verify_digest_accepts_own_and_refuses_other_key() -> None:
    rng = seeded_rng(b"verify_digest")
    alice, bob = IdentityKey.generate(rng), IdentityKey.generate(rng)
    digest = crypto.keccak256(b"hello")
    sig = alice.sign_digest_recoverable(digest)
    alice.public_key.verify_digest(digest, sig)
    alice.public_key.verify_digest(digest, sig[:64])
    with pytest.raises(CryptoError):
        bob.public_key.verify_digest(digest, sig)
    with pytest.raises(CryptoError):
        bob.public_key.verify_digest(digest, sig[:64])
    with pytest.raises(CryptoError):
        alice.public_key.verify_digest(crypto.keccak256(b"hellO"), sig)


# --- key parsing ------------------------------------------------------------------------


def test_public_key_off_curve_is_refused() -> None:
    with pytest.raises(CryptoError):
        IdentityPublicKey.from_bytes((1).to_bytes(32, "big") * 2)
    with pytest.raises(DecodeError):
        IdentityPublicKey.from_bytes(bytes(63))


@pytest.mark.parametrize("d", [0, N, N + 1, 2**256 - 1])
def test_private_key_out_of_range_is_refused(d: int) -> None:
    with pytest.raises(CryptoError):
        IdentityKey.from_private_bytes(d.to_bytes(32, "big"))


def test_private_key_round_trip_and_seeded_generation() -> None:
    a = IdentityKey.generate(seeded_rng(b"same"))
    b = IdentityKey.generate(seeded_rng(b"same"))
    c = IdentityKey.generate(seeded_rng(b"other"))
    assert a.private_bytes() == b.private_bytes() != c.private_bytes()
    assert IdentityKey.from_private_bytes(a.private_bytes()).public_key == a.public_key


def test_broken_rng_is_refused() -> None:
    with pytest.raises(CryptoError):
        IdentityKey.generate(lambda n: b"\x01" * (n - 1))


@given(st.binary(min_size=64, max_size=64))
def test_public_key_parsing_never_crashes(data: bytes) -> None:
    try:
        key = IdentityPublicKey.from_bytes(data)
    except CryptoError:
        return
    assert key.to_bytes() == data


@given(digests, st.binary(min_size=65, max_size=65))
def test_recovery_of_arbitrary_bytes_never_crashes(digest: bytes, sig: bytes) -> None:
    try:
        address = recover_signer(digest, sig)
    except CryptoError:
        return
    assert len(address) == 20


# --- handshake signatures ----------------------------------------------------------------


def test_tagged_signature_binds_tag_message_and_key() -> None:
    rng = seeded_rng(b"sign")
    alice, bob = IdentityKey.generate(rng), IdentityKey.generate(rng)
    sig = alice.sign(b"tag-1", b"message")
    assert len(sig) == 64
    alice.public_key.verify(b"tag-1", b"message", sig)
    # the length-prefixed tag stops (tag, message) boundary shifts
    bad = [
        (alice.public_key, b"tag-2", b"message", sig),
        (alice.public_key, b"tag-1", b"messagE", sig),
        (alice.public_key, b"tag-1m", b"essage", sig),
        (bob.public_key, b"tag-1", b"message", sig),
    ]
    for pub, tag, msg, s in bad:
        with pytest.raises(CryptoError):
            pub.verify(tag, msg, s)


def test_tagged_signature_high_s_twin_is_refused() -> None:
    alice = IdentityKey.generate(seeded_rng(b"malleable"))
    sig = alice.sign(b"t", b"m")
    s = int.from_bytes(sig[32:], "big")
    with pytest.raises(CryptoError):
        alice.public_key.verify(b"t", b"m", sig[:32] + (N - s).to_bytes(32, "big"))


@given(st.integers(min_value=0, max_value=64 * 8 - 1))
def test_tagged_signature_any_bit_flip_is_refused(bit: int) -> None:
    alice = IdentityKey.from_private_bytes(b"\x07" * 32)
    sig = bytearray(alice.sign(b"t", b"m"))
    sig[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(CryptoError):
        alice.public_key.verify(b"t", b"m", bytes(sig))


# --- ECIES and AEAD ---------------------------------------------------------------------


def test_ecies_round_trip_and_wrong_key() -> None:
    rng = seeded_rng(b"ecies")
    bob, eve = IdentityKey.generate(rng), IdentityKey.generate(rng)
    ct = encrypt_to(bob.public_key, b"session key", aad=b"ctx", rng=rng)
    assert len(ct) == len(b"session key") + crypto.ECIES_OVERHEAD
    assert decrypt_with(bob, ct, aad=b"ctx") == b"session key"
    with pytest.raises(CryptoError):
        decrypt_with(eve, ct, aad=b"ctx")
    with pytest.raises(CryptoError):
        decrypt_with(bob, ct, aad=b"other")
    with pytest.raises(CryptoError):
        decrypt_with(bob, ct[:-1])


def test_ecies_is_deterministic_under_a_seeded_rng() -> None:
    bob = IdentityKey.from_private_bytes(b"\x05" * 32)
    one = encrypt_to(bob.public_key, b"x", rng=seeded_rng(b"s"))
    two = encrypt_to(bob.public_key, b"x", rng=seeded_rng(b"s"))
    three = encrypt_to(bob.public_key, b"x", rng=seeded_rng(b"t"))
    assert one == two != three


@given(st.data())
def test_ecies_any_modification_is_refused(data: st.DataObject) -> None:
    bob = IdentityKey.from_private_bytes(b"\x09" * 32)
    ct = bytearray(encrypt_to(bob.public_key, b"payload", rng=seeded_rng(b"m")))
    i = data.draw(st.integers(0, len(ct) - 1))
    ct[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(CryptoError):
        decrypt_with(bob, bytes(ct))


@given(st.binary(max_size=200))
def test_ecies_arbitrary_bytes_only_crypto_error(blob: bytes) -> None:
    bob = IdentityKey.from_private_bytes(b"\x09" * 32)
    with pytest.raises(CryptoError):
        decrypt_with(bob, blob)


def test_aead_round_trip_tamper_and_wrong_key() -> None:
    rng = seeded_rng(b"aead")
    key, other = rng(32), rng(32)
    blob = aead_encrypt(key, b"media key", aad=b"a", rng=rng)
    assert aead_decrypt(key, blob, aad=b"a") == b"media key"
    for bad_key, bad_blob, aad in (
        (other, blob, b"a"),
        (key, blob, b"b"),
        (key, blob[:-1], b"a"),
        (key, blob[:5], b"a"),
        (key, bytes([blob[0] ^ 1]) + blob[1:], b"a"),
    ):
        with pytest.raises(CryptoError):
            aead_decrypt(bad_key, bad_blob, aad=aad)


def test_every_failure_is_an_ethvoip_error() -> None:
    assert issubclass(CryptoError, EthVoipError)
    assert issubclass(DecodeError, EthVoipError)
    with pytest.raises(EthVoipError):
        hkdf_sha256(b"k", length=0)
    with pytest.raises(EthVoipError):
        recover_public_key(b"short", bytes(65))


def test_ct_equal() -> None:
    assert crypto.ct_equal(b"abc", b"abc")
    assert not crypto.ct_equal(b"abc", b"abd")
    assert not crypto.ct_equal(b"abc", b"ab")


def test_nonce_aead_round_trip_and_any_tamper_is_decrypt_failed() -> None:
    cases: tuple[tuple[AeadName, bytes], ...] = (
        ("aes-gcm", bytes(16)),
        ("chacha20-poly1305", bytes(32)),
    )
    for name, key in cases:
        aead = NonceAead(name, key)
        sealed = aead.seal(bytes(12), b"record", b"header")
        assert aead.open(bytes(12), sealed, b"header") == b"record"
        for nonce, blob, aad in (
            (bytes(11) + b"\x01", sealed, b"header"),
            (bytes(12), sealed[:-1] + bytes([sealed[-1] ^ 1]), b"header"),
            (bytes(12), sealed, b"headeR"),
        ):
            with pytest.raises(DecryptFailed):
                aead.open(nonce, blob, aad)
