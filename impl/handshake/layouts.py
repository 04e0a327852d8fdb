"""How each handshake message looks on the wire, seen from the network by the intruder.

The role machines build and check their messages in handler code; the concrete intruder of
the replays has no handlers, only the symbolic derivation a model trace gives it ("decrypt
event 1 with sk(e), re-encrypt the body to pk(a)").  To carry such a derivation out on bytes
it needs to know, for the term of each step, which wire record holds which subterm.  That is
what a :data:`Layout` says for one step; each handler module (:mod:`.psk`, :mod:`.mikey`,
:mod:`.sts`) writes its own beside its handlers, from the spec's terms and the record schemas
of :mod:`ethvoip.impl.wire`, and :func:`ethvoip.impl.handshake.layout` looks them up.

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

from ethvoip.impl.wire import Tag


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


def sealed(outer: Tag, inner: Tag, *parts: Part) -> Sealed:
    """``aenc(<parts>, pk(X))`` as an ``outer`` record sealing an ``inner`` one."""
    return Sealed(outer, Rec(inner, parts))


def both(pairs: Mapping[tuple[str, str], Layout]) -> dict[str, Layout]:
    """A message has the same layout at its send label and at its receive label."""
    table: dict[str, Layout] = {}
    for (send, recv), layout in pairs.items():
        table[send] = table[recv] = layout
    return table
