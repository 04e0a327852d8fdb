"""mikey_key_transport (paper III.D.2) as handler tables for the role machine.

Spec: :mod:`ethvoip.spec.protocols.mikey_key_transport`.  The INVITE header and the SDP
key attribute are two messages (``I_2``, ``I_3``).  ``I_2`` is this project's record naming
caller and callee (the call layer builds it from the SIP INVITE's From and To); ``I_3`` is the
exact value that goes into the SDP, produced and opened by the media layer's codecs, so there
is one MIKEY implementation (:mod:`ethvoip.impl.media.mikey_pk`) and one ``a=k:`` codec
(:mod:`ethvoip.impl.media.bare_key`).

Paper variant, as published (Fig. 8): ``I_3`` is the ASCII of the ``a=k:`` value, the upper-case
hex of ``{K}pk(B)`` where K is the 30-byte SRTP master key || salt and nothing else; anyone who
can look up B's key can make B accept a master key of their choosing "from A".

Hardened variant: ``I_3`` is an RFC 3830 public-key-mode I_MESSAGE (HDR, T, RAND, IDi, IDr,
SP, KEMAC, PKE, SIGNi) carrying the TGK ``K``; ``Kenv`` is the envelope key in PKE, T the
NTP-UTC timestamp, RAND 16 bytes.  One crypto session: SRTP for the caller's SSRC, so the
signature also binds the stream.  The checks in R_3, in the media codec's order: strict
decode and canonical re-encoding; IDi is the INVITE's caller (checked before the signature);
SIGNi verifies with A's key from the key store; T within :data:`FRESHNESS_WINDOW` of the
injected clock (:class:`~ethvoip.impl.media.mikey_replay.ReplayGuard`); PKE opens with B's
key; the KEMAC MAC (RFC 3830 PRF keys) verifies; IDr is this agent.  The replay cache is the
agent's :class:`~ethvoip.impl.handshake.machine.ReplayCache`, keyed by the spec's ``once``
on ``(A, T, RAND)`` (per sender, bounded) and shared by all its runs, so a replay is refused
even by a new run, and no sender's messages can block another's.

Values bound besides the spec's variables: ``CSB`` (4-byte CSB ID) and ``SSRC`` (4 bytes),
both read back by :func:`srtp_master` and the call layer.
"""

from __future__ import annotations

from collections.abc import Mapping

from ethvoip.impl import wire
from ethvoip.impl.crypto import decrypt_with, encrypt_to
from ethvoip.impl.handshake.binding import bind
from ethvoip.impl.handshake.layouts import NAME, BareKey, Const, Layout, Leaf, Raw, Rec, both
from ethvoip.impl.handshake.machine import RoleSpec, Run, Value
from ethvoip.impl.media import bare_key, mikey_pk
from ethvoip.impl.media.mikey import CryptoSession, srtp_policy_aes_cm_128_hmac_sha1_80
from ethvoip.impl.media.mikey_identity import (
    SIG_LEN,
    SIGN_TAG,
    ecdsa_signer,
    ecies_envelope,
    ecies_open,
)
from ethvoip.impl.media.mikey_kdf import derive_srtp_master
from ethvoip.impl.media.mikey_replay import ReplayGuard, unix_to_ntp
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import (
    DecodeError,
    IdentityMismatch,
    LocalProtocolError,
)
from ethvoip.spec.protocols.mikey_key_transport import PROTOCOL

SIG_TAG = SIGN_TAG  # the domain tag SIGNi is made under (media layer's identity adapter)
FRESHNESS_WINDOW = 120.0  # seconds either side of the receiver's clock (RFC 3830 section 5.4)
RAND_LEN = 16
CS_ID = 1  # the one crypto session of the CSB (RFC 3830 numbers them from 1)


def mikey_id(name: str) -> bytes:
    """The IDi / IDr payload value (ID type URI) for an agent name."""
    return f"sip:{name}".encode()


def _invite(run: Run, data: bytes) -> dict[str, Value]:
    rec = wire.decode(data, Tag.MIKEY_INVITE)
    if rec.text("B") != run.name("B"):
        raise IdentityMismatch(f"INVITE addressed to {rec.text('B')!r}, not to this agent")
    return {"A": rec.text("A")}


def i_2(run: Run) -> tuple[bytes, dict[str, Value]]:
    return wire.encode(Tag.MIKEY_INVITE, run.name("A"), run.name("B")), {}


# --- paper --------------------------------------------------------------------------------


def paper_i_3(run: Run) -> tuple[bytes, dict[str, Value]]:
    k = run.fresh(bare_key.MASTER_LEN)
    value = bare_key.encode_bare_key(k, lambda m: encrypt_to(run.pub("KB"), m, rng=run.env.rng))
    return value.encode("ascii"), {"K": k}


def paper_r_2(run: Run, data: bytes) -> dict[str, Value]:
    try:
        value = data.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError("a=k: value is not ASCII") from None
    if value != value.upper():
        # one encoding per key: the paper's capture is upper-case hex
        raise DecodeError("a=k: value is not upper-case hex")
    return {"K": bare_key.decode_bare_key(value, lambda c: decrypt_with(run.env.key, c))}


# --- hardened -----------------------------------------------------------------------------


def hardened_i_3(run: Run) -> tuple[bytes, dict[str, Value]]:
    now = run.env.now()
    rand, kenv, k = run.fresh(RAND_LEN), run.fresh(), run.fresh()
    csb, ssrc = run.fresh(4), run.fresh(4)
    msg = mikey_pk.build_i_message(
        tgk=k,
        env_key=kenv,
        rand=rand,
        now=now,
        csb_id=int.from_bytes(csb, "big"),
        crypto_sessions=(CryptoSession(0, int.from_bytes(ssrc, "big"), 0),),
        encrypt_envelope=ecies_envelope(run.pub("KB"), run.env.rng),
        sign=ecdsa_signer(run.env.key),
        sig_len=SIG_LEN,
        id_i=mikey_id(run.name("A")),
        id_r=mikey_id(run.name("B")),
        policies=(srtp_policy_aes_cm_128_hmac_sha1_80(),),
        v_flag=True,  # mutual authentication: the callee answers with an R_MESSAGE
    )
    t = unix_to_ntp(now).to_bytes(8, "big")  # exactly the T payload build_i_message wrote
    return msg, {"T": t, "RAND": rand, "Kenv": kenv, "K": k, "CSB": csb, "SSRC": ssrc}


def hardened_r_3(run: Run, data: bytes) -> dict[str, Value]:
    a, b = run.name("A"), run.name("B")
    opened: list[bytes] = []

    def verify(id_i: bytes | None, signed: bytes, signature: bytes) -> bool:
        if id_i != mikey_id(a):
            raise IdentityMismatch(f"MIKEY names {id_i!r} as caller, the INVITE {a!r}")
        run.pub("KA").verify(SIG_TAG, signed, signature)  # CryptoError when bad
        return True

    def decrypt(pke: bytes) -> bytes:
        opened.append(ecies_open(run.env.key)(pke))
        return opened[-1]

    kt = mikey_pk.open_i_message(
        data,
        now=run.env.now(),
        # The window half of RFC 3830's replay protection; the cache half is the agent's
        # ReplayCache on (A, T, RAND) (the spec's ``once``), which outlives this run.
        replay=ReplayGuard(window=FRESHNESS_WINDOW),
        decrypt_envelope=decrypt,
        verify=verify,
        expected_id_r=mikey_id(b),
    )
    if len(kt.crypto_sessions) != 1:
        raise DecodeError("MIKEY: want exactly one crypto session (the caller's SRTP stream)")
    return {
        "T": kt.ntp_time.to_bytes(8, "big"),
        "RAND": kt.rand,
        "Kenv": opened[-1],
        "K": kt.tgk,
        "CSB": kt.csb_id.to_bytes(4, "big"),
        "SSRC": kt.crypto_sessions[0].ssrc.to_bytes(4, "big"),
    }


def _k(run: Run) -> bytes:
    return run.bytes_("K")


def srtp_master(variant: str, bindings: Mapping[str, Value]) -> bytes:
    """The 30-byte SRTP master key || salt a finished run of either role holds.

    Paper: K itself.  Hardened: RFC 3830 section 4.1.3 from the TGK, the CSB ID and RAND.
    """
    k = bindings.get("K")
    if not isinstance(k, bytes):
        raise LocalProtocolError("the MIKEY run holds no key yet")
    if variant == "paper":
        return k
    csb, rand = bindings["CSB"], bindings["RAND"]
    assert isinstance(csb, bytes) and isinstance(rand, bytes)
    key, salt = derive_srtp_master(k, CS_ID, int.from_bytes(csb, "big"), rand)
    return key + salt


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


def layouts(variant: str) -> dict[str, Layout]:
    """Each message's wire layout, at its send and its receive label."""
    invite = Rec(Tag.MIKEY_INVITE, (Const("invite"), NAME, NAME))
    if variant == "paper":
        return both(
            {("I_2", "R_1"): invite, ("I_3", "R_2"): BareKey(Leaf(size=bare_key.MASTER_LEN))}
        )
    i_message = Raw("RFC 3830 I_MESSAGE (the media layer's MIKEY codec)")
    return both({("I_2", "R_1"): invite, ("I_3", "R_3"): i_message})


BINDING = bind(PROTOCOL.name, ROLES, layouts)
