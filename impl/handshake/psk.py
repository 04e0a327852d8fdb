"""psk_handshake (paper III.C) as handler tables for the generic role machine.

Spec: :mod:`ethvoip.spec.protocols.psk_handshake`.  ``{X}pk(B)`` is ECIES to B's identity key
(:func:`~ethvoip.impl.crypto.encrypt_to`) with the outer record tag as associated data;
``sign(X, sk(A))`` is A's tagged ECDSA signature sent together with ``X`` (a Dolev-Yao
signature reveals its message).

Paper variant, as published: message 4 ``{N1, N2}pk(A)`` does not name B and the signature
covers ``Ks`` alone, so Lowe's attack and the cross-session splice go through.

Hardened variant, and the check that stops each attack:

* I_3: the responder's name in message 4 must be the B that A meant (Lowe's fix);
* R_5: A's signature must cover ``<psk, Ks, A, B, N1, N2>`` of *this* session (no splice).
"""

from __future__ import annotations

from ethvoip.impl import wire
from ethvoip.impl.crypto import ct_equal, decrypt_with, encrypt_to
from ethvoip.impl.handshake.binding import bind
from ethvoip.impl.handshake.layouts import NAME, VALUE, Layout, Signed, both, sealed
from ethvoip.impl.handshake.machine import RoleSpec, Run, Value
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import Check, IdentityMismatch, PeerRefused
from ethvoip.spec.protocols.psk_handshake import PROTOCOL

SIG_TAG_PAPER = b"psk_handshake/paper/Ks"
SIG_TAG_HARDENED = b"psk_handshake/hardened/msg6"


def _seal(run: Run, outer: Tag, to_var: str, inner: bytes) -> bytes:
    ct = encrypt_to(run.pub(to_var), inner, aad=wire.aad(outer), rng=run.env.rng)
    return wire.encode(outer, ct)


def _open(run: Run, outer: Tag, inner: Tag, data: bytes) -> wire.Record:
    ct = wire.decode(data, outer)["ct"]
    return wire.decode(decrypt_with(run.env.key, ct, aad=wire.aad(outer)), inner)


def _same(what: str, got: bytes, want: bytes) -> None:
    if not ct_equal(got, want):
        raise PeerRefused(f"{what} does not match this session's", check=Check.NONCE_MATCH)


def signed_bytes(variant: str, ks: bytes, a: str, b: str, n1: bytes, n2: bytes) -> bytes:
    """What A signs in message 6: Ks alone (paper) or the session transcript (hardened)."""
    if variant == "paper":
        return ks
    return wire.encode(Tag.PSK_4_SIGNED, ks, a, b, n1, n2)


def _sig_tag(variant: str) -> bytes:
    return SIG_TAG_PAPER if variant == "paper" else SIG_TAG_HARDENED


# --- initiator A ------------------------------------------------------------------------


def i_2(run: Run) -> tuple[bytes, dict[str, Value]]:
    n1 = run.fresh()
    inner = wire.encode(Tag.PSK_1_BODY, n1, run.name("A"))
    return _seal(run, Tag.PSK_1, "KB", inner), {"N1": n1}


def i_3(run: Run, data: bytes) -> dict[str, Value]:
    hardened = run.variant == "hardened"
    body = Tag.PSK_2_BODY_HARDENED if hardened else Tag.PSK_2_BODY_PAPER
    rec = _open(run, Tag.PSK_2, body, data)
    _same("N1 in message 4", rec["N1"], run.bytes_("N1"))
    if hardened and rec.text("B") != run.name("B"):
        # Lowe's fix: the answer comes from someone other than the B that A called
        raise IdentityMismatch(
            f"message 4 names {rec.text('B')!r}, but this session is with {run.name('B')!r}"
        )
    return {"N2": rec["N2"]}


def i_4(run: Run) -> tuple[bytes, dict[str, Value]]:
    return _seal(run, Tag.PSK_3, "KB", wire.encode(Tag.PSK_3_BODY, run.bytes_("N2"))), {}


def i_5(run: Run) -> tuple[bytes, dict[str, Value]]:
    ks = run.fresh()
    msg = signed_bytes(
        run.variant, ks, run.name("A"), run.name("B"), run.bytes_("N1"), run.bytes_("N2")
    )
    sig = run.env.key.sign(_sig_tag(run.variant), msg)
    inner = wire.encode(Tag.PSK_4_BODY, ks, sig, run.bytes_("N2"))
    return _seal(run, Tag.PSK_4, "KB", inner), {"Ks": ks}


# --- responder B ------------------------------------------------------------------------


def r_1(run: Run, data: bytes) -> dict[str, Value]:
    rec = _open(run, Tag.PSK_1, Tag.PSK_1_BODY, data)
    return {"N1": rec["N1"], "A": rec.text("A")}


def r_3(run: Run) -> tuple[bytes, dict[str, Value]]:
    n2 = run.fresh()
    if run.variant == "hardened":
        inner = wire.encode(Tag.PSK_2_BODY_HARDENED, run.bytes_("N1"), n2, run.name("B"))
    else:
        inner = wire.encode(Tag.PSK_2_BODY_PAPER, run.bytes_("N1"), n2)
    return _seal(run, Tag.PSK_2, "KA", inner), {"N2": n2}


def r_4(run: Run, data: bytes) -> dict[str, Value]:
    rec = _open(run, Tag.PSK_3, Tag.PSK_3_BODY, data)
    _same("N2 in message 5", rec["N2"], run.bytes_("N2"))
    return {}


def r_5(run: Run, data: bytes) -> dict[str, Value]:
    rec = _open(run, Tag.PSK_4, Tag.PSK_4_BODY, data)
    _same("N2 in message 6", rec["N2"], run.bytes_("N2"))
    ks = rec["Ks"]
    msg = signed_bytes(
        run.variant, ks, run.name("A"), run.name("B"), run.bytes_("N1"), run.bytes_("N2")
    )
    # hardened: a signature from another session (other B, N1 or N2) fails here
    run.pub("KA").verify(_sig_tag(run.variant), msg, rec["sig"])
    return {"Ks": ks}


INITIATOR = RoleSpec(
    sends={"I_2": i_2, "I_4": i_4, "I_5": i_5},
    recvs={"I_3": i_3},
    peer_var="B",
    session_key=lambda run: run.bytes_("Ks"),
)
RESPONDER = RoleSpec(
    sends={"R_3": r_3},
    recvs={"R_1": r_1, "R_4": r_4, "R_5": r_5},
    peer_var="A",
    session_key=lambda run: run.bytes_("Ks"),
)

#: Both variants share the handlers; they branch on ``run.variant`` where the spec differs.
ROLES = {("paper", "I"): INITIATOR, ("paper", "R"): RESPONDER}
ROLES |= {("hardened", "I"): INITIATOR, ("hardened", "R"): RESPONDER}


def layouts(variant: str) -> dict[str, Layout]:
    """Each message's wire layout, at its send and its receive label."""
    hardened = variant == "hardened"
    return both(
        {
            ("I_2", "R_1"): sealed(Tag.PSK_1, Tag.PSK_1_BODY, VALUE, NAME),
            ("R_3", "I_3"): sealed(Tag.PSK_2, Tag.PSK_2_BODY_HARDENED, VALUE, VALUE, NAME)
            if hardened
            else sealed(Tag.PSK_2, Tag.PSK_2_BODY_PAPER, VALUE, VALUE),
            ("I_4", "R_4"): sealed(Tag.PSK_3, Tag.PSK_3_BODY, VALUE),
            # hardened: the signed tuple <psk, Ks, A, B, N1, N2> travels as Ks and the
            # signature; the rest is recomputed by the receiver
            ("I_5", "R_5"): sealed(
                Tag.PSK_4,
                Tag.PSK_4_BODY,
                Signed(SIG_TAG_HARDENED, implicit=True) if hardened else Signed(SIG_TAG_PAPER),
                VALUE,
            ),
        }
    )


BINDING = bind(PROTOCOL.name, ROLES, layouts)
