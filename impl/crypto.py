"""All of ethvoip's cryptography, in one module: secp256k1 on libsecp256k1 (coincurve),
everything else on pyca/cryptography.

What is here and why:

* **Identity keys** are secp256k1 key pairs (:class:`IdentityKey`, :class:`IdentityPublicKey`):
  the curve Ethereum accounts use, so one key pair is both a subscriber's entry in the key
  store and something the contract can check with ``ecrecover``.  A public key travels as
  64 bytes ``x || y`` (Ethereum's form, no ``0x04`` prefix); its Ethereum address is the last
  20 bytes of ``keccak256`` of those 64 bytes.
* **Ethereum signatures** (:meth:`IdentityKey.sign_digest_recoverable`, :func:`recover_signer`):
  ECDSA over a 32-byte digest, 65 bytes ``r || s || v`` with ``v`` in ``{27, 28}`` and ``s``
  in the lower half of the group order, which is what Solidity's ``ecrecover`` (and
  OpenZeppelin's stricter ``ECDSA.recover``) accept.
* **Handshake signatures** (:meth:`IdentityKey.sign`, :meth:`IdentityPublicKey.verify`):
  ECDSA-SHA256 over ``domain tag || message`` so a signature made for one protocol message
  can never be replayed as another; 64 bytes ``r || s``, low ``s`` enforced on both sides so a
  signature has exactly one valid encoding (a replay cache keyed on it cannot be dodged).
* **ECIES** (:func:`encrypt_to`, :func:`decrypt_with`): the "encrypt with B's public key" of the
  paper, made concrete: ephemeral secp256k1 ECDH, HKDF-SHA256 bound to both public keys,
  AES-256-GCM.
* **App-store receipt signatures** (:func:`rsa_receipt_sign`, :func:`rsa_receipt_verify`,
  :func:`load_rsa_public_key`): RSA PKCS#1 v1.5 with SHA-256, what Google Play signs in-app
  purchase data with; the operator service checks them, the test store makes them.
* **Symmetric helpers**: AES-256-GCM (:func:`aead_encrypt`), HKDF-SHA256 (:func:`hkdf_sha256`),
  HMAC-SHA256, constant-time comparison (:func:`ct_equal`), and X25519 ephemeral
  Diffie-Hellman for Station-to-Station (:class:`DhKey`).

Randomness is injected everywhere as an :data:`Rng` (``n -> n random bytes``, default
:func:`os.urandom`) so that tests and conformance replays are deterministic; signatures are
deterministic (RFC 6979) so they need none.  Every failure is a :class:`CryptoError` (or a
:class:`DecodeError` for bytes of the wrong shape), never a library exception.

Secret-key operations run inside C libraries: secp256k1 ones (key generation, ECDSA signing,
ECDH) in libsecp256k1, Bitcoin Core's constant-time library for exactly this curve, through
coincurve; the rest in OpenSSL through pyca.  libsecp256k1 replaced OpenSSL for secp256k1
because OpenSSL runs this curve on its generic, unoptimised code: 0.34-0.7 ms per scalar
multiplication against 0.05-0.09 ms, which was most of a call's MIKEY cost (docs/calls.rst).
Signatures are unchanged byte for byte (both libraries sign with RFC 6979 nonces; we
normalise to low ``s``, libsecp256k1 does so itself); ``tests/call/test_crypto_openssl.py``
checks this and ECDH against OpenSSL.  ECDH keeps its output, the x coordinate of the shared
point, through libsecp256k1's constant-time ``secp256k1_ecdh`` with a hash function that
copies x (its default would hash the point).  The only arithmetic done here in Python is
public key recovery from a signature; it handles public data only, so Python's variable-time
integers leak nothing secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from typing import TypeAlias

from coincurve import PrivateKey as _SecpPrivateKey
from coincurve import PublicKey as _SecpPublicKey
from coincurve._libsecp256k1 import ffi as _ffi  # type: ignore[import-not-found]
from coincurve._libsecp256k1 import lib as _lib
from coincurve.context import GLOBAL_CONTEXT as _SECP
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_hash.auto import keccak

from ethvoip.spec.errors import (
    CryptoError,
    DecodeError,
    DecryptFailed,
    KeyInvalid,
    SignatureInvalid,
)

Rng: TypeAlias = Callable[[int], bytes]
"""A source of randomness: ``rng(n)`` returns ``n`` bytes."""

DEFAULT_RNG: Rng = os.urandom

# secp256k1 domain parameters (SEC 2, section 2.4.1).
_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
_GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8
_HALF_N = _N // 2

PUBLIC_KEY_SIZE = 64
PRIVATE_KEY_SIZE = 32
DIGEST_SIZE = 32
SIGNATURE_SIZE = 64
RECOVERABLE_SIGNATURE_SIZE = 65
ADDRESS_SIZE = 20
AEAD_KEY_SIZE = 32
AEAD_NONCE_SIZE = 12
AEAD_TAG_SIZE = 16
DH_PUBLIC_SIZE = 32

_SIG_DOMAIN = b"ethvoip/sig/v1\x00"
_ECIES_INFO = b"ethvoip/ecies/v1\x00"
#: bytes ECIES adds to a plaintext: ephemeral public key and GCM tag (the nonce is derived)
ECIES_OVERHEAD = PUBLIC_KEY_SIZE + AEAD_TAG_SIZE


# --------------------------------------------------------------------------------------
# Hashes, MACs, KDF, comparison
# --------------------------------------------------------------------------------------


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (not SHA3-256: the padding differs)."""
    return keccak(data)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def ct_equal(a: bytes, b: bytes) -> bool:
    """Compare secrets (MACs, keys, nonces) in time independent of where they differ."""
    return hmac.compare_digest(a, b)


def hkdf_sha256(ikm: bytes, *, salt: bytes = b"", info: bytes = b"", length: int = 32) -> bytes:
    """HKDF with SHA-256 (RFC 5869); an empty salt means HashLen zero bytes, as the RFC says."""
    if not 0 < length <= 255 * 32:
        raise CryptoError(f"HKDF output length {length} out of range")
    return HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)


def _take(rng: Rng, n: int) -> bytes:
    out = rng(n)
    if not isinstance(out, bytes) or len(out) != n:
        raise CryptoError(f"randomness source returned {len(out)} bytes instead of {n}")
    return out


def _random_scalar(rng: Rng) -> int:
    """A uniform scalar in ``[1, n-1]`` by rejection sampling (n is close to 2^256)."""
    while True:
        d = int.from_bytes(_take(rng, 32), "big")
        if 0 < d < _N:
            return d


def seeded_rng(seed: bytes) -> Rng:
    """A deterministic byte stream from ``seed`` (for tests and replays, never for keys in use).

    Counter-mode SHA-256: block ``i`` is ``sha256(seed || i)``; successive calls continue the
    stream, so a run driven by the same seed draws the same bytes in the same order.
    """
    state = {"counter": 0, "buffer": b""}

    def rng(n: int) -> bytes:
        buf = state["buffer"]
        assert isinstance(buf, bytes)
        while len(buf) < n:
            counter = state["counter"]
            assert isinstance(counter, int)
            buf += sha256(seed + counter.to_bytes(8, "big"))
            state["counter"] = counter + 1
        state["buffer"] = buf[n:]
        return buf[:n]

    return rng


# --------------------------------------------------------------------------------------
# Public-data secp256k1 arithmetic (only for recovering a public key from a signature)
# --------------------------------------------------------------------------------------

_Jacobian: TypeAlias = tuple[int, int, int]  # (X, Y, Z) with x = X/Z^2, y = Y/Z^3; Z=0 is infinity
_INFINITY: _Jacobian = (0, 1, 0)


def _jdouble(p: _Jacobian) -> _Jacobian:
    x, y, z = p
    if z == 0 or y == 0:
        return _INFINITY
    ysq = y * y % _P
    s = 4 * x * ysq % _P
    m = 3 * x * x % _P  # a = 0 on secp256k1
    nx = (m * m - 2 * s) % _P
    ny = (m * (s - nx) - 8 * ysq * ysq) % _P
    nz = 2 * y * z % _P
    return nx, ny, nz


def _jadd(p: _Jacobian, q: _Jacobian) -> _Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1s, z2s = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2s % _P, x2 * z1s % _P
    s1, s2 = y1 * z2s * z2 % _P, y2 * z1s * z1 % _P
    if u1 == u2:
        return _jdouble(p) if s1 == s2 else _INFINITY
    h_ = (u2 - u1) % _P
    r = (s2 - s1) % _P
    h2 = h_ * h_ % _P
    h3 = h_ * h2 % _P
    u1h2 = u1 * h2 % _P
    nx = (r * r - h3 - 2 * u1h2) % _P
    ny = (r * (u1h2 - nx) - s1 * h3) % _P
    nz = h_ * z1 * z2 % _P
    return nx, ny, nz


def _jmul2(a: int, p: _Jacobian, b: int, q: _Jacobian) -> _Jacobian:
    """``a*p + b*q`` by Shamir's trick (one pass of doublings)."""
    pq = _jadd(p, q)
    out = _INFINITY
    for i in range(max(a.bit_length(), b.bit_length()) - 1, -1, -1):
        out = _jdouble(out)
        bits = ((a >> i) & 1, (b >> i) & 1)
        if bits == (1, 1):
            out = _jadd(out, pq)
        elif bits == (1, 0):
            out = _jadd(out, p)
        elif bits == (0, 1):
            out = _jadd(out, q)
    return out


def _affine(p: _Jacobian) -> tuple[int, int] | None:
    x, y, z = p
    if z == 0:
        return None
    zinv = pow(z, -1, _P)
    zinv2 = zinv * zinv % _P
    return x * zinv2 % _P, y * zinv2 * zinv % _P


def _split_rs(sig: bytes) -> tuple[int, int]:
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")
    if not (0 < r < _N and 0 < s <= _HALF_N):
        # high s is refused: each signature must have a single valid encoding
        raise SignatureInvalid("signature r or s out of range (s must be in the lower half)")
    return r, s


def _recover_point(digest: bytes, r: int, s: int, parity: int) -> bytes:
    """The public key (64 bytes) under which ``(r, s)`` signs ``digest``, R.y of ``parity``."""
    # R.x = r: the r+n candidate (recovery ids 2 and 3) has probability ~2^-128 and Ethereum's
    # v in {27, 28} cannot express it.
    alpha = (pow(r, 3, _P) + 7) % _P
    beta = pow(alpha, (_P + 1) // 4, _P)
    if beta * beta % _P != alpha:
        raise SignatureInvalid("signature r is not the x coordinate of a curve point")
    ry = beta if beta % 2 == parity else _P - beta
    rinv = pow(r, -1, _N)
    e = int.from_bytes(digest, "big") % _N
    q = _jmul2((-e * rinv) % _N, (_GX, _GY, 1), (s * rinv) % _N, (r, ry, 1))
    point = _affine(q)
    if point is None:
        raise SignatureInvalid("signature recovers the point at infinity")
    return point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


# --------------------------------------------------------------------------------------
# Identity keys
# --------------------------------------------------------------------------------------


def _check_len(what: str, data: bytes, size: int) -> None:
    if not isinstance(data, bytes | bytearray) or len(data) != size:
        n = len(data) if isinstance(data, bytes | bytearray) else type(data).__name__
        raise DecodeError(f"{what} must be {size} bytes, got {n}")


def _tagged(tag: bytes, message: bytes) -> bytes:
    # A length-prefixed tag: no (tag, message) pair can collide with another.
    if not 0 < len(tag) < 256:
        raise CryptoError("a signature domain tag must be 1..255 bytes")
    return _SIG_DOMAIN + bytes([len(tag)]) + tag + message


def _copy_x(out: object, x32: object, y32: object, data: object) -> int:
    # secp256k1_ecdh's hash function, called with the shared point: keep x as it is
    _ffi.memmove(out, x32, 32)
    return 1


_ECDH_X_ONLY = _ffi.callback(
    "int(unsigned char *, const unsigned char *, const unsigned char *, void *)", _copy_x
)


def _uncompressed(key: _SecpPublicKey) -> bytes:
    return key.format(compressed=False)[1:]  # drop the 0x04 prefix


class IdentityPublicKey:
    """A subscriber's secp256k1 public key, as stored in the key store (64 bytes ``x || y``)."""

    __slots__ = ("_key", "_raw")

    def __init__(self, key: _SecpPublicKey, raw: bytes | None = None) -> None:
        self._key = key
        self._raw = raw if raw is not None else _uncompressed(key)

    @classmethod
    def from_bytes(cls, data: bytes) -> IdentityPublicKey:
        """Parse 64 bytes ``x || y``; a point not on secp256k1 raises :class:`CryptoError`."""
        _check_len("public key", data, PUBLIC_KEY_SIZE)
        try:
            key = _SecpPublicKey(b"\x04" + bytes(data))  # libsecp256k1 checks the curve equation
        except ValueError as exc:
            raise KeyInvalid("public key is not a point on secp256k1") from exc
        return cls(key, bytes(data))

    def to_bytes(self) -> bytes:
        return self._raw

    @property
    def eth_address(self) -> bytes:
        """The 20-byte Ethereum address: the last 20 bytes of keccak256(x || y)."""
        return keccak256(self._raw)[-ADDRESS_SIZE:]

    def _verify_prehashed(self, digest: bytes, signature: bytes) -> None:
        r, s = _split_rs(signature)  # high s refused here (libsecp256k1 would refuse it too)
        try:
            ok = self._key.verify(encode_dss_signature(r, s), digest, hasher=None)
        except ValueError:
            ok = False
        if not ok:
            raise SignatureInvalid("signature does not verify under this public key")

    def verify(self, tag: bytes, message: bytes, signature: bytes) -> None:
        """Check a handshake signature made by :meth:`IdentityKey.sign`; raise if it is bad."""
        _check_len("signature", signature, SIGNATURE_SIZE)
        self._verify_prehashed(sha256(_tagged(tag, message)), signature)

    def verify_digest(self, digest: bytes, signature: bytes) -> None:
        """Check an Ethereum signature (65 bytes r||s||v, or 64 bytes r||s) on ``digest``."""
        _check_len("digest", digest, DIGEST_SIZE)
        if len(signature) == RECOVERABLE_SIGNATURE_SIZE:
            if recover_public_key(digest, signature) != self:
                raise SignatureInvalid("signature was made by another key")
            return
        _check_len("signature", signature, SIGNATURE_SIZE)
        self._verify_prehashed(bytes(digest), signature)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdentityPublicKey) and self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"IdentityPublicKey(0x{self.eth_address.hex()})"


class IdentityKey:
    """A subscriber's secp256k1 private key (its identity in the key store)."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: _SecpPrivateKey) -> None:
        self._key = key
        self._public = IdentityPublicKey(key.public_key)

    @classmethod
    def generate(cls, rng: Rng | None = None) -> IdentityKey:
        return cls(_SecpPrivateKey(_random_scalar(rng or DEFAULT_RNG).to_bytes(32, "big")))

    @classmethod
    def from_private_bytes(cls, data: bytes) -> IdentityKey:
        """A key from its 32-byte big-endian scalar (which must lie in ``[1, n-1]``)."""
        _check_len("private key", data, PRIVATE_KEY_SIZE)
        d = int.from_bytes(data, "big")
        if not 0 < d < _N:
            raise CryptoError("private key scalar out of range [1, n-1]")
        return cls(_SecpPrivateKey(bytes(data)))

    def private_bytes(self) -> bytes:
        return bytes(self._key.secret)

    @property
    def public_key(self) -> IdentityPublicKey:
        return self._public

    def _sign_prehashed(self, digest: bytes) -> bytes:
        """65 bytes r || s || recovery id; RFC 6979 nonce, low s (libsecp256k1 normalises)."""
        return bytes(self._key.sign_recoverable(digest, hasher=None))

    def sign(self, tag: bytes, message: bytes) -> bytes:
        """Handshake signature: 64 bytes r||s over ``tag`` and ``message`` (low s, RFC 6979)."""
        return self._sign_prehashed(sha256(_tagged(tag, message)))[:SIGNATURE_SIZE]

    def sign_digest_recoverable(self, digest: bytes) -> bytes:
        """Ethereum signature on a 32-byte digest: 65 bytes r||s||v, v in {27, 28}, low s."""
        _check_len("digest", digest, DIGEST_SIZE)
        sig = self._sign_prehashed(bytes(digest))
        _split_rs(sig)  # r, s in range and s low, as Ethereum requires
        if sig[64] > 1:  # R.x >= n: probability ~2^-128, and v cannot express it
            raise CryptoError("recovery id not expressible as v")  # pragma: no cover
        return sig[:64] + bytes([27 + sig[64]])

    def exchange(self, peer: IdentityPublicKey) -> bytes:
        """Static-ephemeral ECDH: the x coordinate of ``d * peer`` (32 bytes), constant time."""
        out = _ffi.new("unsigned char[32]")
        ok = _lib.secp256k1_ecdh(
            _SECP.ctx, out, peer._key.public_key, self._key.secret, _ECDH_X_ONLY, _ffi.NULL
        )
        if not ok:  # pragma: no cover - a valid key and point always give a point
            raise CryptoError("ECDH failed")
        return bytes(_ffi.buffer(out, 32))

    def __repr__(self) -> str:  # never print the secret
        return f"IdentityKey(0x{self._public.eth_address.hex()})"


def recover_public_key(digest: bytes, signature: bytes) -> IdentityPublicKey:
    """The public key that made the 65-byte Ethereum ``signature`` on ``digest``."""
    _check_len("digest", digest, DIGEST_SIZE)
    _check_len("signature", signature, RECOVERABLE_SIGNATURE_SIZE)
    v = signature[64]
    if v not in (27, 28):
        raise SignatureInvalid(f"signature v must be 27 or 28, got {v}")
    r, s = _split_rs(signature)
    return IdentityPublicKey.from_bytes(_recover_point(bytes(digest), r, s, v - 27))


def recover_signer(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte Ethereum address that made ``signature`` on ``digest`` (like ecrecover).

    Stricter than the precompile: high s and v outside {27, 28} are refused instead of
    recovering some other address.
    """
    return recover_public_key(digest, signature).eth_address


# --------------------------------------------------------------------------------------
# Symmetric AEAD
# --------------------------------------------------------------------------------------


def aead_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"", rng: Rng | None = None) -> bytes:
    """AES-256-GCM with a random 96-bit nonce: returns ``nonce || ciphertext || tag``."""
    _check_len("AEAD key", key, AEAD_KEY_SIZE)
    nonce = _take(rng or DEFAULT_RNG, AEAD_NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aead_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Inverse of :func:`aead_encrypt`; any tampering or wrong key raises :class:`CryptoError`."""
    _check_len("AEAD key", key, AEAD_KEY_SIZE)
    if len(blob) < AEAD_NONCE_SIZE + AEAD_TAG_SIZE:
        raise DecryptFailed("AEAD ciphertext too short")
    try:
        return AESGCM(key).decrypt(blob[:AEAD_NONCE_SIZE], blob[AEAD_NONCE_SIZE:], aad)
    except InvalidTag as exc:
        raise DecryptFailed("AEAD authentication failed") from exc


# --------------------------------------------------------------------------------------
# ECIES: encryption to an identity key
# --------------------------------------------------------------------------------------


def _ecies_keys(shared: bytes, eph: bytes, recipient: bytes) -> tuple[bytes, bytes]:
    # Both public keys in the KDF info: a ciphertext is bound to who it was made for, so
    # it cannot be re-targeted by swapping the ephemeral key (KEM/DEM binding).
    okm = hkdf_sha256(shared, info=_ECIES_INFO + eph + recipient, length=44)
    return okm[:32], okm[32:]


def encrypt_to(
    recipient: IdentityPublicKey, plaintext: bytes, aad: bytes = b"", rng: Rng | None = None
) -> bytes:
    """ECIES: ``eph_pub(64) || AES-256-GCM(k, plaintext, aad)``; only ``recipient`` opens it.

    The key and nonce come from HKDF over a fresh ephemeral ECDH, so the nonce never repeats
    under one key and need not be sent.
    """
    eph = IdentityKey.generate(rng)
    eph_pub = eph.public_key.to_bytes()
    key, nonce = _ecies_keys(eph.exchange(recipient), eph_pub, recipient.to_bytes())
    return eph_pub + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt_with(key: IdentityKey, ciphertext: bytes, aad: bytes = b"") -> bytes:
    """Open an :func:`encrypt_to` ciphertext; every failure raises :class:`CryptoError`."""
    if len(ciphertext) < ECIES_OVERHEAD:
        raise DecryptFailed("ECIES ciphertext too short")
    try:
        eph = IdentityPublicKey.from_bytes(ciphertext[:PUBLIC_KEY_SIZE])
    except DecodeError as exc:  # pragma: no cover - length checked above
        raise DecryptFailed(str(exc)) from exc
    k, nonce = _ecies_keys(key.exchange(eph), eph.to_bytes(), key.public_key.to_bytes())
    try:
        return AESGCM(k).decrypt(nonce, ciphertext[PUBLIC_KEY_SIZE:], aad)
    except InvalidTag as exc:
        raise DecryptFailed("ECIES decryption failed (wrong key or tampered)") from exc


# --------------------------------------------------------------------------------------
# X25519 ephemeral Diffie-Hellman (Station-to-Station)
# --------------------------------------------------------------------------------------


class DhKey:
    """An ephemeral X25519 key pair for one Diffie-Hellman exchange (RFC 7748)."""

    __slots__ = ("_key", "public_bytes")

    def __init__(self, key: x25519.X25519PrivateKey) -> None:
        self._key = key
        self.public_bytes: bytes = key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls, rng: Rng | None = None) -> DhKey:
        return cls.from_private_bytes(_take(rng or DEFAULT_RNG, 32))

    @classmethod
    def from_private_bytes(cls, data: bytes) -> DhKey:
        _check_len("X25519 private key", data, 32)
        return cls(x25519.X25519PrivateKey.from_private_bytes(bytes(data)))

    def private_bytes(self) -> bytes:
        return self._key.private_bytes_raw()

    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret with ``peer_public``; a low-order peer value raises CryptoError."""
        _check_len("X25519 public key", peer_public, DH_PUBLIC_SIZE)
        try:
            peer = x25519.X25519PublicKey.from_public_bytes(bytes(peer_public))
            shared = self._key.exchange(peer)
        except ValueError as exc:  # OpenSSL refuses an all-zero result (low-order point)
            raise KeyInvalid("X25519 exchange with a low-order point") from exc
        if ct_equal(shared, bytes(32)):  # pragma: no cover - OpenSSL already refuses it
            raise KeyInvalid("X25519 exchange produced the all-zero secret")
        return shared

    def __repr__(self) -> str:
        return f"DhKey(public={self.public_bytes.hex()})"


# --------------------------------------------------------------------------------------
# RSA PKCS#1 v1.5 / SHA-256: app-store purchase receipts
# --------------------------------------------------------------------------------------


def load_rsa_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (SubjectPublicKeyInfo); anything else raises CryptoError."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise CryptoError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise CryptoError("the key is not an RSA key")
    return key


def rsa_receipt_sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """RSA PKCS#1 v1.5 signature with SHA-256 over ``data`` (RFC 8017 section 8.2)."""
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def rsa_receipt_verify(key: rsa.RSAPublicKey, data: bytes, signature: bytes) -> None:
    """Check a :func:`rsa_receipt_sign` signature; a bad one raises :class:`CryptoError`."""
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureInvalid("RSA signature does not verify under this key") from exc
