"""An annotated hex dump of a MIKEY message: each payload of an RFC 3830 I_MESSAGE on its own
lines, labelled with what it is (for docs/calls.rst, which shows a real one).

:func:`annotate` decodes the message strictly, re-encodes it piece by piece (so the labels
are where the codec says the payloads are, and the pieces join back to the input), and
prints offset, hex and label.  :func:`sample_i_message` makes the deterministic I_MESSAGE the
docs show: a real hardened call offer from the mikey_key_transport machine, with a seeded
RNG and a fixed clock.
"""

from __future__ import annotations

from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey, seeded_rng
from ethvoip.impl.handshake import Env, Sent, create
from ethvoip.impl.media import mikey
from ethvoip.spec.errors import DecodeError

WIDTH = 16
_LABELS = {
    mikey.Timestamp: "T: NTP-UTC timestamp (replay window)",
    mikey.Rand: "RAND: 16 fresh bytes (into every derived key)",
    mikey.Identity: "ID: a party's URI",
    mikey.SecurityPolicy: "SP: SRTP policy (AES-CM-128, HMAC-SHA1-80, ...)",
    mikey.Kemac: "KEMAC: TGK encrypted under the envelope key, MACed",
    mikey.Pke: "PKE: envelope key, ECIES to the responder's key from the key store",
    mikey.Sign: "SIGNi: initiator's ECDSA signature over everything before it",
}


def annotate(data: bytes) -> str:
    """The annotated dump of MIKEY message ``data`` (DecodeError if it is not one)."""
    msg = mikey.decode_message(data)
    pieces = mikey.encode_pieces(msg)
    if b"".join(pieces) != data:
        raise DecodeError("MIKEY: not in canonical encoding")
    ids = iter(("IDi: initiator", "IDr: responder"))
    labels = ["HDR: version, data type (PK init), CSB ID, CS map (SSRC, ROC)"]
    for p in msg.payloads:
        label = _LABELS[type(p)]
        if isinstance(p, mikey.Identity):
            label = f"{next(ids, 'ID')}, {p.data.decode(errors='replace')}"
        labels.append(label)
    lines, offset = [], 0
    for piece, label in zip(pieces, labels, strict=True):
        lines.append(f"{offset:04x}  {label} ({len(piece)} bytes)")
        for i in range(0, len(piece), WIDTH):
            lines.append("      " + piece[i : i + WIDTH].hex(" "))
        offset += len(piece)
    return "\n".join(lines)


class _Fixed:
    def __init__(self, keys: dict[str, IdentityPublicKey]) -> None:
        self.keys = keys

    def lookup(self, name: str) -> IdentityPublicKey:
        return self.keys[name]


def sample_i_message() -> bytes:
    """A hardened call offer's I_MESSAGE, deterministic (seeded keys and RNG, fixed clock)."""
    rng = seeded_rng(b"ethvoip docs: annotated MIKEY")
    alice, bob = IdentityKey.generate(rng), IdentityKey.generate(rng)
    directory = _Fixed({"+96176661367": alice.public_key, "+96170412611": bob.public_key})
    env = Env("+96176661367", alice, directory, rng=rng, clock=lambda: 1_800_000_000.0)
    machine = create("mikey_key_transport", "hardened", "I", env, B="+96170412611")
    return next(e.data for e in machine.start() if isinstance(e, Sent) and e.label == "I_3")


if __name__ == "__main__":  # python -m ethvoip.impl.call.annotate: the dump in docs/calls.rst
    print(annotate(sample_i_message()))
