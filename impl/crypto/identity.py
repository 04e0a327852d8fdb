"""Identity keys: secp256k1 key pairs on libsecp256k1 (coincurve), Ethereum and handshake
signatures, public key recovery and static-ephemeral ECDH (see the package docstring)."""

from __future__ import annotations

from coincurve import PrivateKey as _SecpPrivateKey
from coincurve import PublicKey as _SecpPublicKey
from coincurve._libsecp256k1 import ffi as _ffi  # type: ignore[import-not-found]
from coincurve._libsecp256k1 import lib as _lib
from coincurve.context import GLOBAL_CONTEXT as _SECP
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ethvoip.impl.crypto.hashes import keccak256, sha256
from ethvoip.impl.crypto.rng import DEFAULT_RNG, Rng, take
from ethvoip.impl.crypto.secp256k1_math import N as _N  # the group order
from ethvoip.impl.crypto.secp256k1_math import recover_point, split_rs
from ethvoip.impl.crypto.sizes import (
    ADDRESS_SIZE,
    DIGEST_SIZE,
    PRIVATE_KEY_SIZE,
    PUBLIC_KEY_SIZE,
    RECOVERABLE_SIGNATURE_SIZE,
    SIGNATURE_SIZE,
    check_len,
)
from ethvoip.spec.errors import CryptoError, KeyInvalid, SignatureInvalid

_SIG_DOMAIN = b"ethvoip/sig/v1\x00"


def _random_scalar(rng: Rng) -> int:
    """A uniform scalar in ``[1, n-1]`` by rejection sampling (n is close to 2^256)."""
    while True:
        d = int.from_bytes(take(rng, 32), "big")
        if 0 < d < _N:
            return d


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
        check_len("public key", data, PUBLIC_KEY_SIZE)
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
        r, s = split_rs(signature)  # high s refused here (libsecp256k1 would refuse it too)
        try:
            ok = self._key.verify(encode_dss_signature(r, s), digest, hasher=None)
        except ValueError:
            ok = False
        if not ok:
            raise SignatureInvalid("signature does not verify under this public key")

    def verify(self, tag: bytes, message: bytes, signature: bytes) -> None:
        """Check a handshake signature made by :meth:`IdentityKey.sign`; raise if it is bad."""
        check_len("signature", signature, SIGNATURE_SIZE)
        self._verify_prehashed(sha256(_tagged(tag, message)), signature)

    def verify_digest(self, digest: bytes, signature: bytes) -> None:
        """Check an Ethereum signature (65 bytes r||s||v, or 64 bytes r||s) on ``digest``."""
        check_len("digest", digest, DIGEST_SIZE)
        if len(signature) == RECOVERABLE_SIGNATURE_SIZE:
            if recover_public_key(digest, signature) != self:
                raise SignatureInvalid("signature was made by another key")
            return
        check_len("signature", signature, SIGNATURE_SIZE)
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
        check_len("private key", data, PRIVATE_KEY_SIZE)
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
        check_len("digest", digest, DIGEST_SIZE)
        sig = self._sign_prehashed(bytes(digest))
        split_rs(sig)  # r, s in range and s low, as Ethereum requires
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
    check_len("digest", digest, DIGEST_SIZE)
    check_len("signature", signature, RECOVERABLE_SIGNATURE_SIZE)
    v = signature[64]
    if v not in (27, 28):
        raise SignatureInvalid(f"signature v must be 27 or 28, got {v}")
    r, s = split_rs(signature)
    return IdentityPublicKey.from_bytes(recover_point(bytes(digest), r, s, v - 27))


def recover_signer(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte Ethereum address that made ``signature`` on ``digest`` (like ecrecover).

    Stricter than the precompile: high s and v outside {27, 28} are refused instead of
    recovering some other address.
    """
    return recover_public_key(digest, signature).eth_address
