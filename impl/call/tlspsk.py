"""TLS 1.3 with an external pre-shared key (RFC 8446 section 4.2.11), as asyncio streams.

Python 3.11's ``ssl`` has no PSK callbacks.  The handshake is OpenSSL's, reached through the
cffi binding pyca ``cryptography`` ships (:mod:`.openssl_psk`, sans-IO with memory BIOs); this
module moves its bytes with the event loop's socket calls: a peer that stalls mid-handshake
costs a socket and a suspended coroutine, never a worker thread, so no number of stalled
peers can starve the others.  Callers bound the whole handshake with a timeout.  After it,
the application traffic secrets go to our own record layer (:mod:`.tls13_record`: pyca
AEADs, sans-IO) running as an asyncio protocol on the same TCP socket.  The application gets
an ordinary ``(StreamReader, StreamWriter)`` pair that :meth:`StreamTransport.attach
<ethvoip.impl.sip.transport.StreamTransport.attach>` serves like any TCP connection.

(Until issue 17 the handshake was tlslite-ng's, in pure Python: most of a registration's
time.  tlslite-ng stays the independent peer in the tests; :func:`psk_settings` is its
configuration of the same handshake.)

Settings: TLS 1.3 only, ``psk_dhe_ke`` (the PSK authenticates, an (EC)DHE share adds forward
secrecy), SHA-256 PSK (so TLS_AES_128_GCM_SHA256 / TLS_CHACHA20_POLY1305_SHA256), no
resumption (every connection starts from the handshake's fresh PSK).  TCP_NODELAY is set
on the TCP socket: without it the small SIP records wait ~40 ms on Nagle and delayed ACKs.

End of stream: a peer that sends close_notify ends the stream cleanly (the reader sees EOF).
A TCP end without close_notify is a truncation (RFC 8446 section 6.1: it may hide dropped
data): the reader raises :class:`TruncatedStream` instead of a clean EOF, and it is logged;
``_TlsProtocol.ended`` says which it was (``close_notify``, ``truncated``, ``bad record``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any, cast

from tlslite import HandshakeSettings

from ethvoip.spec.errors import Check, CryptoRefused, EthVoipError, RemoteProtocolError

from .openssl_psk import Established, PskHandshake, PskHandshakeError
from .tls13_record import RecordLayer

PSK_HASH = "sha256"
log = logging.getLogger(__name__)


class TruncatedStream(RemoteProtocolError, ConnectionError):
    """The TCP connection ended without the peer's close_notify: the data may be cut short."""


def psk_settings(identity: bytes, psk: bytes) -> HandshakeSettings:
    """tlslite-ng's settings for the same handshake (the tests' independent peer)."""
    s = HandshakeSettings()
    s.minVersion = s.maxVersion = (3, 4)
    s.pskConfigs = [(bytearray(identity), bytearray(psk), PSK_HASH)]
    s.psk_modes = ["psk_dhe_ke"]
    s.ticket_count = 0
    return s


async def _handshake(sock: socket.socket, server: bool, identity: bytes, psk: bytes) -> Established:
    """OpenSSL's handshake on non-blocking ``sock``, suspended while the peer is silent."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    hs = PskHandshake(server=server, identity=identity, psk=psk)
    try:
        out = hs.start()
        while True:
            if out:
                await loop.sock_sendall(sock, out)
            if hs.done:
                return hs.established()
            data = await loop.sock_recv(sock, 1 << 16)
            if not data:
                raise CryptoRefused(
                    "the TLS peer closed the connection during the handshake", check=Check.PSK
                )
            out = hs.receive(data)
    except PskHandshakeError as exc:
        with contextlib.suppress(OSError):
            if exc.alert:
                sock.send(exc.alert)  # best effort: tell the peer why
        sock.close()
        raise
    except OSError as exc:
        with contextlib.suppress(OSError):
            sock.close()
        raise CryptoRefused(f"TLS-PSK handshake failed: {exc!r}", check=Check.PSK) from exc
    except BaseException:
        sock.close()
        raise


class _TlsProtocol(asyncio.StreamReaderProtocol):
    """The TCP connection after the handshake: records in, plaintext into the StreamReader."""

    def __init__(self, reader: asyncio.StreamReader, layer: RecordLayer, early: bytes) -> None:
        super().__init__(reader)
        self.reader, self.layer, self.early = reader, layer, early
        self.tcp: asyncio.Transport | None = None
        self.ended: str | None = None  # "close_notify", "truncated" or "bad record"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tcp = cast(asyncio.Transport, transport)
        super().connection_made(transport)
        if self.early:  # before the socket's own bytes, which come after these
            early, self.early = self.early, b""
            self.data_received(early)

    def data_received(self, data: bytes) -> None:
        assert self.tcp is not None
        try:
            plain = self.layer.receive(data)
        except EthVoipError:
            # A record that does not open ends the connection: nothing after it is trusted.
            self.ended = "bad record"
            self.reader.feed_eof()
            self.tcp.abort()
            return
        if owed := self.layer.take_outgoing():
            self.tcp.write(owed)
        if plain:
            self.reader.feed_data(plain)
        if self.layer.closed and self.ended is None:  # close_notify (maybe behind data)
            self.ended = "close_notify"
            self.reader.feed_eof()

    def eof_received(self) -> bool | None:
        if self.ended is None:
            self.ended = "truncated"
            peer = self.tcp.get_extra_info("peername") if self.tcp is not None else None
            log.warning("TLS connection from %s ended without close_notify (truncated)", peer)
            self.reader.set_exception(TruncatedStream("TLS stream ended without close_notify"))
            return False
        return super().eof_received()


class _TlsTransport(asyncio.Transport):
    """What the StreamWriter writes to: plaintext in, records onto the TCP transport."""

    def __init__(self, proto: _TlsProtocol) -> None:
        super().__init__()
        self.proto = proto

    @property
    def _tcp(self) -> asyncio.Transport:
        assert self.proto.tcp is not None
        return self.proto.tcp

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._tcp.is_closing() or self.proto.layer.failed is not None:
            return  # like a closed TCP transport: the stream reader reports the end
        self._tcp.write(self.proto.layer.protect(bytes(data)))

    def is_closing(self) -> bool:
        return self._tcp.is_closing()

    def close(self) -> None:
        if not self._tcp.is_closing():
            with contextlib.suppress(EthVoipError):
                self._tcp.write(self.proto.layer.close_notify())
        self._tcp.close()

    def abort(self) -> None:
        self._tcp.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "cipher":
            return self.proto.layer.suite.code
        return self._tcp.get_extra_info(name, default)

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return self._tcp.get_write_buffer_size()

    def pause_reading(self) -> None:
        self._tcp.pause_reading()

    def resume_reading(self) -> None:
        self._tcp.resume_reading()

    def is_reading(self) -> bool:
        return self._tcp.is_reading()


def record_layer(done: Established, *, server: bool) -> RecordLayer:
    """The application-data record layer for a finished handshake."""
    client, srv = done.client_secret, done.server_secret
    return RecordLayer(
        done.suite_code,
        read_secret=client if server else srv,
        write_secret=srv if server else client,
        write_seq=done.write_seq,
    )


async def open_tls_psk(
    sock: socket.socket, *, server: bool, identity: bytes, psk: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """Run the TLS-PSK handshake on connected TCP ``sock``; return streams and the suite name.

    Raises :class:`CryptoRefused` (check ``psk``) when the peer does not hold the same
    (identity, PSK).
    """
    loop = asyncio.get_running_loop()
    done = await _handshake(sock, server, identity, psk)
    reader = asyncio.StreamReader()
    proto = _TlsProtocol(reader, record_layer(done, server=server), done.leftover)
    await loop.connect_accepted_socket(lambda: proto, sock)
    writer = asyncio.StreamWriter(_TlsTransport(proto), proto, reader, loop)
    return reader, writer, done.suite_name
