"""sts: Station-to-Station over RTCP (paper Fig. 7) as handler tables for the role machine.

Spec: :mod:`ethvoip.spec.protocols.sts`.  ``g^x`` is an X25519 public value; ``{X}K`` is
AES-256-GCM under a key derived from the X25519 secret and both half-keys (the record tag is
the associated data); ``sign`` is the tagged ECDSA signature of the identity key.

Paper variant, as published: each side signs ``<own half-key, peer's half-key>`` and nothing
names the parties, so with a key store that registers keys without proof of possession the
Blake-Wilson-Menezes unknown key-share goes through.

Hardened variant (SIGMA-style), the checks that stop it: I_3 requires the name inside B's
encrypted message to be the B that A called, and B's signature to cover ``<sts_r, A, B, g^x,
g^y>``; R_4 likewise for A with role tag ``sts_i``.  The role tags are the signatures' domain
tags, so neither signature can be reflected as the other.

Dialog binding (paper and hardened): the responder is started with ``A=`` the SIP dialog's
authenticated peer, and R_1 refuses a message 1 that names anyone else
(:class:`DialogMismatch`), so the name every later check uses is the call's peer.  The
``unbound`` variant (kept to show the re-key hijack) takes the peer's name ``S`` from message
1 and authenticates whoever that is.
"""

from __future__ import annotations

from ethvoip.impl import wire
from ethvoip.impl.crypto import DhKey, aead_decrypt, aead_encrypt, hkdf_sha256
from ethvoip.impl.handshake.binding import bind
from ethvoip.impl.handshake.layouts import NAME, VALUE, Layout, Opaque, Rec, both
from ethvoip.impl.handshake.machine import RoleSpec, Run, Value
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import Check, IdentityMismatch, PeerRefused
from ethvoip.spec.protocols.sts import PROTOCOL


class DialogMismatch(PeerRefused):
    """STS message 1 names a peer other than the SIP dialog's: a re-key from outside the call."""

    check = Check.DIALOG_BINDING


SIG_TAG_PAPER = b"sts/paper"
SIG_TAG_R = b"sts/hardened/sts_r"
SIG_TAG_I = b"sts/hardened/sts_i"
_ENC_INFO = b"ethvoip/sts/v1/enc"
_SESSION_INFO = b"ethvoip/sts/v1/session"


def _halves(run: Run) -> tuple[DhKey, bytes, bytes]:
    """This side's DH key and the half-keys (g^x, g^y) in protocol order."""
    if run.has("x"):  # the initiator generated x
        mine = DhKey.from_private_bytes(run.bytes_("x"))
        return mine, mine.public_bytes, run.bytes_("GY")
    mine = DhKey.from_private_bytes(run.bytes_("y"))
    return mine, run.bytes_("GX"), mine.public_bytes


def _key(run: Run, info: bytes) -> bytes:
    mine, gx, gy = _halves(run)
    peer = gy if mine.public_bytes == gx else gx
    return hkdf_sha256(mine.exchange(peer), info=info + gx + gy)


def _caller(run: Run) -> str:
    """The initiator's name as this run authenticates it: ``S`` in the unbound responder."""
    return run.name("S") if run.has("S") else run.name("A")


def _own_signature(run: Run, me: str) -> bytes:
    """The inner plaintext of message 2 (me = "B") or 3 (me = "A")."""
    _, gx, gy = _halves(run)
    key = run.env.key
    if run.variant == "paper":
        own, peer = (gx, gy) if me == "A" else (gy, gx)
        sig = key.sign(SIG_TAG_PAPER, wire.encode(Tag.STS_SIGNED_PAPER, own, peer))
        return wire.encode(Tag.STS_SIG_PAPER, sig)
    tag = SIG_TAG_I if me == "A" else SIG_TAG_R
    transcript = wire.encode(Tag.STS_SIGNED_HARDENED, _caller(run), run.name("B"), gx, gy)
    return wire.encode(Tag.STS_SIG_HARDENED, run.name(me), key.sign(tag, transcript))


def _check_signature(run: Run, inner: bytes, peer: str, key_var: str) -> None:
    """Check the peer's inner plaintext of message 2 (peer = "B") or 3 (peer = "A")."""
    _, gx, gy = _halves(run)
    pub = run.pub(key_var)
    if run.variant == "paper":
        rec = wire.decode(inner, Tag.STS_SIG_PAPER)
        own, other = (gx, gy) if peer == "A" else (gy, gx)
        pub.verify(SIG_TAG_PAPER, wire.encode(Tag.STS_SIGNED_PAPER, own, other), rec["sig"])
        return
    rec = wire.decode(inner, Tag.STS_SIG_HARDENED)
    expected = _caller(run) if peer == "A" else run.name(peer)
    if rec.text("ID") != expected:
        raise IdentityMismatch(
            f"the peer names itself {rec.text('ID')!r}, this session is with {expected!r}"
        )
    tag = SIG_TAG_I if peer == "A" else SIG_TAG_R
    transcript = wire.encode(Tag.STS_SIGNED_HARDENED, _caller(run), run.name("B"), gx, gy)
    pub.verify(tag, transcript, rec["sig"])


# --- initiator A ------------------------------------------------------------------------


def i_2(run: Run) -> tuple[bytes, dict[str, Value]]:
    x = DhKey.generate(run.env.rng)
    return wire.encode(Tag.STS_1, run.name("A"), run.name("B"), x.public_bytes), {
        "x": x.private_bytes()
    }


def i_3(run: Run, data: bytes) -> dict[str, Value]:
    rec = wire.decode(data, Tag.STS_2)
    new: dict[str, Value] = {"GY": rec["GY"]}
    view = run.extended(new)
    inner = aead_decrypt(_key(view, _ENC_INFO), rec["ct"], aad=wire.aad(Tag.STS_2))
    _check_signature(view, inner, "B", "KB")
    return new


def i_4(run: Run) -> tuple[bytes, dict[str, Value]]:
    ct = aead_encrypt(
        _key(run, _ENC_INFO), _own_signature(run, "A"), wire.aad(Tag.STS_3), run.env.rng
    )
    return wire.encode(Tag.STS_3, ct), {}


# --- responder B ------------------------------------------------------------------------


def r_1(run: Run, data: bytes) -> dict[str, Value]:
    rec = wire.decode(data, Tag.STS_1)
    if rec.text("B") != run.name("B"):
        raise IdentityMismatch(f"call addressed to {rec.text('B')!r}, not to this agent")
    if run.variant == "unbound":
        return {"S": rec.text("A"), "GX": rec["GX"]}
    if rec.text("A") != run.name("A"):
        raise DialogMismatch(
            f"STS from {rec.text('A')!r}, but this call's peer is {run.name('A')!r}"
        )
    return {"GX": rec["GX"]}


def r_3(run: Run) -> tuple[bytes, dict[str, Value]]:
    y = DhKey.generate(run.env.rng)
    new: dict[str, Value] = {"y": y.private_bytes()}
    view = run.extended(new)
    ct = aead_encrypt(
        _key(view, _ENC_INFO), _own_signature(view, "B"), wire.aad(Tag.STS_2), run.env.rng
    )
    return wire.encode(Tag.STS_2, y.public_bytes, ct), new


def r_4(run: Run, data: bytes) -> dict[str, Value]:
    ct = wire.decode(data, Tag.STS_3)["ct"]
    inner = aead_decrypt(_key(run, _ENC_INFO), ct, aad=wire.aad(Tag.STS_3))
    _check_signature(run, inner, "A", "KA")
    return {}


def _session_key(run: Run) -> bytes:
    return _key(run, _SESSION_INFO)


INITIATOR = RoleSpec(
    sends={"I_2": i_2, "I_4": i_4}, recvs={"I_3": i_3}, peer_var="B", session_key=_session_key
)
RESPONDER = RoleSpec(
    sends={"R_3": r_3}, recvs={"R_1": r_1, "R_4": r_4}, peer_var="A", session_key=_session_key
)

# The unbound responder still believes its call is with A (the dialog's peer): that is whom the
# re-keyed media goes to, whoever it authenticated as S.
UNBOUND_RESPONDER = RoleSpec(
    sends={"R_3": r_3}, recvs={"R_1": r_1, "R_4": r_4}, peer_var="A", session_key=_session_key
)

ROLES = {("paper", "I"): INITIATOR, ("paper", "R"): RESPONDER}
ROLES |= {("hardened", "I"): INITIATOR, ("hardened", "R"): RESPONDER}
ROLES |= {("unbound", "I"): INITIATOR, ("unbound", "R"): UNBOUND_RESPONDER}


def layouts(variant: str) -> dict[str, Layout]:
    """Each message's wire layout, at its send and its receive label."""
    del variant  # every variant puts its differences inside the DH-keyed ciphertexts
    return both(
        {
            ("I_2", "R_1"): Rec(Tag.STS_1, (NAME, NAME, VALUE)),
            ("R_3", "I_3"): Rec(Tag.STS_2, (VALUE, Opaque("AEAD under g^xy"))),
            ("I_4", "R_4"): Rec(Tag.STS_3, (Opaque("AEAD under g^xy"),)),
        }
    )


BINDING = bind(PROTOCOL.name, ROLES, layouts)
