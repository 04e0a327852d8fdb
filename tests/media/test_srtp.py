"""SRTP: our key derivation against RFC 3711 Appendix B, then libsrtp's output re-derived
byte for byte from those keys by an independent transform written here (AES-CM per section
4.1.1, HMAC-SHA1-80 per 4.2), then replay, tamper and re-keying behaviour."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.media.rtcp import RtcpApp, encode_rtcp
from ethvoip.impl.media.rtp import RtpPacket, decode_rtp, encode_rtp
from ethvoip.impl.media.srtp import SrtpReceiver, SrtpSender
from ethvoip.impl.media.srtp_kdf import aes_cm, aes_cm_iv, derive, packet_iv, session_keys
from ethvoip.spec.errors import CryptoError, DecodeError, LocalProtocolError, ReplayError

# RFC 3711 Appendix B.3 (key derivation test vectors).
B3_KEY = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139")
B3_SALT = bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")
B3_CIPHER_KEY = "C61E7A93744F39EE10734AFE3FF7A087"
B3_CIPHER_SALT = "30CBBC08863D8C85D49DB34A9AE1"
B3_AUTH_KEY = (
    "CEBE321F6FF7716B6FD4AB49AF256A15"
    "6D38BAA48F0A0ACF3C34E2359E6CDBCE"
    "E049646C43D9327AD175578EF7227098"
    "6371C10C9A369AC2F94A8C5FBCDDDC25"
    "6D6E919A48B610EF17C2041E47403576"
    "6B68642C59BBFC2F34DB60DBDFB2"
)
# RFC 3711 Appendix B.2 (AES-CM test vectors): session key, salt, keystream blocks by counter.
B2_KEY = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
B2_SALT = bytes.fromhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD")
B2_BLOCKS = {
    0x0000: "E03EAD0935C95E80E166B16DD92B4EB4",
    0x0001: "D23513162B02D0F72A43A2FE4A5F97AB",
    0x0002: "41E95B3BB0A2E8DD477901E4FCA894C0",
    0xFEFF: "EC8CDF7398607CB0F2D21675EA9EA1E4",
    0xFF00: "362B7C3C6773516318A077D7FC5073AE",
    0xFF01: "6A2CC3787889374FBEB4C81B17BA6C44",
}
MASTER = B3_KEY + B3_SALT
SSRC = 0xCAFEF00D


def test_key_derivation_rfc3711_b3() -> None:
    keys = session_keys(B3_KEY, B3_SALT)
    assert keys.encr.hex().upper() == B3_CIPHER_KEY
    assert keys.salt.hex().upper() == B3_CIPHER_SALT
    assert derive(B3_KEY, B3_SALT, 1, 94).hex().upper() == B3_AUTH_KEY
    assert keys.auth.hex().upper() == B3_AUTH_KEY[:40]


def test_aes_cm_rfc3711_b2() -> None:
    stream = aes_cm(B2_KEY, packet_iv(B2_SALT, 0, 0), 16 * 0xFF02)
    for n, block in B2_BLOCKS.items():
        assert stream[16 * n : 16 * (n + 1)].hex().upper() == block


# --- the independent reference transform ----------------------------------------------------


def reference_srtp(master: bytes, rtp: bytes, roc: int) -> bytes:
    keys = session_keys(master[:16], master[16:])
    hdr_len = 12 + 4 * (rtp[0] & 0x0F)
    seq = int.from_bytes(rtp[2:4], "big")
    ssrc = int.from_bytes(rtp[8:12], "big")
    body = rtp[hdr_len:]
    ks = aes_cm(keys.encr, packet_iv(keys.salt, ssrc, (roc << 16) | seq), len(body))
    enc = rtp[:hdr_len] + bytes(a ^ b for a, b in zip(body, ks, strict=True))
    tag = hmac.new(keys.auth, enc + roc.to_bytes(4, "big"), hashlib.sha1).digest()[:10]
    return enc + tag


def reference_srtcp(master: bytes, rtcp: bytes, index: int) -> bytes:
    keys = session_keys(master[:16], master[16:], rtcp=True)
    ssrc = int.from_bytes(rtcp[4:8], "big")
    body = rtcp[8:]
    ks = aes_cm(keys.encr, packet_iv(keys.salt, ssrc, index), len(body))
    enc = rtcp[:8] + bytes(a ^ b for a, b in zip(body, ks, strict=True))
    e_index = (0x80000000 | index).to_bytes(4, "big")
    tag = hmac.new(keys.auth, enc + e_index, hashlib.sha1).digest()[:10]
    return enc + e_index + tag


def rtp(seq: int, payload: bytes = b"\xd5" * 160, ssrc: int = SSRC) -> bytes:
    return encode_rtp(RtpPacket(8, seq, seq * 160, ssrc, payload))


def test_libsrtp_output_matches_reference_transform() -> None:
    sender = SrtpSender(MASTER, SSRC)
    for seq in (1, 2, 3):
        pkt = rtp(seq, bytes(range(seq, seq + 160)))
        assert sender.protect(pkt) == reference_srtp(MASTER, pkt, roc=0)


def test_libsrtp_srtcp_matches_reference_transform() -> None:
    sender = SrtpSender(MASTER, SSRC)
    app = encode_rtcp([RtcpApp(1, SSRC, b"STS1", bytes(range(32)))])
    # SRTCP index starts at 1 in libsrtp's sender (RFC 3711 leaves the initial value free).
    assert sender.protect_rtcp(app) == reference_srtcp(MASTER, app, 1)
    assert sender.protect_rtcp(app) == reference_srtcp(MASTER, app, 2)


def test_round_trip_across_sequence_wrap() -> None:
    sender, receiver = SrtpSender(MASTER, SSRC), SrtpReceiver(MASTER, SSRC)
    for i in range(20):
        seq = (65530 + i) & 0xFFFF
        pkt = rtp(seq)
        protected = sender.protect(pkt)
        assert protected == reference_srtp(MASTER, pkt, roc=0 if seq >= 65530 else 1)
        assert receiver.unprotect(protected) == pkt
    app = encode_rtcp([RtcpApp(0, SSRC, b"STS1", b"abcd")])
    assert receiver.unprotect_rtcp(sender.protect_rtcp(app)) == app


def test_replay_tamper_and_malformed_are_typed_and_counted() -> None:
    sender, receiver = SrtpSender(MASTER, SSRC), SrtpReceiver(MASTER, SSRC)
    p1 = sender.protect(rtp(1))
    assert receiver.unprotect(p1) == rtp(1)
    with pytest.raises(ReplayError):
        receiver.unprotect(p1)
    p2 = bytearray(sender.protect(rtp(2)))
    p2[20] ^= 1
    with pytest.raises(CryptoError):
        receiver.unprotect(bytes(p2))
    with pytest.raises(DecodeError):
        receiver.unprotect(b"\x80\x08")
    with pytest.raises(DecodeError):
        receiver.unprotect(sender.protect(rtp(3))[:8] + (1).to_bytes(4, "big") + b"x" * 20)
    assert receiver.receive(p1) is None
    assert receiver.dropped == {"replay": 2, "auth": 1, "malformed": 2}
    # The tampered packet's genuine twin still gets through: failures changed nothing.
    assert receiver.unprotect(sender.protect(rtp(4))) == rtp(4)


def test_wrong_key_fails_authentication() -> None:
    other = bytes(30)
    with pytest.raises(CryptoError):
        SrtpReceiver(other, SSRC).unprotect(SrtpSender(MASTER, SSRC).protect(rtp(1)))


@pytest.mark.parametrize("start_seq", [100, 65500])
def test_rekey_at_index(start_seq: int) -> None:
    new = bytes(range(100, 130))
    sender, receiver = SrtpSender(MASTER, SSRC), SrtpReceiver(MASTER, SSRC)
    switch = (1 << 16) | 10 if start_seq > 60000 else start_seq + 5
    sender.rekey(new, switch)
    receiver.rekey(new, switch)
    sent = []
    for i in range(60):
        seq = (start_seq + i) & 0xFFFF
        roc = 1 if start_seq + i > 0xFFFF else 0
        pkt = rtp(seq)
        protected = sender.protect(pkt)
        key = new if (roc << 16 | seq) >= switch else MASTER
        assert protected == reference_srtp(key, pkt, roc)  # right key, right ROC
        sent.append(protected)
    late = sent[3]  # an old-key packet arriving after the switch still opens
    for p in sent[:3] + sent[4:] + [late]:
        assert receiver.unprotect(p) is not None


def test_rekey_refuses_going_back() -> None:
    s = SrtpSender(MASTER, SSRC)
    s.rekey(bytes(30), 100)
    with pytest.raises(LocalProtocolError):
        s.rekey(bytes(30), 50)
    with pytest.raises(LocalProtocolError):
        SrtpSender(b"short", SSRC)
    with pytest.raises(LocalProtocolError):
        s.protect(rtp(1, ssrc=1))


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_fuzz_unprotect(data: bytes) -> None:
    receiver = SrtpReceiver(MASTER, SSRC)
    with pytest.raises((DecodeError, CryptoError, ReplayError)):
        receiver.unprotect(data)
    with pytest.raises((DecodeError, CryptoError, ReplayError)):
        receiver.unprotect_rtcp(data)


@settings(max_examples=100)
@given(st.integers(0, 65535), st.binary(max_size=64), st.data())
def test_any_bit_flip_is_refused(seq: int, payload: bytes, data: st.DataObject) -> None:
    protected = bytearray(SrtpSender(MASTER, SSRC).protect(rtp(seq, payload)))
    i = data.draw(st.integers(0, len(protected) - 1))
    protected[i] ^= 1 << data.draw(st.integers(0, 7))
    receiver = SrtpReceiver(MASTER, SSRC)
    with pytest.raises((DecodeError, CryptoError)):
        receiver.unprotect(bytes(protected))
    assert decode_rtp(rtp(seq, payload)).payload == payload


# --- each refusal of the stream, at its boundary (tests/mutation: each check's mutant dies) ---


def test_packet_older_than_every_key_held_is_a_replay() -> None:
    sender, receiver = SrtpSender(MASTER, SSRC), SrtpReceiver(MASTER, SSRC)
    old = sender.protect(rtp(5))  # index 5, under the first key
    for at in (10, 20, 30):  # three re-keys: only the last three keys are kept
        receiver.rekey(bytes(range(at, at + 30)), at)
    with pytest.raises(ReplayError, match="older than every key"):
        receiver.unprotect(old)
    assert receiver.dropped == {"replay": 1}


def test_ssrc_is_32_bits() -> None:
    for ssrc in (0, (1 << 32) - 1):  # both ends of the range are streams
        sender, receiver = SrtpSender(MASTER, ssrc), SrtpReceiver(MASTER, ssrc)
        assert receiver.unprotect(sender.protect(rtp(1, ssrc=ssrc))) == rtp(1, ssrc=ssrc)
    for ssrc in (-1, 1 << 32):
        with pytest.raises(LocalProtocolError):
            SrtpSender(MASTER, ssrc)


def test_rekey_must_start_strictly_later() -> None:
    with pytest.raises(LocalProtocolError):
        SrtpSender(MASTER, SSRC).rekey(bytes(30), 0)  # the first key already starts at 0
    s = SrtpReceiver(MASTER, SSRC)
    s.rekey(bytes(30), 100)
    with pytest.raises(LocalProtocolError):
        s.rekey(bytes(range(30)), 100)
    s.rekey(bytes(range(30)), 101)


def test_protect_refuses_what_is_not_rtp() -> None:
    sender = SrtpSender(MASTER, SSRC)
    with pytest.raises(DecodeError):
        sender.protect(rtp(1)[:11])  # shorter than a header
    version_1 = bytes([0x40]) + rtp(1)[1:]
    with pytest.raises(DecodeError):
        sender.protect(version_1)
    assert SrtpReceiver(MASTER, SSRC).unprotect(sender.protect(rtp(1))) == rtp(1)


def test_protect_refuses_a_packet_too_long_for_the_buffer() -> None:
    sender, receiver = SrtpSender(MASTER, SSRC), SrtpReceiver(MASTER, SSRC)
    longest = rtp(1, payload=b"\xd5" * (1356 - 12))
    assert len(longest) == 1356  # pylibsrtp's buffer less the largest trailer
    assert receiver.unprotect(sender.protect(longest)) == longest
    with pytest.raises(LocalProtocolError):
        sender.protect(rtp(2, payload=b"\xd5" * (1357 - 12)))
    # SRTCP's trailer is 4 bytes longer: 1352 bytes is its longest packet (found by this
    # test: a 1356-byte one escaped as pylibsrtp's bare ValueError).
    app = encode_rtcp([RtcpApp(0, SSRC, b"STS1", bytes(1352 - 12))])
    assert len(app) == 1352
    assert receiver.unprotect_rtcp(sender.protect_rtcp(app)) == app
    with pytest.raises(LocalProtocolError):
        sender.protect_rtcp(encode_rtcp([RtcpApp(0, SSRC, b"STS1", bytes(1356 - 12))]))


def test_sender_refuses_to_reuse_an_index() -> None:
    # libsrtp refuses to encrypt a second packet under an index already used (the same
    # keystream twice); the refusal must reach the caller, typed.
    sender = SrtpSender(MASTER, SSRC)
    sender.protect(rtp(7))
    with pytest.raises(ReplayError):
        sender.protect(rtp(7, payload=b"\x00" * 160))


def test_receiver_reads_up_to_the_wire_limit() -> None:
    receiver = SrtpReceiver(MASTER, SSRC)
    at_limit = rtp(1, payload=b"\x11" * (1500 - 12))
    assert len(at_limit) == 1500
    with pytest.raises(CryptoError):  # read, and refused by authentication, not by size
        receiver.unprotect(at_limit)
    with pytest.raises(DecodeError, match="more than"):
        receiver.unprotect(at_limit + b"\x11")


@pytest.mark.parametrize("salt_len", [13, 15])
def test_an_aes_cm_iv_needs_a_112_bit_salt(salt_len: int) -> None:
    # Before the shared aes_cm_iv (issue 16), MIKEY's KEMAC IV zipped the salt with
    # strict=True, so a salt that is not 112 bits was refused; now a short one is silently
    # zero-extended into a different IV (and a long one overflows with a bare OverflowError).
    with pytest.raises(LocalProtocolError):
        aes_cm_iv(bytes(salt_len), 0)
