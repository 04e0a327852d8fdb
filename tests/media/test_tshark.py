"""Independent check: Wireshark's dissectors (Debian ``tshark``) read what our codecs write.

A pcap (our own writer, UDP/IPv4 on 127.0.0.1) holds hand-written SIP INVITEs whose SDP
carries (1) a signed public-key-mode MIKEY I_MESSAGE in ``a=key-mgmt``, (2) a MIKEY message
with an unencrypted KEMAC so that tshark also dissects the Key data sub-payload, (3) the
paper's ``a=k:``; then an RTP packet from the PCMA packetiser and an RTCP APP packet.  For
every payload, tshark's field values must equal the values we meant: the inputs we built
from, or, for the opaque fields, values recomputed here (ECIES with the same seeded RNG, the
signature verified over the bytes before it, the KEMAC decrypted with keys derived here).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ethvoip.impl.crypto import IdentityKey, encrypt_to, seeded_rng
from ethvoip.impl.media import mikey as m
from ethvoip.impl.media import sdp
from ethvoip.impl.media.bare_key import encode_bare_key
from ethvoip.impl.media.mikey_identity import (
    PKE_AAD,
    SIG_LEN,
    SIGN_TAG,
    ecdsa_signer,
    ecies_envelope,
)
from ethvoip.impl.media.mikey_kdf import derive_envelope_keys
from ethvoip.impl.media.mikey_pk import build_i_message
from ethvoip.impl.media.mikey_replay import unix_to_ntp
from ethvoip.impl.media.mikey_verify import build_r_message
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.media.pcap import Datagram, write_pcap
from ethvoip.impl.media.rtcp import RtcpApp, encode_rtcp
from ethvoip.impl.media.rtp import encode_rtp

pytestmark = pytest.mark.integration

ALICE = IdentityKey.generate(seeded_rng(b"ts-alice"))
BOB = IdentityKey.generate(seeded_rng(b"ts-bob"))
NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
CSB, SSRC, ROC = 0x00C0FFEE, 0x5EC0DE01, 3
RAND = bytes(range(0xA0, 0xB0))
ENV = bytes(range(16))
TGK = bytes(range(0x40, 0x60))
ID_I, ID_R = b"sip:alice@127.0.0.1", b"sip:bob@127.0.0.1"
MASTER = bytes(range(30))


def invite(attributes: tuple[sdp.Attribute, ...]) -> bytes:
    body = sdp.encode_sdp(
        sdp.SessionDescription(
            sdp.Origin("alice", 2890844526, 1, "127.0.0.1"),
            "ethvoip call",
            sdp.Connection("127.0.0.1"),
            attributes=attributes,
            media=(
                sdp.Media(
                    "audio",
                    21000,
                    "RTP/SAVP",
                    ("8",),
                    attributes=(sdp.Attribute("rtpmap", "8 PCMA/8000"),),
                ),
            ),
        )
    ).encode()
    head = (
        "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK74bf9\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@127.0.0.1>;tag=9fxced76sl\r\n"
        "To: <sip:bob@127.0.0.1>\r\n"
        "Call-ID: 3848276298220188511@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@127.0.0.1>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def i_message() -> bytes:
    return build_i_message(
        tgk=TGK,
        env_key=ENV,
        rand=RAND,
        now=NOW,
        csb_id=CSB,
        crypto_sessions=(m.CryptoSession(0, SSRC, ROC),),
        encrypt_envelope=ecies_envelope(BOB.public_key, seeded_rng(b"ts-eph")),
        sign=ecdsa_signer(ALICE),
        sig_len=SIG_LEN,
        id_i=ID_I,
        id_r=ID_R,
        policies=(m.srtp_policy_aes_cm_128_hmac_sha1_80(),),
    )


R_NOW = NOW + 1.5  # the callee answers a moment later


def r_message() -> bytes:
    return build_r_message(
        env_key=ENV,
        csb_id=CSB,
        rand=RAND,
        crypto_sessions=(m.CryptoSession(0, SSRC, ROC),),
        id_i=ID_I,
        id_r=ID_R,
        t_i=unix_to_ntp(NOW),
        now=R_NOW,
    )


KEY_DATA = m.KeyData(m.KeyType.TEK_SALT, b"K" * 16, b"S" * 14, m.KvType.SPI, (b"\x07",))
CLEAR = m.MikeyMessage(
    m.Header(m.DataType.PSK_INIT, 7, (m.CryptoSession(1, 2, 3),), v_flag=True),
    (
        m.Timestamp(m.TsType.NTP_UTC, unix_to_ntp(NOW)),
        m.Rand(bytes(16)),
        m.Kemac(
            m.EncrAlg.NULL, m.encode_key_data([KEY_DATA]), m.MacAlg.HMAC_SHA1_160, b"\x5a" * 20
        ),
    ),
)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tshark = shutil.which("tshark")
    assert tshark, "tshark is missing: it is in apt.txt, install it with `make system`"
    rtp = next(packetize([1000] * 160, ssrc=SSRC, seq=4242, timestamp=777))
    app = encode_rtcp([RtcpApp(5, SSRC, b"STS1", bytes(range(8)))])
    bare = encode_bare_key(MASTER, lambda k: encrypt_to(BOB.public_key, k, rng=seeded_rng(b"k")))
    frames = [
        Datagram(
            "127.0.0.1",
            5060,
            "127.0.0.1",
            5060,
            invite((sdp.key_mgmt_attribute(i_message()),)),
            1.0,
        ),
        Datagram(
            "127.0.0.1",
            5060,
            "127.0.0.1",
            5060,
            invite((sdp.key_mgmt_attribute(m.encode_message(CLEAR)),)),
            2.0,
        ),
        Datagram("127.0.0.1", 5060, "127.0.0.1", 5060, invite((sdp.Attribute("k", bare),)), 3.0),
        Datagram("127.0.0.1", 21000, "127.0.0.1", 21000, encode_rtp(rtp), 4.0),
        Datagram("127.0.0.1", 21001, "127.0.0.1", 21001, app, 5.0),
        Datagram(
            "127.0.0.1",
            5060,
            "127.0.0.1",
            5060,
            invite((sdp.key_mgmt_attribute(r_message()),)),
            6.0,
        ),
    ]
    path = tmp_path_factory.mktemp("tshark") / "call.pcap"
    path.write_bytes(write_pcap(frames))
    return path


def fields(pcap: Path, frame: int, names: list[str]) -> dict[str, list[str]]:
    cmd = [
        "tshark",
        "-r",
        str(pcap),
        "-n",
        "-d",
        "udp.port==21000,rtp",
        "-d",
        "udp.port==21001,rtcp",
    ]
    cmd += [
        "-Y",
        f"frame.number=={frame}",
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "aggregator=|",
    ]
    for n in names:
        cmd += ["-e", n]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    (line,) = out.splitlines()
    return {n: (v.split("|") if v else []) for n, v in zip(names, line.split("\t"), strict=True)}


def one(f: dict[str, list[str]], name: str) -> str:
    (v,) = f[name]
    return v


def num(f: dict[str, list[str]], name: str) -> int:
    return int(one(f, name), 0)


def test_no_malformed_frames(capture: Path) -> None:
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(capture),
            "-n",
            "-d",
            "udp.port==21000,rtp",
            "-d",
            "udp.port==21001,rtcp",
            "-Y",
            "_ws.malformed || _ws.expert.severity >= warning",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert out.strip() == ""
    protos = subprocess.run(
        [
            "tshark",
            "-r",
            str(capture),
            "-n",
            "-d",
            "udp.port==21000,rtp",
            "-d",
            "udp.port==21001,rtcp",
            "-T",
            "fields",
            "-e",
            "frame.protocols",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    # Frame 1 reads "sip:mikey:sdp:mikey" in tshark 4.0 (a second, SIP-level listing of the
    # key-mgmt attribute); what matters is that SDP handed the attribute to MIKEY.
    assert [p.endswith("sdp:mikey") for p in protos[:2]] == [True, True]
    assert protos[2:5] == [
        "eth:ethertype:ip:udp:sip:sdp",
        "eth:ethertype:ip:udp:rtp",
        "eth:ethertype:ip:udp:rtcp",
    ]
    assert protos[5].endswith("sdp:mikey") and len(protos) == 6


def test_public_key_mode_i_message(capture: Path) -> None:
    names = [
        "mikey.version", "mikey.type", "mikey.next_payload", "mikey.v.set", "mikey.prf_func",
        "mikey.csb_id", "mikey.cs_count", "mikey.cs_id_map_type", "mikey.srtp_id.policy_no",
        "mikey.srtp_id.ssrc", "mikey.srtp_id.roc", "mikey.t.ts_type", "mikey.t.ntp",
        "mikey.rand.len", "mikey.rand.data", "mikey.id.type", "mikey.id.len", "mikey.id.data",
        "mikey.sp.no", "mikey.sp.proto_type", "mikey.sp.param_len", "mikey.sp.encr_alg",
        "mikey.sp.encr_len", "mikey.sp.auth_alg", "mikey.sp.auth_key_len", "mikey.sp.salt_len",
        "mikey.sp.prf", "mikey.sp.srtp_encr", "mikey.sp.srtcp_encr", "mikey.sp.srtp_auth",
        "mikey.sp.auth_tag_len", "mikey.kemac.encr_alg", "mikey.kemac.key_data_len",
        "mikey.kemac.key_data", "mikey.kemac.mac_alg", "mikey.kemac.mac", "mikey.pke.c",
        "mikey.pke.len", "mikey.pke.data", "mikey.sign.type", "mikey.sign.len", "mikey.sign.data",
    ]  # fmt: skip
    f = fields(capture, 1, names)
    # HDR
    # "Next Payload" of every payload, in order: the chain our encoder derived.
    assert f["mikey.next_payload"] == ["5", "11", "6", "6", "10", "1", "2", "4"]
    assert (num(f, "mikey.version"), num(f, "mikey.type"), int(f["mikey.next_payload"][0])) == (
        1,
        2,
        5,
    )
    assert one(f, "mikey.v.set") in ("0", "False") and num(f, "mikey.prf_func") == 0
    assert (num(f, "mikey.csb_id"), num(f, "mikey.cs_count"), num(f, "mikey.cs_id_map_type")) == (
        CSB,
        1,
        0,
    )
    assert (
        num(f, "mikey.srtp_id.policy_no"),
        num(f, "mikey.srtp_id.ssrc"),
        num(f, "mikey.srtp_id.roc"),
    ) == (0, SSRC, ROC)
    # T: tshark renders the NTP-UTC value as a UTC date: it must be the time we gave.
    assert num(f, "mikey.t.ts_type") == 0
    when = datetime.datetime.fromtimestamp(NOW, datetime.UTC).strftime(
        "%b %d, %Y %H:%M:%S.000000000 UTC"
    )
    assert one(f, "mikey.t.ntp") == when
    # RAND, IDi, IDr
    assert num(f, "mikey.rand.len") == 16 and bytes.fromhex(one(f, "mikey.rand.data")) == RAND
    assert f["mikey.id.type"] == ["1", "1"]
    assert f["mikey.id.len"] == [str(len(ID_I)), str(len(ID_R))]
    assert f["mikey.id.data"] == [ID_I.decode(), ID_R.decode()]
    # SP: AES_CM_128_HMAC_SHA1_80 parameters
    assert (num(f, "mikey.sp.no"), num(f, "mikey.sp.proto_type"), num(f, "mikey.sp.param_len")) == (
        0,
        0,
        30,
    )
    sp = {
        k: num(f, "mikey.sp." + k)
        for k in (
            "encr_alg",
            "encr_len",
            "auth_alg",
            "auth_key_len",
            "salt_len",
            "prf",
            "srtp_encr",
            "srtcp_encr",
            "srtp_auth",
            "auth_tag_len",
        )
    }
    assert sp == {
        "encr_alg": 1,
        "encr_len": 16,
        "auth_alg": 1,
        "auth_key_len": 20,
        "salt_len": 14,
        "prf": 0,
        "srtp_encr": 1,
        "srtcp_encr": 1,
        "srtp_auth": 1,
        "auth_tag_len": 10,
    }
    # KEMAC: decrypt tshark's "Key data" with keys derived here; check the MAC over the prefix.
    assert (num(f, "mikey.kemac.encr_alg"), num(f, "mikey.kemac.mac_alg")) == (1, 1)
    encr = bytes.fromhex(one(f, "mikey.kemac.key_data"))
    assert num(f, "mikey.kemac.key_data_len") == len(encr) == 4 + len(TGK)
    keys = derive_envelope_keys(ENV, CSB, RAND)
    block = b"\x00\x00" + CSB.to_bytes(4, "big") + unix_to_ntp(NOW).to_bytes(8, "big")
    iv = bytes(a ^ b for a, b in zip(keys.salt, block, strict=True)) + b"\x00\x00"
    dec = Cipher(algorithms.AES(keys.encr), modes.CTR(iv)).decryptor()
    assert dec.update(encr) + dec.finalize() == b"\x00\x00" + len(TGK).to_bytes(2, "big") + TGK
    raw = i_message()
    mac = bytes.fromhex(one(f, "mikey.kemac.mac"))
    assert hmac.new(keys.auth, raw[: raw.index(mac)], hashlib.sha1).digest() == mac
    # PKE: the ECIES ciphertext of the envelope key, remade with the same seeded RNG.
    expected_pke = encrypt_to(BOB.public_key, ENV, PKE_AAD, seeded_rng(b"ts-eph"))
    assert num(f, "mikey.pke.c") == 0 and num(f, "mikey.pke.len") == len(expected_pke)
    assert bytes.fromhex(one(f, "mikey.pke.data")) == expected_pke
    # SIGN: our ECDSA type 15, and the signature verifies over every byte before it.
    sig = bytes.fromhex(one(f, "mikey.sign.data"))
    assert (num(f, "mikey.sign.type"), num(f, "mikey.sign.len"), len(sig)) == (15, 64, 64)
    ALICE.public_key.verify(SIGN_TAG, raw[: -len(sig)], sig)


def test_key_data_sub_payload(capture: Path) -> None:
    names = [
        "mikey.type", "mikey.v.set", "mikey.csb_id", "mikey.srtp_id.policy_no",
        "mikey.srtp_id.ssrc", "mikey.srtp_id.roc", "mikey.kemac.encr_alg", "mikey.key.type",
        "mikey.key.kv",
        "mikey.key.data.len", "mikey.key.data", "mikey.key.salt.len", "mikey.key.salt",
        "mikey.key.kv.spi.len", "mikey.key.kv.spi", "mikey.kemac.mac",
    ]  # fmt: skip
    f = fields(capture, 2, names)
    assert num(f, "mikey.type") == 0 and one(f, "mikey.v.set") in ("1", "True")
    assert [num(f, n) for n in names[2:7]] == [7, 1, 2, 3, 0]
    assert (num(f, "mikey.key.type"), num(f, "mikey.key.kv")) == (3, 1)  # TEK+SALT, SPI
    assert (
        num(f, "mikey.key.data.len") == 16 and bytes.fromhex(one(f, "mikey.key.data")) == b"K" * 16
    )
    assert (
        num(f, "mikey.key.salt.len") == 14 and bytes.fromhex(one(f, "mikey.key.salt")) == b"S" * 14
    )
    assert num(f, "mikey.key.kv.spi.len") == 1 and one(f, "mikey.key.kv.spi") == "07"
    assert one(f, "mikey.kemac.mac") == "5a" * 20


def test_paper_bare_key_attribute(capture: Path) -> None:
    f = fields(
        capture,
        3,
        ["sdp.session_attr.field", "sdp.session_attr.value", "sdp.media_attr"],
    )
    assert one(f, "sdp.session_attr.field") == "k"
    value = one(f, "sdp.session_attr.value")
    assert value == encode_bare_key(
        MASTER, lambda k: encrypt_to(BOB.public_key, k, rng=seeded_rng(b"k"))
    )
    assert one(f, "sdp.media_attr") == "rtpmap:8 PCMA/8000"


def test_rtp_and_rtcp_app(capture: Path) -> None:
    f = fields(
        capture,
        4,
        ["rtp.p_type", "rtp.seq", "rtp.timestamp", "rtp.ssrc", "rtp.marker", "srtp.enc_payload"],
    )
    assert [num(f, n) for n in ("rtp.p_type", "rtp.seq", "rtp.timestamp", "rtp.ssrc")] == [
        8,
        4242,
        777,
        SSRC,
    ]
    assert one(f, "rtp.marker") in ("1", "True")
    # tshark calls it an SRTP payload (the SDP said RTP/SAVP); here it is plain PCMA.
    # +1000 on the 16-bit scale: 13-bit 125, segment 2 (64..127), step (125 >> 2) & 15 = 15,
    # sign bit set -> 0xAF, XOR 0x55 -> 0xFA.
    assert bytes.fromhex(one(f, "srtp.enc_payload")) == b"\xfa" * 160
    g = fields(
        capture,
        5,
        ["rtcp.pt", "rtcp.app.subtype", "rtcp.ssrc.identifier", "rtcp.app.name", "rtcp.app.data"],
    )
    assert [num(g, n) for n in ("rtcp.pt", "rtcp.app.subtype", "rtcp.ssrc.identifier")] == [
        204,
        5,
        SSRC,
    ]
    assert one(g, "rtcp.app.name") == "STS1" and bytes.fromhex(one(g, "rtcp.app.data")) == bytes(
        range(8)
    )


def test_verification_message(capture: Path) -> None:
    """RFC 3830 R_MESSAGE (HDR, T, IDr, V) as tshark reads it, the MAC recomputed here from
    the envelope key's auth_key over the bytes before it, IDi, IDr and the I_MESSAGE's T."""
    names = [
        "mikey.type", "mikey.next_payload", "mikey.v.set", "mikey.csb_id", "mikey.srtp_id.ssrc",
        "mikey.t.ts_type", "mikey.t.ntp", "mikey.id.data", "mikey.v.auth_alg", "mikey.v.ver_data",
    ]  # fmt: skip
    f = fields(capture, 6, names)
    assert num(f, "mikey.type") == 3  # PK verification message
    assert f["mikey.next_payload"] == ["5", "6", "9", "0"]  # T, ID, V, last
    assert num(f, "mikey.v.set") == 0
    assert (num(f, "mikey.csb_id"), num(f, "mikey.srtp_id.ssrc")) == (CSB, SSRC)
    assert num(f, "mikey.t.ts_type") == 0  # NTP-UTC
    assert one(f, "mikey.id.data") == ID_R.decode()
    assert num(f, "mikey.v.auth_alg") == 1  # HMAC-SHA-1-160
    data = r_message()
    auth_key = derive_envelope_keys(ENV, CSB, RAND).auth
    want = hmac.new(
        auth_key, data[:-20] + ID_I + ID_R + unix_to_ntp(NOW).to_bytes(8, "big"), hashlib.sha1
    ).hexdigest()
    assert one(f, "mikey.v.ver_data").replace(":", "") == want
