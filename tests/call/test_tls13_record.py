"""Our TLS 1.3 record layer (after the OpenSSL-run handshake) against tlslite-ng's own record
layer - an independent implementation - over a real TCP connection, both directions, records
bigger than 2**14, and KeyUpdate; plus the sans-IO layer's refusals and fuzzing.

(``test_openssl_interop`` checks the same layer against OpenSSL.)"""

from __future__ import annotations

import asyncio
import os
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tlslite import TLSConnection
from tlslite.constants import KeyUpdateMessageType

from ethvoip.impl.call.tls13_record import (
    APPLICATION_DATA,
    HEADER,
    LEGACY_VERSION,
    MAX_CIPHERTEXT,
    RecordLayer,
    hkdf_expand_label,
)
from ethvoip.impl.call.tlspsk import open_tls_psk, psk_settings
from ethvoip.spec.errors import CryptoError, DecodeError, EthVoipError, LocalProtocolError

PSK = bytes(range(32))
IDENTITY = b"+96176661367"
BIG = os.urandom(40_000)  # three records each way


def _tlslite_peer(sock: socket.socket, server: bool, log: list[bytes]) -> None:
    """tlslite-ng on the other end: handshake, echo what it reads, send a KeyUpdate."""
    tls = TLSConnection(sock)
    settings_ = psk_settings(IDENTITY, PSK)
    if server:
        tls.handshakeServer(settings=settings_)
    else:
        tls.handshakeClientCert(settings=settings_)
    got = bytearray()
    while len(got) < len(BIG):
        got += tls.read(max=65536)
    log.append(bytes(got))
    tls.write(b"echo:" + bytes(got))
    # KeyUpdate asking for ours; then data under the new keys both ways
    for _ in tls.send_keyupdate_request(KeyUpdateMessageType.update_requested):
        pass
    tls.write(b"after-update")
    log.append(bytes(tls.read(max=100)))
    tls.close()


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as lsock:
        a = socket.create_connection(lsock.getsockname())
        b, _ = lsock.accept()
    return a, b


@pytest.mark.parametrize("we_are_server", [True, False])
def test_interop_with_tlslite_record_layer(we_are_server: bool) -> None:
    async def main() -> None:
        ours, theirs = _tcp_pair()
        theirs.settimeout(20)  # the peer thread cannot hang the suite
        log: list[bytes] = []
        peer = threading.Thread(
            target=_tlslite_peer, args=(theirs, not we_are_server, log), daemon=True
        )
        peer.start()
        try:
            reader, writer, cipher = await open_tls_psk(
                ours, server=we_are_server, identity=IDENTITY, psk=PSK
            )
            assert cipher in ("TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256")
            writer.write(BIG)
            async with asyncio.timeout(20):
                echoed = await reader.readexactly(5 + len(BIG))
                assert echoed == b"echo:" + BIG
                assert await reader.readexactly(12) == b"after-update"
                writer.write(b"ours-after")
                await writer.drain()
                assert await reader.read() == b""  # tlslite's close_notify
            writer.close()
        finally:
            await asyncio.get_running_loop().run_in_executor(None, peer.join, 20)
            theirs.close()
        assert log == [BIG, b"ours-after"]

    asyncio.run(main())


def _pair() -> tuple[RecordLayer, RecordLayer]:
    a, b = os.urandom(32), os.urandom(32)
    return (
        RecordLayer(0x1301, read_secret=a, write_secret=b),
        RecordLayer(0x1301, read_secret=b, write_secret=a),
    )


def test_records_round_trip_split_anywhere_and_close() -> None:
    client, server = _pair()
    wire = client.protect(b"INVITE") + client.protect(b" sip:bob") + client.close_notify()
    got = bytearray()
    for i in range(len(wire)):  # one byte at a time: records reassemble
        out = server.receive(wire[i : i + 1])
        if out:
            got += out
    assert bytes(got) == b"INVITE sip:bob" and server.closed


def test_a_modified_record_is_refused_and_the_layer_stays_failed() -> None:
    client, server = _pair()
    record = bytearray(client.protect(b"REGISTER"))
    record[-1] ^= 1
    with pytest.raises(CryptoError):
        server.receive(bytes(record))
    with pytest.raises(LocalProtocolError):
        server.receive(client.protect(b"later"))


def test_replayed_or_reordered_records_do_not_authenticate() -> None:
    client, server = _pair()
    first, second = client.protect(b"one"), client.protect(b"two")
    with pytest.raises(CryptoError):  # the nonce is the sequence number: order is checked
        server.receive(second + first)


def test_over_long_and_unprotected_records_are_refused() -> None:
    _, server = _pair()
    with pytest.raises(DecodeError):
        server.receive(HEADER.pack(APPLICATION_DATA, LEGACY_VERSION, MAX_CIPHERTEXT + 1))
    _, server = _pair()
    with pytest.raises(DecodeError):
        server.receive(HEADER.pack(22, LEGACY_VERSION, 4) + b"\x00" * 4)


def test_traffic_update_label_changes_the_secret() -> None:
    # RFC 8446 7.1: HkdfLabel = uint16 length || opaque label<7..255> || opaque context<0..255>
    # rebuilt here with the stdlib hmac (RFC 5869 HKDF-Expand, one block) as the reference.
    import hashlib
    import hmac

    secret = bytes(range(32))
    info = (32).to_bytes(2, "big") + bytes([17]) + b"tls13 traffic upd" + b"\x00"
    expected = hmac.new(secret, info + b"\x01", hashlib.sha256).digest()
    assert hkdf_expand_label("sha256", secret, b"traffic upd", b"", 32) == expected


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.integers(0, 2))
def test_fuzz_receive_only_raises_typed_errors(data: bytes, prefix_records: int) -> None:
    client, server = _pair()
    stream = b"".join(client.protect(b"x" * 10) for _ in range(prefix_records)) + data
    try:
        server.receive(stream)
    except EthVoipError:
        assert server.failed is not None
