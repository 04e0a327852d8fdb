"""The media key in the INVITE's SDP (paper III.D.2, Fig. 6 and 8), both variants.

The mikey_key_transport role machines produce and check the key attribute's value
(:mod:`ethvoip.impl.handshake.mikey`); this module puts it into an SDP offer and takes it out
again, and builds the INVITE-header record (``I_2``/``R_1``) from the SIP From and To, so
that the names the MIKEY machine checks are those of the SIP request that carried it.

* ``hardened``: ``a=key-mgmt:mikey <base64 I_MESSAGE>`` (RFC 4567) on the audio media,
  profile ``RTP/SAVP`` (RFC 3711);
* ``paper`` (only when asked for): ``a=k:<HEX>`` at session level with ``RTP/AVP``, as the
  capture of Fig. 8 shows;
* ``sdes`` (the benchmark's baseline, not the paper's): ``a=crypto:`` (RFC 4568; the
  benchmark's testbed parses its value) on the audio media with ``RTP/SAVP``; each side's
  attribute is the key it sends with.

Mutual authentication (hardened): the offer's I_MESSAGE sets the V flag and the answer carries
the callee's RFC 3830 R_MESSAGE in its own ``a=key-mgmt:mikey`` (RFC 4567 puts the
responder's message in the answer); the caller refuses an answer without a valid one
(:func:`r_message`, :func:`check_r_message`, :mod:`ethvoip.impl.media.mikey_verify`).

Both directions carry media, each with its own SSRC and key.  The answer names the callee's
SSRC with ``a=ssrc:<n> cname:<user>`` (RFC 5576).  The callee's stream key: hardened, crypto
session 2 of the same MIKEY CSB (RFC 3830 section 4.1.3 derives a separate TEK per CS ID
from the TGK, so the two directions never share a key); paper, the one ``a=k:`` key K (the
paper sends one key; the two streams differ only by SSRC); sdes, the answer's own key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ethvoip.impl import wire
from ethvoip.impl.handshake.machine import Value
from ethvoip.impl.handshake.mikey import FRESHNESS_WINDOW, mikey_id, srtp_master
from ethvoip.impl.media import sdp
from ethvoip.impl.media.bare_key import ATTRIBUTE as BARE_ATTRIBUTE
from ethvoip.impl.media.mikey import decode_message
from ethvoip.impl.media.mikey_kdf import derive_srtp_master
from ethvoip.impl.media.mikey_verify import build_r_message, verify_r_message
from ethvoip.impl.media.packetize import PT_PCMA, RATE
from ethvoip.impl.sip.fields import SipUri
from ethvoip.impl.wire import Tag
from ethvoip.spec.errors import Check, CryptoRefused, DecodeError, LocalProtocolError

VARIANTS = ("paper", "hardened", "sdes")
PROFILE = {"paper": "RTP/AVP", "hardened": "RTP/SAVP", "sdes": "RTP/SAVP"}
SDES_ATTRIBUTE = "crypto"  # RFC 4568 section 9.1: a=crypto:<value>
CALLEE_CS_ID = 2  # the callee's stream in the MIKEY CSB (the caller's is CS 1)


@dataclass(frozen=True)
class MediaOffer:
    """What one side's SDP says about its audio stream and key."""

    host: str
    port: int
    key: bytes | None  # the key attribute's value as the MIKEY machine reads it
    ssrc: int | None = None  # a=ssrc (RFC 5576), the SSRC its sender will use


def _check(variant: str) -> None:
    if variant not in VARIANTS:
        raise LocalProtocolError(f"unknown key transport variant {variant!r}")


def build_sdp(
    *,
    user: str,
    host: str,
    rtp_port: int,
    variant: str,
    key: bytes | None,
    sess_id: int,
    ssrc: int | None = None,
) -> bytes:
    """An offer (with ``key``, the machine's ``I_3``) or an answer (``key=None``; for sdes the
    answer's own ``a=crypto`` value); ``ssrc`` adds ``a=ssrc:<ssrc> cname:<user>``."""
    _check(variant)
    session_attrs: tuple[sdp.Attribute, ...] = ()
    media_attrs = [sdp.Attribute("rtpmap", f"{PT_PCMA} PCMA/{RATE}"), sdp.Attribute("ptime", "20")]
    if ssrc is not None:
        media_attrs.append(sdp.Attribute("ssrc", f"{ssrc} cname:{user}"))
    if key is not None and variant == "hardened":
        media_attrs.insert(0, sdp.key_mgmt_attribute(key))
    elif key is not None and variant == "sdes":
        media_attrs.insert(0, sdp.Attribute(SDES_ATTRIBUTE, key.decode("ascii")))
    elif key is not None:
        session_attrs = (sdp.Attribute(BARE_ATTRIBUTE, key.decode("ascii")),)
    desc = sdp.SessionDescription(
        origin=sdp.Origin(user, sess_id, 1, host),
        session_name="ethvoip",
        connection=sdp.Connection(host),
        attributes=session_attrs,
        media=(
            sdp.Media(
                "audio", rtp_port, PROFILE[variant], (str(PT_PCMA),), attributes=tuple(media_attrs)
            ),
        ),
    )
    return sdp.encode_sdp(desc).encode()


def read_sdp(body: bytes, variant: str) -> MediaOffer:
    """The audio stream and key attribute of an SDP body (DecodeError if unusable)."""
    _check(variant)
    desc = sdp.decode_sdp(body)
    audio = [i for i, m in enumerate(desc.media) if m.media == "audio"]
    if len(audio) != 1:
        raise DecodeError("SDP: want exactly one audio stream")
    media = desc.media[audio[0]]
    if media.proto != PROFILE[variant] or str(PT_PCMA) not in media.formats:
        raise DecodeError(f"SDP: want {PROFILE[variant]} with PCMA, got {media.proto}")
    conn = media.connection or desc.connection
    if conn is None:
        raise DecodeError("SDP: no connection address")
    if variant == "hardened":
        key = sdp.mikey_from_sdp(desc, audio[0])
    else:
        attr = SDES_ATTRIBUTE if variant == "sdes" else BARE_ATTRIBUTE
        value = desc.attribute(attr, audio[0])
        if value is not None and not value.isascii():
            raise DecodeError(f"SDP: a={attr} value is not ASCII")
        key = value.encode("ascii") if value is not None else None
    return MediaOffer(conn.address, media.port, key, _ssrc(desc.attribute("ssrc", audio[0])))


def _ssrc(value: str | None) -> int | None:
    if value is None:
        return None
    head = value.split(" ", 1)[0]
    if not head.isdigit() or len(head) > 10 or int(head) >= 1 << 32:
        raise DecodeError(f"SDP: a=ssrc {value!r} does not start with a 32-bit SSRC")
    return int(head)


def stream_masters(variant: str, bindings: Mapping[str, Value]) -> tuple[bytes, bytes]:
    """(caller's stream master, callee's stream master) of a finished MIKEY run, either role."""
    caller = srtp_master(variant, bindings)
    if variant == "paper":
        return caller, caller
    k, csb, rand = bindings["K"], bindings["CSB"], bindings["RAND"]
    assert isinstance(k, bytes) and isinstance(csb, bytes) and isinstance(rand, bytes)
    key, salt = derive_srtp_master(k, CALLEE_CS_ID, int.from_bytes(csb, "big"), rand)
    return caller, key + salt


def invite_record(from_uri: str, to_uri: str) -> bytes:
    """The ``I_2`` / ``R_1`` record: the users of the INVITE's From and To URIs."""
    caller, callee = SipUri.parse(from_uri).user, SipUri.parse(to_uri).user
    if not caller or not callee:
        raise DecodeError("INVITE From/To without a user part")
    return wire.encode(Tag.MIKEY_INVITE, caller, callee)


@dataclass(frozen=True)
class _Verify:
    """The values an R_MESSAGE is built and checked with, from a finished hardened run."""

    env_key: bytes
    csb_id: int
    rand: bytes
    id_i: bytes
    id_r: bytes
    t_i: int


def _verify_values(bindings: Mapping[str, Value]) -> _Verify:
    got = [bindings.get(n) for n in ("Kenv", "CSB", "RAND", "T")]
    kenv, csb, rand, t = (v if isinstance(v, bytes) else None for v in got)
    if kenv is None or csb is None or rand is None or t is None:
        raise LocalProtocolError("the MIKEY run holds no envelope key, CSB, RAND or T")
    a, b = mikey_id(str(bindings["A"])), mikey_id(str(bindings["B"]))
    return _Verify(kenv, int.from_bytes(csb, "big"), rand, a, b, int.from_bytes(t, "big"))


def r_message(bindings: Mapping[str, Value], offer_key: bytes, now: float) -> bytes | None:
    """The callee's R_MESSAGE for a finished hardened run, if the offer's V flag asked."""
    offer = decode_message(offer_key)
    if not offer.header.v_flag:
        return None
    v = _verify_values(bindings)
    return build_r_message(
        env_key=v.env_key,
        csb_id=v.csb_id,
        rand=v.rand,
        crypto_sessions=offer.header.crypto_sessions,
        id_i=v.id_i,
        id_r=v.id_r,
        t_i=v.t_i,
        now=now,
    )


def check_r_message(bindings: Mapping[str, Value], answer_key: bytes | None, now: float) -> None:
    """The caller's check of the answer's R_MESSAGE (its offer always asks for one)."""
    if answer_key is None:
        raise CryptoRefused(
            "MIKEY: the answer carries no R_MESSAGE (mutual authentication)",
            check=Check.REQUIRED,
        )
    v = _verify_values(bindings)
    verify_r_message(
        answer_key,
        env_key=v.env_key,
        csb_id=v.csb_id,
        rand=v.rand,
        id_i=v.id_i,
        id_r=v.id_r,
        t_i=v.t_i,
        now=now,
        window=FRESHNESS_WINDOW,
    )
