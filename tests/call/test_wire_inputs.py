"""Wire inputs that used to crash, each a test (issue 14 section 3), on real sockets where the
crash was a socket's: bad input gets a typed error or a SIP error response, and the server or
stream goes on serving.

* a SIP request with an empty Via: 400 on the same TCP connection, which stays open;
* a non-ASCII key attribute in the SDP: DecodeError, the caller gets 488 with a Warning;
* an SRTP or SRTCP packet over 1500 bytes: DecodeError, dropped and counted, stream alive;
* an SDP ``c=`` that is not an IP literal (host name, NUL): DecodeError, 488;
* a TLS connection cut without close_notify: ``TruncatedStream`` and a log line, not EOF.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.call import IncomingSession, RefusedCall
from ethvoip.impl.call.keying import read_sdp
from ethvoip.impl.call.media import MediaReceiver, bind_udp
from ethvoip.impl.call.tlspsk import TruncatedStream, open_tls_psk
from ethvoip.impl.media import sdp
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.media.rtp import encode_rtp
from ethvoip.impl.media.srtp import MAX_WIRE, SrtpReceiver, SrtpSender
from ethvoip.impl.sip.codec import StreamDecoder
from ethvoip.impl.sip.message import Message, Request
from ethvoip.impl.sip.transport import StreamTransport
from ethvoip.impl.sip.ua import CallFailed
from ethvoip.spec.errors import DecodeError

from .world import ALICE, BOB, DOMAIN, HOST, World

OPTIONS = (
    "OPTIONS sip:bob@ethvoip.test SIP/2.0\r\n"
    "Via: {via}\r\n"
    "From: <sip:alice@ethvoip.test>;tag=1\r\nTo: <sip:bob@ethvoip.test>\r\n"
    "Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)
GOOD_VIA = "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-good"


# --- empty Via -------------------------------------------------------------------------------


@given(blank=st.text(alphabet=" \t,", max_size=6))
def test_empty_via_is_reported_and_the_stream_goes_on(blank: str) -> None:
    bad: list[tuple[Message, str]] = []
    dec = StreamDecoder(on_invalid=lambda m, why: bad.append((m, why)))
    stream = OPTIONS.format(via=blank, call_id="bad") + OPTIONS.format(via=GOOD_VIA, call_id="ok")
    [good] = dec.feed(stream.encode())
    assert good.call_id == "ok" and not dec.closed
    [(msg, why)] = bad
    assert isinstance(msg, Request) and msg.call_id == "bad" and "Via" in why


def test_empty_via_over_tcp_gets_400_and_the_connection_is_kept() -> None:
    async def main() -> None:
        seen: list[Message] = []
        server = await StreamTransport.listen(HOST, 0, lambda msg, _: seen.append(msg))
        try:
            reader, writer = await asyncio.open_connection(HOST, server.local_address[1])
            writer.write(OPTIONS.format(via="", call_id="bad").encode())
            async with asyncio.timeout(5):
                head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"SIP/2.0 400 ")
            assert b'Warning: 399 ethvoip "empty Via"' in head and b"Call-ID: bad" in head
            writer.write(OPTIONS.format(via=GOOD_VIA, call_id="ok").encode())
            async with asyncio.timeout(5):
                while not seen:
                    await asyncio.sleep(0.01)
            assert [m.call_id for m in seen] == ["ok"] and server.invalid == 1
            writer.close()
        finally:
            server.close()

    asyncio.run(main())


# --- SDP: non-ASCII key attribute, c= not an IP literal --------------------------------------


def _offer(key_line: str = "a=key-mgmt:mikey AAAA", conn: str = "IN IP4 127.0.0.1") -> bytes:
    return (
        "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=ethvoip\r\n"
        f"c={conn}\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 8\r\n{key_line}\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
    ).encode()


@given(st.text(min_size=1, max_size=40).filter(lambda t: not t.isascii() and "\r" not in t))
def test_non_ascii_key_attribute_is_a_decode_error(junk: str) -> None:
    clean = junk.replace("\n", "").replace("\x00", "") or "é"
    with pytest.raises(DecodeError):
        read_sdp(_offer(f"a=key-mgmt:mikey {clean}"), "hardened")
    with pytest.raises(DecodeError):
        read_sdp(_offer(f"a=k:{clean}").replace(b"RTP/SAVP", b"RTP/AVP"), "paper")


@given(st.text(max_size=40))
def test_c_line_accepts_ip_literals_only(address: str) -> None:
    try:
        got = sdp.decode_sdp(_offer(conn=f"IN IP4 {address}"))
    except DecodeError:
        return
    assert got.connection is not None
    assert socket.inet_pton(socket.AF_INET, got.connection.address)  # a literal, nothing else


@pytest.mark.parametrize("address", ["example.com", "localhost", "127.0.0.1\x00", "10.0.0.1/8"])
def test_c_line_names_and_junk_are_refused(address: str) -> None:
    with pytest.raises(DecodeError):
        sdp.decode_sdp(_offer(conn=f"IN IP4 {address}"))


@pytest.mark.parametrize(
    ("offer", "fragment"),
    [
        (_offer("a=key-mgmt:mikey \u00e9t\u00e9"), "key-mgmt data is not base64"),
        (_offer(conn="IN IP4 sip.example.com"), "not an IP literal"),
    ],
    ids=["non-ascii-mikey", "hostname-c"],
)
def test_bad_offer_is_refused_with_488_and_a_reason(
    world: World, offer: bytes, fragment: str
) -> None:
    async def main() -> None:
        server = await world.server()
        alice, bob = world.phone(ALICE), world.phone(BOB)
        try:
            for p in (alice, bob):
                await p.connect(server.address)
                assert await p.register()
            answering = asyncio.create_task(bob.answer())
            assert alice.endpoint is not None
            alice.endpoint.do(lambda now: alice.ua.invite(f"sip:{BOB}@{DOMAIN}", offer, now))
            refused = await answering
            failed = await alice._next(CallFailed)
            assert isinstance(refused, RefusedCall) and isinstance(refused.error, DecodeError)
            assert failed.status == 488 and failed.warning is not None
            assert fragment in failed.warning
            # the callee's phone goes on: a good call right after
            answering = asyncio.create_task(bob.answer())
            out = await alice.call(BOB)
            assert isinstance(await answering, IncomingSession) and out.call_id
        finally:
            await alice.close()
            await bob.close()
            await server.close()

    asyncio.run(main())


# --- SRTP / SRTCP over 1500 bytes ------------------------------------------------------------

MASTER, SSRC = bytes(range(30)), 0x1234


@settings(max_examples=25)
@given(size=st.integers(MAX_WIRE + 1, 9000), rtcp=st.booleans())
def test_oversized_srtp_and_srtcp_are_typed_errors_counted(size: int, rtcp: bool) -> None:
    rx = SrtpReceiver(MASTER, SSRC)
    head = bytes([0x80, 200 if rtcp else 0, 0, 1]) + SSRC.to_bytes(4, "big") + bytes(4)
    with pytest.raises(DecodeError, match="more than 1500"):
        (rx.unprotect_rtcp if rtcp else rx.unprotect)(head + bytes(size - len(head)))
    assert rx.dropped == {"malformed": 1}


def test_oversized_datagram_on_the_rtp_port_is_dropped_and_the_stream_lives() -> None:
    async def main() -> None:
        rx = MediaReceiver(MASTER, SSRC)
        await bind_udp(rx, HOST)
        tx_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            tx = SrtpSender(MASTER, SSRC)
            [p1, p2] = packetize([0] * 320, ssrc=SSRC, seq=1)
            first = tx.protect(encode_rtp(p1))
            tx_sock.sendto(first + bytes(2000), (HOST, rx.port))
            tx_sock.sendto(tx.protect(encode_rtp(p2)), (HOST, rx.port))
            await rx.wait_for(1, timeout=5)
            assert rx.dropped == {"malformed": 1} and [p.seq for p in rx.packets] == [2]
        finally:
            tx_sock.close()
            rx.close()

    asyncio.run(main())


# --- TLS: truncated vs closed ----------------------------------------------------------------

IDENTITY, PSK = b"+96100000001", bytes(range(32))


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.socket() as lsock:
        lsock.bind((HOST, 0))
        lsock.listen(1)
        a = socket.create_connection(lsock.getsockname())
        b, _ = lsock.accept()
    return a, b


@pytest.mark.parametrize("clean", [True, False], ids=["close_notify", "truncated"])
def test_tls_truncation_is_told_apart_from_a_clean_close(
    clean: bool, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        a, b = _tcp_pair()
        (ra, wa, _), (rb, wb, _) = await asyncio.gather(
            open_tls_psk(a, server=False, identity=IDENTITY, psk=PSK),
            open_tls_psk(b, server=True, identity=IDENTITY, psk=PSK),
        )
        wa.write(b"REGISTER")
        await wa.drain()
        if clean:
            wa.close()  # close_notify, then FIN
        else:
            wa.transport.abort()  # FIN/RST without close_notify: a cut connection
        async with asyncio.timeout(5):
            assert await rb.readexactly(8) == b"REGISTER"
            if clean:
                assert await rb.read() == b""
            else:
                with pytest.raises(TruncatedStream):
                    await rb.read()
        ended = wb.transport.proto.ended  # type: ignore[attr-defined]
        assert ended == ("close_notify" if clean else "truncated")
        wb.close()
        del ra

    with caplog.at_level(logging.WARNING, logger="ethvoip.impl.call.tlspsk"):
        asyncio.run(main())
    assert any("without close_notify" in r.message for r in caplog.records) is not clean


# --- the rest: any SDP body, any caller URI -----------------------------------------------


@settings(max_examples=300)
@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(str.encode),
        st.tuples(st.integers(0, 200), st.text(max_size=20)).map(
            lambda cut: _offer()[: cut[0]] + cut[1].encode() + _offer()[cut[0] :]
        ),
    ),
    variant=st.sampled_from(["hardened", "paper", "sdes"]),
)
def test_any_sdp_body_is_read_or_refused_with_a_decode_error(body: bytes, variant: str) -> None:
    try:
        offer = read_sdp(body, variant)
    except DecodeError:
        return
    assert socket.inet_pton(socket.AF_INET6 if ":" in offer.host else socket.AF_INET, offer.host)


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_from_and_to_make_a_record_or_a_decode_error(from_uri: str, to_uri: str) -> None:
    from ethvoip.impl.call.keying import invite_record

    try:
        record = invite_record(from_uri, to_uri)
    except DecodeError:
        return
    assert record  # a record naming both users, never another exception
