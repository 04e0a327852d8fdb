"""SDP codec (RFC 4566 subset), RFC 4567 key-mgmt and the paper's a=k: attribute."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.crypto import IdentityKey, decrypt_with, encrypt_to, seeded_rng
from ethvoip.impl.media import sdp
from ethvoip.impl.media.bare_key import decode_bare_key, encode_bare_key
from ethvoip.spec.errors import CryptoError, DecodeError, LocalProtocolError

# The SDP of the paper's Fig. 8 (the capture shows the parsed fields; the o= line's session
# id and version are not shown there and are filled in, and a=k is truncated in the figure).
FIG8 = (
    "v=0\r\n"
    "o=+96176661367 1 1 IN IP4 ip-198.12-156-156.ip.secureserver.net\r\n"
    "s=Session SIP/SDP\r\n"
    "c=IN IP4 192.168.1.67\r\n"
    "t=0 0\r\n"
    "a=k:14060CDC5BAF51E225F427B7DC89373646B7C2D3016A\r\n"
    "m=audio 21000 RTP/AVP 8 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
)


def test_parse_fig8() -> None:
    sd = sdp.decode_sdp(FIG8)
    assert sd.origin.username == "+96176661367"
    assert sd.session_name == "Session SIP/SDP"
    assert sd.connection == sdp.Connection("192.168.1.67")
    assert sd.timing == ((0, 0),)
    assert sd.attribute("k") == "14060CDC5BAF51E225F427B7DC89373646B7C2D3016A"
    (audio,) = sd.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == (
        "audio",
        21000,
        "RTP/AVP",
        ("8", "101"),
    )
    assert sdp.parse_rtpmap(sd.attribute("rtpmap", 0) or "") == sdp.RtpMap(8, "PCMA", 8000)
    assert sdp.encode_sdp(sd) == FIG8


def test_bare_lf_is_tolerated_and_reencoded_with_crlf() -> None:
    sd = sdp.decode_sdp(FIG8.replace("\r\n", "\n"))
    assert sdp.encode_sdp(sd) == FIG8


def test_rfc4566_example_is_outside_the_subset() -> None:
    # RFC 4566 section 5's example uses i=, u= and e=: refused, not silently dropped.
    example = (
        "v=0\r\no=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\ns=SDP Seminar\r\n"
        "i=A Seminar on the session description protocol\r\n"
        "u=http://www.example.com/seminars/sdp.pdf\r\ne=j.doe@example.com (Jane Doe)\r\n"
        "c=IN IP4 224.2.17.12/127\r\nt=2873397496 2873404696\r\na=recvonly\r\n"
        "m=audio 49170 RTP/AVP 0\r\nm=video 51372 RTP/AVP 99\r\na=rtpmap:99 h263-1998/90000\r\n"
    )
    with pytest.raises(DecodeError):
        sdp.decode_sdp(example)
    kept = "".join(
        line + "\r\n" for line in example.split("\r\n") if line[:2] not in ("i=", "u=", "e=", "")
    )
    with pytest.raises(DecodeError, match="not an IP literal"):  # multicast TTL: not a call's
        sdp.decode_sdp(kept)
    kept = kept.replace("224.2.17.12/127", "224.2.17.12")
    sd = sdp.decode_sdp(kept)
    assert sd.attributes == (sdp.Attribute("recvonly"),)
    assert [m.media for m in sd.media] == ["audio", "video"]
    assert sdp.parse_rtpmap(sd.attribute("rtpmap", 1) or "") == sdp.RtpMap(99, "h263-1998", 90000)


@pytest.mark.parametrize(
    "bad",
    [
        FIG8.replace("v=0", "v=1"),
        FIG8[len("v=0\r\n") :],  # no v=
        FIG8.replace("s=Session SIP/SDP", "s="),
        FIG8.replace("t=0 0\r\n", ""),
        FIG8.replace("c=IN IP4 192.168.1.67\r\n", ""),  # media without any c=
        FIG8.replace("c=IN IP4", "c=IN IPX"),
        FIG8.replace("21000", "70000"),
        FIG8.replace("RTP/AVP 8 101", "RTP/AVP"),
        FIG8 + "b=AS:64\r\n",
        FIG8 + "x\r\n",
        FIG8 + "a=\r\n",
        FIG8[:-2],  # unterminated
        FIG8.replace("\r\n", "\n", 1),  # mixed line ends
        FIG8.replace("t=0 0\r\n", "t=0 0\r\nc=IN IP4 1.2.3.4\r\n"),  # out of order
        FIG8.replace("o=+96176661367 1 1", "o=+96176661367 x 1"),
        FIG8 + "\r\n",  # empty line
    ],
)
def test_rejects(bad: str) -> None:
    with pytest.raises(DecodeError):
        sdp.decode_sdp(bad)


def test_rejects_non_utf8() -> None:
    with pytest.raises(DecodeError):
        sdp.decode_sdp(FIG8.encode() + b"a=\xff\r\n")


def test_encoder_refuses_what_cannot_parse_back() -> None:
    sd = sdp.decode_sdp(FIG8)
    with pytest.raises(LocalProtocolError):
        sdp.encode_sdp(sdp.SessionDescription(sd.origin, "bad\r\nname", sd.connection))
    with pytest.raises(LocalProtocolError):
        sdp.encode_sdp(
            sdp.SessionDescription(
                sd.origin, "x", sd.connection, attributes=(sdp.Attribute("a b"),)
            )
        )


def test_key_mgmt_round_trip_and_errors() -> None:
    mikey = bytes(range(40))
    sd = sdp.decode_sdp(FIG8)
    sd2 = sdp.SessionDescription(
        sd.origin,
        sd.session_name,
        sd.connection,
        attributes=(sdp.key_mgmt_attribute(mikey),),
        media=sd.media,
    )
    text = sdp.encode_sdp(sd2)
    assert "a=key-mgmt:mikey " + base64.b64encode(mikey).decode() + "\r\n" in text
    assert sdp.mikey_from_sdp(sdp.decode_sdp(text)) == mikey
    assert sdp.mikey_from_sdp(sd) is None
    for value in ("zrtp AAAA", "mikey", "mikey !!notbase64!!"):
        bad = sdp.SessionDescription(
            sd.origin, "x", sd.connection, attributes=(sdp.Attribute("key-mgmt", value),)
        )
        with pytest.raises(DecodeError):
            sdp.mikey_from_sdp(bad)


def test_paper_bare_key_with_ecies() -> None:
    bob = IdentityKey.generate(seeded_rng(b"bob"))
    master = bytes(range(30))
    value = encode_bare_key(master, lambda k: encrypt_to(bob.public_key, k, rng=seeded_rng(b"e")))
    assert value == value.upper() and master.hex().upper() not in value
    assert decode_bare_key(value, lambda c: decrypt_with(bob, c)) == master
    other = IdentityKey.generate(seeded_rng(b"eve"))
    with pytest.raises(CryptoError):
        decode_bare_key(value, lambda c: decrypt_with(other, c))
    for bad in ("", "abc", "zz", "0x00"):
        with pytest.raises(DecodeError):
            decode_bare_key(bad, lambda c: decrypt_with(bob, c))
    with pytest.raises(CryptoError):  # a primitive that fails with its own exception type
        decode_bare_key("00", lambda c: bytes.fromhex("zz"))
    with pytest.raises(DecodeError):  # decrypts, but not to a 30-byte master key
        decode_bare_key("00", lambda c: b"short")


# --- properties -----------------------------------------------------------------------------

token = st.text(alphabet="abcXYZ019-+._~", min_size=1, max_size=8)
text = st.text(
    alphabet=st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"]),
    min_size=1,
    max_size=12,
)
conn = st.one_of(
    st.ip_addresses(v=4).map(lambda ip: sdp.Connection(str(ip))),
    st.ip_addresses(v=6).map(lambda ip: sdp.Connection(str(ip), addrtype="IP6")),
)
attr = st.builds(sdp.Attribute, token, st.one_of(st.none(), text))
media = st.builds(
    sdp.Media,
    token,
    st.integers(0, 65535),
    st.sampled_from(["RTP/AVP", "RTP/SAVP", "udp"]),
    st.lists(token, min_size=1, max_size=3).map(tuple),
    conn,
    st.lists(attr, max_size=3).map(tuple),
)
sessions = st.builds(
    sdp.SessionDescription,
    st.builds(sdp.Origin, token, st.integers(0, 2**63), st.integers(0, 2**63), token),
    text,
    st.one_of(st.none(), conn),
    st.lists(st.tuples(st.integers(0, 2**32), st.integers(0, 2**32)), min_size=1, max_size=2).map(
        tuple
    ),
    st.lists(attr, max_size=3).map(tuple),
    st.lists(media, max_size=3).map(tuple),
)


@given(sessions)
def test_round_trip(sd: sdp.SessionDescription) -> None:
    assert sdp.decode_sdp(sdp.encode_sdp(sd)) == sd


@given(st.text(alphabet="vosctmab=0123 IN4P/:\r\n", max_size=200))
def test_fuzz_text(data: str) -> None:
    with contextlib.suppress(DecodeError):
        sdp.decode_sdp(data)


@given(st.binary(max_size=200))
def test_fuzz_bytes(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        sdp.decode_sdp(data)


@given(st.lists(st.sampled_from(FIG8.split("\r\n")[:-1]), max_size=12))
def test_fuzz_shuffled_lines(lines: list[str]) -> None:
    try:
        sd = sdp.decode_sdp("".join(line + "\r\n" for line in lines))
    except DecodeError:
        return
    assert sdp.decode_sdp(sdp.encode_sdp(sd)) == sd
