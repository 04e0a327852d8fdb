"""Fuzzing the call layer's decoders: frame headers, STS-in-RTCP-APP, the key switch, SDP
offers.  Anything but a well-formed input raises a typed EthVoipError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.call.framing import MAX_FRAME, encode_frame, frame_length
from ethvoip.impl.call.keying import PROFILE, build_sdp, check_r_message, invite_record, read_sdp
from ethvoip.impl.call.media import ForeignSource, RtcpChannel
from ethvoip.impl.call.sts_rtcp import key_switch, read_key_switch, unwrap, wrap
from ethvoip.impl.media.rtcp import RtcpApp, encode_rtcp
from ethvoip.impl.media.srtp import SrtpReceiver, SrtpSender
from ethvoip.spec.errors import (
    Check,
    CryptoError,
    CryptoRefused,
    DecodeError,
    EthVoipError,
    LocalProtocolError,
    RemoteProtocolError,
    ReplayError,
)
from tests.refusals import refused

KS = bytes(range(32))


def test_frame_round_trip_and_limits() -> None:
    assert frame_length(encode_frame(b"x" * 300)[:2]) == 300
    for bad in (b"\x00\x00", (MAX_FRAME + 1).to_bytes(2, "big"), b"\x01"):
        with pytest.raises(DecodeError):
            frame_length(bad)


@given(st.binary(max_size=3))
def test_frame_header_fuzz(data: bytes) -> None:
    try:
        n = frame_length(data)
    except DecodeError:
        return
    assert len(data) == 2 and 0 < n <= MAX_FRAME


@given(st.binary(min_size=1, max_size=200))
def test_sts_app_round_trip(msg: bytes) -> None:
    app = wrap(msg, 2, 7)
    assert len(app.data) % 4 == 0 and unwrap(app) == msg


@settings(max_examples=100)
@given(st.binary(max_size=64), st.binary(min_size=4, max_size=4))
def test_sts_app_fuzz(data: bytes, name: bytes) -> None:
    try:
        unwrap(RtcpApp(1, 7, name, data))
    except DecodeError:
        return
    assert name == b"STS1"


def test_key_switch_is_authenticated() -> None:
    app = key_switch(KS, 0x1234, 77)
    assert read_key_switch(app, KS, 0x1234) == 77
    moved = RtcpApp(0, 0x1234, b"STSK", (78).to_bytes(8, "big") + app.data[8:])
    with pytest.raises(CryptoError):
        read_key_switch(moved, KS, 0x1234)  # an attacker cannot move the switch point
    with pytest.raises(CryptoError):
        read_key_switch(app, bytes(32), 0x1234)  # nor make one without the STS key
    with pytest.raises(RemoteProtocolError, match="another SSRC"):
        read_key_switch(app, KS, 0x9999)


@settings(max_examples=100)
@given(st.data())
def test_sdp_offer_fuzz(data: st.DataObject) -> None:
    variant = data.draw(st.sampled_from(["paper", "hardened"]))
    key = b"ABCD" if variant == "paper" else b"\x01\x02\x03"
    good = build_sdp(user="u", host="127.0.0.1", rtp_port=4000, variant=variant, key=key, sess_id=1)
    assert read_sdp(good, variant).key == key
    i = data.draw(st.integers(0, len(good) - 1))
    bad = good[:i] + bytes([good[i] ^ data.draw(st.integers(1, 255))]) + good[i + 1 :]
    try:
        offer = read_sdp(bad, variant)
    except EthVoipError:
        return  # the only way to refuse
    assert 0 <= offer.port < 1 << 16


@pytest.mark.parametrize(("variant", "key"), [("paper", b"ABCD"), ("hardened", b"\x01\x02\x03")])
def test_sdp_of_another_profile_or_without_pcma_is_refused(variant: str, key: bytes) -> None:
    good = build_sdp(user="u", host="127.0.0.1", rtp_port=4000, variant=variant, key=key, sess_id=1)
    assert read_sdp(good, variant).key == key
    mine = PROFILE[variant].encode()
    other = b"RTP/SAVP" if mine == b"RTP/AVP" else b"RTP/AVP"
    assert b" " + mine + b" 8\r\n" in good
    with pytest.raises(DecodeError, match="PCMA"):  # a plain stream offered as SRTP, or back
        read_sdp(good.replace(b" " + mine + b" ", b" " + other + b" "), variant)
    with pytest.raises(DecodeError, match="PCMA"):  # no codec both ends speak
        read_sdp(good.replace(mine + b" 8\r\n", mine + b" 0\r\n"), variant)


@pytest.mark.parametrize(
    ("ssrc", "ok"),
    [
        ("4294967295", True),  # the largest 32-bit SSRC
        ("0", True),
        ("4294967296", False),  # 2^32
        ("00000000001", False),  # 11 digits, however small
        ("12a", False),
        ("-1", False),
    ],
)
def test_sdp_ssrc_is_a_32_bit_decimal(ssrc: str, ok: bool) -> None:
    good = build_sdp(
        user="u", host="127.0.0.1", rtp_port=4000, variant="paper", key=b"AB", sess_id=1, ssrc=5
    )
    body = good.replace(b"a=ssrc:5 ", f"a=ssrc:{ssrc} ".encode())
    if ok:
        assert read_sdp(body, "paper").ssrc == int(ssrc)
        return
    with pytest.raises(DecodeError, match="32-bit SSRC"):
        read_sdp(body, "paper")


@pytest.mark.parametrize(
    ("from_uri", "to_uri"), [("sip:example.com", "sip:bob@example.com"), ("sip:a@x", "sip:x")]
)
def test_invite_record_needs_both_users(from_uri: str, to_uri: str) -> None:
    assert invite_record("sip:alice@x", "sip:bob@x")
    with pytest.raises(DecodeError, match="without a user part"):
        invite_record(from_uri, to_uri)


_RUN = {"Kenv": b"k" * 16, "CSB": b"\x00\x00\x00\x01", "RAND": b"r" * 16, "T": bytes(8)}
_RUN |= {"A": "+96176661367", "B": "+96170412611"}


def test_the_caller_requires_the_answers_r_message() -> None:
    with refused(Check.REQUIRED, CryptoRefused):
        check_r_message(_RUN, None, 0.0)


@pytest.mark.parametrize("missing", ["Kenv", "CSB", "RAND", "T"])
def test_checking_an_r_message_needs_every_value_of_the_run(missing: str) -> None:
    # a MIKEY run that did not bind one of them cannot check an R_MESSAGE (a local error,
    # never a check made with a default in its place)
    with pytest.raises(LocalProtocolError, match="holds no envelope key"):
        check_r_message({k: v for k, v in _RUN.items() if k != missing}, b"\x01", 0.0)


# --- the call's RTCP port: source, SRTCP, RTCP syntax -----------------------------------------

PEER = ("127.0.0.1", 40001)
MASTER_A, MASTER_B = bytes(range(30)), bytes(range(1, 31))


def _bound_channel() -> tuple[RtcpChannel, SrtpSender]:
    """Our port, bound to PEER whose stream (SSRC 7) is keyed MASTER_A; ``peer`` is its sender."""
    ch = RtcpChannel()
    rx = SrtpReceiver(MASTER_A, 7)
    ch.bind_call(PEER, SrtpSender(MASTER_B, 9), lambda: rx)
    return ch, SrtpSender(MASTER_A, 7)


@given(st.binary(max_size=1600), st.booleans())
def test_bound_rtcp_port_fuzz(data: bytes, from_peer: bool) -> None:
    ch, _ = _bound_channel()
    source = PEER if from_peer else ("127.0.0.1", 40003)
    with pytest.raises(EthVoipError) as err:
        ch.open(data, source)
    if not from_peer:
        assert isinstance(err.value, ForeignSource)


def test_bound_rtcp_port_opens_the_peers_srtcp_only() -> None:
    ch, peer = _bound_channel()
    app = RtcpApp(0, 7, b"STS1", b"\0" * 8)
    wire = peer.protect_rtcp(encode_rtcp([app]))
    assert ch.open(wire, PEER) == [app]
    with pytest.raises(ForeignSource):
        ch.open(wire, ("127.0.0.1", PEER[1] + 2))
    with pytest.raises(ReplayError):
        ch.open(wire, PEER)  # the same SRTCP index again


def test_sts_app_length_and_padding_are_exact() -> None:
    assert unwrap(RtcpApp(1, 7, b"STS1", b"\x00\x00")) == b""  # the shortest: no body, no pad
    for data, message in (
        (b"\x00", "not an STS message"),  # shorter than the length field
        (b"\x00\x02ab\x00\x00\x00\x00", "padding disagree"),  # 4 bytes of padding
        (b"\x00\x02ab\x01\x00", "padding disagree"),  # padding that is not zero
        (b"\x00\x05ab", "padding disagree"),  # shorter than announced
    ):
        with pytest.raises(DecodeError, match=message):
            unwrap(RtcpApp(1, 7, b"STS1", data))
    with pytest.raises(DecodeError, match="not an STS message"):
        unwrap(RtcpApp(1, 7, b"STSK", b"\x00\x02ab\x00\x00"))


def test_key_switch_must_be_named_and_sized_as_one() -> None:
    app = key_switch(KS, 0x1234, 77)
    renamed = RtcpApp(app.subtype, app.ssrc, b"STS1", app.data)  # right MAC, wrong name
    longer = RtcpApp(app.subtype, app.ssrc, app.name, app.data + b"\x00\x00\x00\x00")
    for bad in (renamed, longer):
        with pytest.raises(DecodeError, match="not a key switch"):
            read_key_switch(bad, KS, 0x1234)


def test_unknown_key_transport_variant_is_refused_both_ways() -> None:
    with pytest.raises(LocalProtocolError, match="unknown key transport variant"):
        build_sdp(user="u", host="127.0.0.1", rtp_port=4000, variant="zrtp", key=None, sess_id=1)
    good = build_sdp(
        user="u", host="127.0.0.1", rtp_port=4000, variant="paper", key=None, sess_id=1
    )
    with pytest.raises(LocalProtocolError, match="unknown key transport variant"):
        read_sdp(good, "zrtp")
