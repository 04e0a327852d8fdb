"""All of ethvoip's cryptography, in one package: secp256k1 on libsecp256k1 (coincurve),
everything else on pyca/cryptography.  The rest of the project imports from here (this
module re-exports every public name); the modules inside are

* :mod:`.identity`: secp256k1 identity keys, signatures, recovery and ECDH
  (:mod:`.secp256k1_math`: the public-data curve arithmetic recovery needs);
* :mod:`.ecies`: encryption to an identity key;
* :mod:`.aead`: AES-256-GCM, and AEADs with given nonces (TLS 1.3 records);
* :mod:`.aes_ctr`: AES-CTR (SRTP's and MIKEY's AES-CM);
* :mod:`.dh`: X25519;  :mod:`.receipts`: RSA receipt signatures and keys;
* :mod:`.hashes`: hashes, MACs, HKDF, scrypt, constant-time comparison;
* :mod:`.rng`: injected randomness;  :mod:`.sizes`: byte lengths and their check.

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

from ethvoip.impl.crypto.aead import AeadName, NonceAead, aead_decrypt, aead_encrypt
from ethvoip.impl.crypto.aes_ctr import aes_ctr
from ethvoip.impl.crypto.dh import DhKey
from ethvoip.impl.crypto.ecies import ECIES_OVERHEAD, decrypt_with, encrypt_to
from ethvoip.impl.crypto.hashes import (
    HASH_SIZES,
    HashName,
    ct_equal,
    hkdf_expand,
    hkdf_sha256,
    hmac_sha1,
    hmac_sha256,
    keccak256,
    md5,
    scrypt,
    sha256,
)
from ethvoip.impl.crypto.identity import (
    IdentityKey,
    IdentityPublicKey,
    recover_public_key,
    recover_signer,
)
from ethvoip.impl.crypto.receipts import (
    RsaPrivateKey,
    RsaPublicKey,
    generate_rsa_key,
    load_rsa_private_key,
    load_rsa_public_key,
    rsa_private_pem,
    rsa_public_pem,
    rsa_receipt_sign,
    rsa_receipt_verify,
)
from ethvoip.impl.crypto.rng import DEFAULT_RNG, Rng, seeded_rng
from ethvoip.impl.crypto.sizes import (
    ADDRESS_SIZE,
    AEAD_KEY_SIZE,
    AEAD_NONCE_SIZE,
    AEAD_TAG_SIZE,
    DH_PUBLIC_SIZE,
    DIGEST_SIZE,
    PRIVATE_KEY_SIZE,
    PUBLIC_KEY_SIZE,
    RECOVERABLE_SIGNATURE_SIZE,
    SIGNATURE_SIZE,
)

__all__ = [
    "ADDRESS_SIZE",
    "AEAD_KEY_SIZE",
    "AEAD_NONCE_SIZE",
    "AEAD_TAG_SIZE",
    "DEFAULT_RNG",
    "DH_PUBLIC_SIZE",
    "DIGEST_SIZE",
    "ECIES_OVERHEAD",
    "HASH_SIZES",
    "PRIVATE_KEY_SIZE",
    "PUBLIC_KEY_SIZE",
    "RECOVERABLE_SIGNATURE_SIZE",
    "SIGNATURE_SIZE",
    "AeadName",
    "DhKey",
    "HashName",
    "IdentityKey",
    "IdentityPublicKey",
    "NonceAead",
    "Rng",
    "RsaPrivateKey",
    "RsaPublicKey",
    "aead_decrypt",
    "aead_encrypt",
    "aes_ctr",
    "ct_equal",
    "decrypt_with",
    "encrypt_to",
    "generate_rsa_key",
    "hkdf_expand",
    "hkdf_sha256",
    "hmac_sha1",
    "hmac_sha256",
    "keccak256",
    "load_rsa_private_key",
    "load_rsa_public_key",
    "md5",
    "recover_public_key",
    "recover_signer",
    "rsa_private_pem",
    "rsa_public_pem",
    "rsa_receipt_sign",
    "rsa_receipt_verify",
    "scrypt",
    "seeded_rng",
    "sha256",
]
