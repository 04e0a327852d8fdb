"""Short authentication string (SAS) of a key exchange, as ZRTP shows one (RFC 6189).

A key directory can be wrong: a node that lies, a trust root that was subverted.  Then a
man in the middle holds the keys both ends looked up, runs one exchange with each, and every
check passes.  Reading a short string aloud catches him: each end derives it from what it
saw, and the two strings agree only if both ends saw the same exchange with the same keys.

Derivation (ours; RFC 6189 fixes only the rendering).  Over one finished role machine
(MIKEY at call setup, STS at a re-key), the end computes::

    transcript = every message it sent or received, in protocol order, each length-prefixed
    keys       = the initiator's identity key || the responder's identity key, as this end
                 used them (its own key, and the one it looked up for the peer)
    sashash    = scrypt(session key, salt = SHA-256("ethvoip/sas/v1" || protocol || keys ||
                 transcript), N = 2**14, r = 8, p = 1, 32 bytes)
    sasvalue   = the leftmost 32 bits of sashash  (RFC 6189 section 4.5.2)
    SAS        = the leftmost 20 bits of sasvalue as 4 z-base-32 characters, most
                 significant first  (RFC 6189 section 5.1.6, "B32")

The session key (MIKEY's TGK, STS's g^xy key) keeps the string unpredictable to anyone not
in the exchange.  The scrypt cost is the defence against a grinding man in the middle: he
controls one message of each exchange and could try candidates until the two 20-bit strings
collide; ZRTP prevents that with a hash commitment, which neither MIKEY key transport nor STS
has, so instead every candidate costs him one scrypt (about 0.1 s on one core; 2**19 tries
on average for a collision) within the seconds a call setup allows.  See docs/calls.rst.
"""

from __future__ import annotations

from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey, scrypt, sha256
from ethvoip.impl.handshake import Completed, Received, RoleMachine, Sent, State
from ethvoip.spec.errors import LocalProtocolError

ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769"  # RFC 6189 section 5.1.6 (z-base-32)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_INFO = b"ethvoip/sas/v1"


def render_b32(sasvalue: int) -> str:
    """RFC 6189 "B32": the leftmost 20 bits of the 32-bit ``sasvalue``, 5 bits a character."""
    if not 0 <= sasvalue < 1 << 32:
        raise LocalProtocolError("sasvalue is 32 bits")
    return "".join(ZBASE32[(sasvalue >> shift) & 0x1F] for shift in (27, 22, 17, 12))


def sas_value(protocol: str, keys: bytes, transcript: bytes, session_key: bytes) -> int:
    """The 32-bit sasvalue (see the module docstring)."""
    salt = sha256(_INFO + _field(protocol.encode()) + keys + transcript)
    sashash = scrypt(session_key, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return int.from_bytes(sashash[:4], "big")


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def machine_sas(machine: RoleMachine, own: IdentityKey) -> str:
    """The SAS of one finished run of mikey_key_transport (hardened) or sts, as this end saw
    it; ``own`` is this end's identity key."""
    if machine.state is not State.DONE:
        raise LocalProtocolError("no SAS before the exchange has finished")
    if machine.variant.name == "paper" and machine.protocol == "mikey_key_transport":
        raise LocalProtocolError("the paper's a=k: has no authenticated transcript to compare")
    peer_var = "KB" if machine.role.name == "I" else "KA"
    peer = machine.bindings.get(peer_var)
    if not isinstance(peer, IdentityPublicKey):
        raise LocalProtocolError(f"the run holds no {peer_var}")
    mine = own.public_key.to_bytes()
    initiator, responder = (
        (mine, peer.to_bytes())
        if machine.role.name == "I"
        else (
            peer.to_bytes(),
            mine,
        )
    )
    transcript = b"".join(
        _field(e.data) for e in machine.transcript if isinstance(e, Sent | Received)
    )
    done = machine.transcript[-1]
    assert isinstance(done, Completed)
    keys = _field(initiator) + _field(responder)
    return render_b32(sas_value(machine.protocol, keys, transcript, done.session_key))
