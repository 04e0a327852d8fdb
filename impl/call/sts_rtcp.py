"""Station-to-Station over RTCP APP packets (paper Fig. 7), and the SRTP re-key it enables.

After the call is up, caller (``I``) and callee (``R``) run the sts machine
(:mod:`ethvoip.impl.handshake.sts`) with each message in an RTCP APP packet (RFC 3550
section 6.7) named ``STS1``, subtype = message number; the APP data is ``length (2 bytes) |
message | zero padding`` to a whole number of 32-bit words.  The messages protect themselves
(signatures, encryption under the DH key); the RTCP carrying them is SRTCP under the call's
current stream keys all the same, from and to the peer's negotiated RTCP address only
(:meth:`.media.RtcpChannel.bind_call`), so a stranger's packet never reaches the machine.

Bound to the call: the responder's machine starts with ``A=`` the call's authenticated peer
(the identity MIKEY verified for this dialog), and refuses a message 1 that names anyone else
(:class:`~ethvoip.impl.handshake.sts.DialogMismatch`); a refused first message is counted and
the responder keeps waiting for the genuine one, so a stranger cannot block the re-key either.
The ``unbound`` variant (spec: ``sts/unbound``) is kept to show the hijack it allows.

Re-keying: both ends derive the new SRTP master key || salt from the STS session key,
``HKDF-SHA256(Ks, info="ethvoip/sts/srtp-master/v1", 30 bytes)``; the old master key plays
no part, so a later compromise of either identity key or of the MIKEY key leaves this media
secret (forward secrecy from the X25519 exchange).  The media sender picks the packet index
from which the new key applies (a little ahead of its stream, :data:`SWITCH_MARGIN`) and
sends it in an APP packet ``STSK`` in the same compound packet as its last STS message,
authenticated with ``HMAC-SHA256(HKDF(Ks, "ethvoip/sts/switch/v1"), SSRC || index)``; the
receiver re-keys its SRTP stream from exactly that index, so no packet is lost to the switch.

Both directions (:func:`sts_rekey_initiator`, :func:`sts_rekey_responder`): the callee's
stream gets its own master, ``HKDF-SHA256(Ks, "ethvoip/sts/srtp-master/back/v1")``, and the
callee announces its own switch index in an ``STSK`` for its SSRC right after the last STS
message arrived (the MAC covers the SSRC, so one direction's switch cannot pass for the other).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ethvoip.impl.crypto import ct_equal, hkdf_sha256, hmac_sha256
from ethvoip.impl.handshake import Completed, Env, RoleMachine, Sent, State, create
from ethvoip.impl.media.rtcp import RtcpApp, RtcpPacket
from ethvoip.impl.sip.ua import Address
from ethvoip.spec.errors import (
    Check,
    DecodeError,
    EthVoipError,
    MacInvalid,
    PeerRefused,
)

from .media import RtcpChannel
from .sas import machine_sas

STS_NAME = b"STS1"
SWITCH_NAME = b"STSK"
MASTER_INFO = b"ethvoip/sts/srtp-master/v1"
MASTER_BACK_INFO = b"ethvoip/sts/srtp-master/back/v1"
SWITCH_INFO = b"ethvoip/sts/switch/v1"
SWITCH_MARGIN = 10  # packets (200 ms) between announcing the new key and using it
MAC_LEN = 16


def srtp_master_from_sts(session_key: bytes) -> bytes:
    """The 30-byte SRTP master key || salt from the STS session key."""
    return hkdf_sha256(session_key, info=MASTER_INFO, length=30)


def srtp_back_master_from_sts(session_key: bytes) -> bytes:
    """The 30-byte SRTP master of the responder's (callee's) own stream."""
    return hkdf_sha256(session_key, info=MASTER_BACK_INFO, length=30)


@dataclass(frozen=True)
class Rekey:
    """What one end installs after STS: its sending key and the peer's, each from an index."""

    outcome: Completed
    send_master: bytes
    send_at: int
    recv_master: bytes
    recv_at: int
    sas: str  # the short authentication string of this STS run (:mod:`.sas`)


def wrap(message: bytes, step: int, ssrc: int) -> RtcpApp:
    data = len(message).to_bytes(2, "big") + message
    return RtcpApp(step, ssrc, STS_NAME, data + bytes(-len(data) % 4))


def unwrap(app: RtcpApp) -> bytes:
    if app.name != STS_NAME or len(app.data) < 2:
        raise DecodeError("RTCP APP: not an STS message")
    n = int.from_bytes(app.data[:2], "big")
    body, pad = app.data[2 : 2 + n], app.data[2 + n :]
    if len(body) != n or len(pad) > 3 or any(pad):
        raise DecodeError("RTCP APP: STS length and padding disagree")
    return body


def _switch_mac(session_key: bytes, ssrc: int, index: int) -> bytes:
    key = hkdf_sha256(session_key, info=SWITCH_INFO)
    msg = ssrc.to_bytes(4, "big") + index.to_bytes(8, "big")
    return hmac_sha256(key, msg)[:MAC_LEN]


def key_switch(session_key: bytes, ssrc: int, index: int) -> RtcpApp:
    """The authenticated "new key from packet ``index`` on" announcement."""
    data = index.to_bytes(8, "big") + _switch_mac(session_key, ssrc, index)
    return RtcpApp(0, ssrc, SWITCH_NAME, data)


def read_key_switch(app: RtcpApp, session_key: bytes, ssrc: int) -> int:
    if app.name != SWITCH_NAME or len(app.data) != 8 + MAC_LEN:
        raise DecodeError("RTCP APP: not a key switch")
    if app.ssrc != ssrc:
        raise PeerRefused("key switch for another SSRC", check=Check.STREAM_BINDING)
    index = int.from_bytes(app.data[:8], "big")
    if not ct_equal(app.data[8:], _switch_mac(session_key, ssrc, index)):
        raise MacInvalid("key switch MAC does not verify")
    return index


def _sent(events: list[object]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Sent)]


def _done(machine: RoleMachine) -> Completed:
    ev = machine.transcript[-1]
    assert isinstance(ev, Completed)
    return ev


async def sts_initiator(
    env: Env,
    peer: str,
    rtcp: RtcpChannel,
    dest: Address,
    ssrc: int,
    next_index: Callable[[], int],
    *,
    variant: str = "hardened",
) -> tuple[Completed, bytes, int]:
    """Run STS as the caller (the media sender); returns (outcome, new master, switch index).

    The caller re-keys its own SRTP sender from the returned index on.
    """
    _, done, master, at = await _initiate(env, peer, rtcp, dest, ssrc, next_index, variant)
    return done, master, at


async def _initiate(
    env: Env,
    peer: str,
    rtcp: RtcpChannel,
    dest: Address,
    ssrc: int,
    next_index: Callable[[], int],
    variant: str,
) -> tuple[RoleMachine, Completed, bytes, int]:
    machine = create("sts", variant, "I", env, B=peer)
    step = 1
    out = _sent(list(machine.start()))
    while machine.state is not State.DONE:
        rtcp.send([wrap(m, step, ssrc) for m in out], dest)
        step += len(out)
        packets, _ = await rtcp.receive()
        apps = [p for p in packets if isinstance(p, RtcpApp) and p.name == STS_NAME]
        if not apps:
            continue  # ordinary RTCP (reports) meanwhile
        if len(apps) != 1:
            raise DecodeError("want one STS message per RTCP packet")
        step = apps[0].subtype + 1
        out = _sent(list(machine.receive(unwrap(apps[0]))))
    done = _done(machine)
    at = next_index() + SWITCH_MARGIN
    final: list[RtcpPacket] = [wrap(m, step, ssrc) for m in out]
    rtcp.send([*final, key_switch(done.session_key, ssrc, at)], dest)
    return machine, done, srtp_master_from_sts(done.session_key), at


async def sts_responder(
    env: Env,
    peer: str,
    rtcp: RtcpChannel,
    stream_ssrc: int,
    own_ssrc: int,
    *,
    variant: str = "hardened",
) -> tuple[Completed, bytes, int]:
    """Run STS as the callee of the stream ``stream_ssrc`` in a call with ``peer``; returns
    (outcome, new master, index from which it applies to that stream)."""
    _, done, master, at, _ = await _respond(env, peer, rtcp, stream_ssrc, own_ssrc, variant)
    return done, master, at


def _responder_machine(env: Env, peer: str, variant: str) -> RoleMachine:
    # the unbound variant is told the peer too, and authenticates whoever message 1 names
    machine = create("sts", variant, "R", env, A=peer)
    machine.start()
    return machine


async def _respond(
    env: Env, peer: str, rtcp: RtcpChannel, stream_ssrc: int, own_ssrc: int, variant: str
) -> tuple[RoleMachine, Completed, bytes, int, Address]:
    machine = _responder_machine(env, peer, variant)
    while True:
        packets, source = await rtcp.receive()
        apps = [p for p in packets if isinstance(p, RtcpApp)]
        sts = [p for p in apps if p.name == STS_NAME]
        if not sts:
            continue  # ordinary RTCP (reports) meanwhile
        if len(sts) != 1:
            raise DecodeError("want one STS message per RTCP packet")
        try:
            out = _sent(list(machine.receive(unwrap(sts[0]))))
        except EthVoipError as err:
            if machine.done_labels:
                raise  # a run under way with the peer failed: the re-key failed
            # a first message refused (another caller, garbage): count it, wait on
            rtcp.dropped["sts"] += 1
            rtcp.last_refusal = err
            machine = _responder_machine(env, peer, variant)
            continue
        if machine.state is State.DONE:
            break
        rtcp.send([wrap(m, sts[0].subtype + 1 + i, own_ssrc) for i, m in enumerate(out)], source)
    done = _done(machine)
    switches = [p for p in apps if p.name == SWITCH_NAME]
    if len(switches) != 1:
        raise DecodeError("the last STS message came without its key switch")
    at = read_key_switch(switches[0], done.session_key, stream_ssrc)
    return machine, done, srtp_master_from_sts(done.session_key), at, source


async def sts_rekey_initiator(
    env: Env,
    peer: str,
    rtcp: RtcpChannel,
    dest: Address,
    own_ssrc: int,
    next_index: Callable[[], int],
    peer_ssrc: int,
    *,
    variant: str = "hardened",
) -> Rekey:
    """STS as the caller, then the callee's switch for its stream ``peer_ssrc``: both ways."""
    machine, done, master, at = await _initiate(
        env, peer, rtcp, dest, own_ssrc, next_index, variant
    )
    while True:
        packets, _ = await rtcp.receive()
        switches = [p for p in packets if isinstance(p, RtcpApp) and p.name == SWITCH_NAME]
        if len(switches) == 1:
            back_at = read_key_switch(switches[0], done.session_key, peer_ssrc)
            back = srtp_back_master_from_sts(done.session_key)
            return Rekey(done, master, at, back, back_at, machine_sas(machine, env.key))


async def sts_rekey_responder(
    env: Env,
    peer: str,
    rtcp: RtcpChannel,
    peer_ssrc: int,
    own_ssrc: int,
    next_index: Callable[[], int],
    *,
    variant: str = "hardened",
) -> Rekey:
    """STS as the callee of stream ``peer_ssrc`` in a call with ``peer``, then announce our own
    stream's switch."""
    machine, done, master, at, source = await _respond(
        env, peer, rtcp, peer_ssrc, own_ssrc, variant
    )
    back_at = next_index() + SWITCH_MARGIN
    rtcp.send([key_switch(done.session_key, own_ssrc, back_at)], source)
    back = srtp_back_master_from_sts(done.session_key)
    return Rekey(done, back, back_at, master, at, machine_sas(machine, env.key))
