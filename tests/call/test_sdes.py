"""The strict RFC 4568 ``a=crypto`` codec: the RFC's own example lines, refusals, fuzzing."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.testbed import sdes
from ethvoip.spec.errors import DecodeError, EthVoipError, RemoteProtocolError

# RFC 4568 section 9.1 (the example offer) and section 6.1 (lifetime omitted, MKI 1066:4).
RFC_9_1 = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"
RFC_6_1 = "1 AES_CM_128_HMAC_SHA1_80 inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|1066:4"


def test_rfc_4568_examples_decode_and_re_encode_byte_for_byte() -> None:
    a = sdes.decode_crypto(RFC_9_1)
    assert (a.tag, a.suite) == (1, "AES_CM_128_HMAC_SHA1_80")
    (key,) = a.keys
    assert key.lifetime_packets == 1 << 20 and key.mki == (1, 4)
    assert sdes.encode_crypto(a) == RFC_9_1
    b = sdes.decode_crypto(RFC_6_1)
    # section 6.1 spells the key out: "aBCdefghiJKLmoPQrsTuVwyz123456" (30 octets)
    assert b.keys[0].key_salt == b"aBCdefghiJKLmoPQrsTuVwyz123456"
    assert b.keys[0].lifetime is None and b.keys[0].mki == (1066, 4)
    assert sdes.encode_crypto(b) == RFC_6_1


@pytest.mark.parametrize(
    "bad",
    [
        "1 AES_CM_128_HMAC_SHA1_80",  # no key
        "1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 NULL_CIPHER inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 AES_CM_128_HMAC_SHA1_80 uri:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB",  # 29.25 B
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(b"k" * 31).decode(),
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^49",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|256:1",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:129",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4|2^20",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR;"
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",  # two keys without MKIs
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=25",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR WSH=10",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR BOGUS",
        " 1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\x00",
    ],
)
def test_bad_attributes_are_refused(bad: str) -> None:
    with pytest.raises(DecodeError):
        sdes.decode_crypto(bad)


def test_session_parameters_of_section_6_3_are_read_but_not_used() -> None:
    value = RFC_9_1 + " KDR=10 UNENCRYPTED_SRTCP FEC_ORDER=FEC_SRTP WSH=128"
    attr = sdes.decode_crypto(value)
    assert attr.session_params == ("KDR=10", "UNENCRYPTED_SRTCP", "FEC_ORDER=FEC_SRTP", "WSH=128")
    with pytest.raises(RemoteProtocolError):
        sdes.srtp_master(attr)  # our SRTP runs none of them


def test_our_offer_gives_back_its_key() -> None:
    key = bytes(range(30))
    assert sdes.srtp_master(sdes.decode_crypto(sdes.offer(key))) == key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_fuzz_decode_is_typed_and_canonical(text: str) -> None:
    try:
        attr = sdes.decode_crypto(text)
    except EthVoipError:
        return
    again = sdes.encode_crypto(attr)
    assert sdes.decode_crypto(again) == attr


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=30, max_size=30), st.integers(0, 999_999_999))
def test_fuzz_offer_round_trip(key: bytes, tag: int) -> None:
    assert sdes.decode_crypto(sdes.offer(key, tag)).keys[0].key_salt == key
