"""How each handshake message looks on the wire, seen from the network by the intruder.

The role machines build and check their messages in handler code; the concrete intruder of
the replays has no handlers, only the symbolic derivation a model trace gives it ("decrypt
event 1 with sk(e), re-encrypt the body to pk(a)").  To carry such a derivation out on bytes
it needs to know, for the term of each step, which wire record holds which subterm.  That is
this table: one :data:`Layout` per (protocol, variant, step label), written from the spec's
terms and the record schemas of :mod:`ethvoip.impl.wire`.

Layout nodes mirror the symbolic term:

* :class:`Sealed` ``aenc(body, pk(X))``: an ``outer`` record with one ECIES field whose
  plaintext is the ``inner`` record (the outer tag is the associated data);
* :class:`Rec` a tuple (or, with one part, a single term) as the fields of a record;
* :class:`Leaf` a nonce, key or half-key (bytes) or an agent name (text): one field;
* :class:`Const` a public constant carried by the record tag: no field;
* :class:`Signed` ``sign(m, sk(X))``: ``m``'s field, then the signature's (``implicit``
  when that field is only part of ``m`` and the receiver recomputes the rest);
* :class:`BareKey` the paper's SDP ``a=k:`` value, ``aenc(K, pk(B))`` as hex text;
* :class:`Raw` a whole message that is only ever forwarded;
* :class:`Opaque` a field the intruder can move but not open or build here (a ciphertext
  under a Diffie-Hellman key, a signature whose message is implicit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from ethvoip.impl.handshake import psk
from ethvoip.impl.media import bare_key
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import ConformanceError


@dataclass(frozen=True)
class Leaf:
    name: bool = False  # True: an agent name (UTF-8 text field)
    size: int = 32  # the length of a value the intruder makes up for this field

    width = 1


@dataclass(frozen=True)
class Const:
    value: str

    width = 0


@dataclass(frozen=True)
class Opaque:
    what: str

    width = 1


@dataclass(frozen=True)
class Signed:
    tag: bytes  # the signature's domain tag (what the signer passes to IdentityKey.sign)
    implicit: bool = False  # True: the first field is only part of the signed message

    width = 2


Part: TypeAlias = Leaf | Const | Opaque | Signed


@dataclass(frozen=True)
class Rec:
    tag: Tag
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Sealed:
    outer: Tag
    inner: Rec


@dataclass(frozen=True)
class BareKey:
    """The paper's ``a=k:`` value: upper-case hex of ECIES(value), no associated data."""

    inner: Leaf


@dataclass(frozen=True)
class Raw:
    """A whole message the intruder can only forward here (e.g. an RFC 3830 I_MESSAGE)."""

    what: str


Layout: TypeAlias = Sealed | Rec | BareKey | Raw

NAME, VALUE = Leaf(name=True), Leaf()


def _sealed(outer: Tag, inner: Tag, *parts: Part) -> Sealed:
    return Sealed(outer, Rec(inner, parts))


def _both(table: dict[str, Layout], pairs: Mapping[tuple[str, str], Layout]) -> None:
    """A message has the same layout at its send label and at its receive label."""
    for (send, recv), layout in pairs.items():
        table[send] = table[recv] = layout


def _psk(variant: str) -> dict[str, Layout]:
    hardened = variant == "hardened"
    out: dict[str, Layout] = {}
    _both(
        out,
        {
            ("I_2", "R_1"): _sealed(Tag.PSK_1, Tag.PSK_1_BODY, VALUE, NAME),
            ("R_3", "I_3"): _sealed(Tag.PSK_2, Tag.PSK_2_BODY_HARDENED, VALUE, VALUE, NAME)
            if hardened
            else _sealed(Tag.PSK_2, Tag.PSK_2_BODY_PAPER, VALUE, VALUE),
            ("I_4", "R_4"): _sealed(Tag.PSK_3, Tag.PSK_3_BODY, VALUE),
            # hardened: the signed tuple <psk, Ks, A, B, N1, N2> travels as Ks and the
            # signature; the rest is recomputed by the receiver
            ("I_5", "R_5"): _sealed(
                Tag.PSK_4,
                Tag.PSK_4_BODY,
                Signed(psk.SIG_TAG_HARDENED, implicit=True)
                if hardened
                else Signed(psk.SIG_TAG_PAPER),
                VALUE,
            ),
        },
    )
    return out


def _mikey(variant: str) -> dict[str, Layout]:
    out: dict[str, Layout] = {}
    invite = Rec(Tag.MIKEY_INVITE, (Const("invite"), NAME, NAME))
    if variant == "paper":
        _both(
            out,
            {
                ("I_2", "R_1"): invite,
                ("I_3", "R_2"): BareKey(Leaf(size=bare_key.MASTER_LEN)),
            },
        )
    else:
        i_message = Raw("RFC 3830 I_MESSAGE (the media layer's MIKEY codec)")
        _both(out, {("I_2", "R_1"): invite, ("I_3", "R_3"): i_message})
    return out


def _sts(variant: str) -> dict[str, Layout]:
    del variant  # both variants put their differences inside the DH-keyed ciphertexts
    out: dict[str, Layout] = {}
    _both(
        out,
        {
            ("I_2", "R_1"): Rec(Tag.STS_1, (NAME, NAME, VALUE)),
            ("R_3", "I_3"): Rec(Tag.STS_2, (VALUE, Opaque("AEAD under g^xy"))),
            ("I_4", "R_4"): Rec(Tag.STS_3, (Opaque("AEAD under g^xy"),)),
        },
    )
    return out


LAYOUTS: Mapping[tuple[str, str], Mapping[str, Layout]] = {
    (p, v): build(v)
    for p, build in (("psk_handshake", _psk), ("mikey_key_transport", _mikey), ("sts", _sts))
    for v in ("paper", "hardened")
} | {("sts", "unbound"): _sts("unbound")}


def layout(protocol: str, variant: str, label: str) -> Layout:
    """The wire layout of the message of step ``label``."""
    try:
        return LAYOUTS[(protocol, variant)][label]
    except KeyError:
        raise ConformanceError(f"no wire layout for {protocol}/{variant} step {label}") from None
