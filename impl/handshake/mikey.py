"""mikey_key_transport (paper III.D.2) as handler tables for the role machine.

Spec: :mod:`ethvoip.spec.protocols.mikey_key_transport`.  The INVITE header and the SDP
key attribute are two messages (``I_2``, ``I_3``).  This is the symbolic protocol in this
project's record encoding; the RFC 3830 byte layout for SDP ``a=key-mgmt`` is the media
layer's MIKEY codec.

Paper variant, as published: ``a=k:`` carries ``{K}pk(B)`` and nothing else, so anyone who can
look up B's key can make B accept a master key of their choosing "from A".

Hardened variant (RFC 3830 public-key mode), the checks in R_3, in order: the names IDi and
IDr are those of the INVITE; SIGNi verifies with A's key over ``<T, RAND, IDi, IDr, PKE,
KEMAC>``; T lies within :data:`FRESHNESS_WINDOW` of the injected clock; PKE opens with B's key
and KEMAC with ``kdf(Kenv, RAND)``; finally the machine's replay cache refuses a ``(T, RAND)``
pair seen before (the spec's ``once``).
"""

from __future__ import annotations

from ethvoip.impl import wire
from ethvoip.impl.crypto import aead_decrypt, aead_encrypt, decrypt_with, encrypt_to, hkdf_sha256
from ethvoip.impl.handshake.machine import RoleSpec, Run, Value
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import RemoteProtocolError, ReplayError

SIG_TAG = b"mikey/hardened/SIGNi"
FRESHNESS_WINDOW = 120.0  # seconds either side of the receiver's clock (RFC 3830 section 5.4)
_KEMAC_INFO = b"ethvoip/mikey/v1/kemac"


def kemac_key(kenv: bytes, rand: bytes) -> bytes:
    """``kdf(Kenv, RAND)`` of the spec: the key that wraps K in KEMAC."""
    return hkdf_sha256(kenv, salt=rand, info=_KEMAC_INFO)


def timestamp(now: float) -> bytes:
    """T: milliseconds on the shared clock, 8 bytes big-endian."""
    return max(0, int(now * 1000)).to_bytes(8, "big")


def _invite(run: Run, data: bytes) -> dict[str, Value]:
    rec = wire.decode(data, Tag.MIKEY_INVITE)
    if rec.text("B") != run.name("B"):
        raise RemoteProtocolError(f"INVITE addressed to {rec.text('B')!r}, not to this agent")
    return {"A": rec.text("A")}


def i_2(run: Run) -> tuple[bytes, dict[str, Value]]:
    return wire.encode(Tag.MIKEY_INVITE, run.name("A"), run.name("B")), {}


# --- paper --------------------------------------------------------------------------------


def paper_i_3(run: Run) -> tuple[bytes, dict[str, Value]]:
    k = run.fresh()
    body = wire.encode(Tag.MIKEY_K_BODY, k)
    ct = encrypt_to(run.pub("KB"), body, aad=wire.aad(Tag.MIKEY_K), rng=run.env.rng)
    return wire.encode(Tag.MIKEY_K, ct), {"K": k}


def paper_r_2(run: Run, data: bytes) -> dict[str, Value]:
    ct = wire.decode(data, Tag.MIKEY_K)["ct"]
    body = decrypt_with(run.env.key, ct, aad=wire.aad(Tag.MIKEY_K))
    return {"K": wire.decode(body, Tag.MIKEY_K_BODY)["K"]}


# --- hardened -----------------------------------------------------------------------------


def hardened_i_3(run: Run) -> tuple[bytes, dict[str, Value]]:
    t, rand, kenv, k = timestamp(run.env.now()), run.fresh(16), run.fresh(), run.fresh()
    a, b, rng = run.name("A"), run.name("B"), run.env.rng
    aad = wire.aad(Tag.MIKEY_I_MESSAGE)
    pke = encrypt_to(run.pub("KB"), wire.encode(Tag.MIKEY_ENV_BODY, kenv), aad=aad, rng=rng)
    kemac = aead_encrypt(kemac_key(kenv, rand), wire.encode(Tag.MIKEY_KEMAC_BODY, k), aad, rng)
    signed = wire.encode(Tag.MIKEY_SIGNED, t, rand, a, b, pke, kemac)
    sig = run.env.key.sign(SIG_TAG, signed)
    msg = wire.encode(Tag.MIKEY_I_MESSAGE, t, rand, a, b, pke, kemac, sig)
    return msg, {"T": t, "RAND": rand, "Kenv": kenv, "K": k}


def hardened_r_3(run: Run, data: bytes) -> dict[str, Value]:
    rec = wire.decode(data, Tag.MIKEY_I_MESSAGE)
    a, b = run.name("A"), run.name("B")
    if rec.text("IDi") != a or rec.text("IDr") != b:
        raise RemoteProtocolError(
            f"MIKEY names {rec.text('IDi')!r} -> {rec.text('IDr')!r}, the INVITE {a!r} -> {b!r}"
        )
    t, rand, pke, kemac = rec["T"], rec["RAND"], rec["PKE"], rec["KEMAC"]
    signed = wire.encode(Tag.MIKEY_SIGNED, t, rand, a, b, pke, kemac)
    run.pub("KA").verify(SIG_TAG, signed, rec["sig"])
    skew = abs(int.from_bytes(t, "big") / 1000 - run.env.now())
    if skew > FRESHNESS_WINDOW:
        raise ReplayError(f"MIKEY timestamp {skew:.0f} s away from now (window {FRESHNESS_WINDOW})")
    aad = wire.aad(Tag.MIKEY_I_MESSAGE)
    kenv = wire.decode(decrypt_with(run.env.key, pke, aad=aad), Tag.MIKEY_ENV_BODY)["Kenv"]
    k = wire.decode(aead_decrypt(kemac_key(kenv, rand), kemac, aad), Tag.MIKEY_KEMAC_BODY)["K"]
    return {"T": t, "RAND": rand, "Kenv": kenv, "K": k}


def _k(run: Run) -> bytes:
    return run.bytes_("K")


ROLES = {
    ("paper", "I"): RoleSpec(
        sends={"I_2": i_2, "I_3": paper_i_3}, recvs={}, peer_var="B", session_key=_k
    ),
    ("paper", "R"): RoleSpec(
        sends={}, recvs={"R_1": _invite, "R_2": paper_r_2}, peer_var="A", session_key=_k
    ),
    ("hardened", "I"): RoleSpec(
        sends={"I_2": i_2, "I_3": hardened_i_3}, recvs={}, peer_var="B", session_key=_k
    ),
    ("hardened", "R"): RoleSpec(
        sends={}, recvs={"R_1": _invite, "R_3": hardened_r_3}, peer_var="A", session_key=_k
    ),
}
