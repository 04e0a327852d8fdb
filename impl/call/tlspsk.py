"""TLS 1.3 with an external pre-shared key (RFC 8446 section 4.2.11) via tlslite-ng, as asyncio
streams.

Python 3.11's ``ssl`` has no PSK callbacks; tlslite-ng 0.8.2 does TLS 1.3 external PSK
(``HandshakeSettings.pskConfigs``) and interoperates with ``openssl s_client -psk``.  Its
connections are blocking, so each TLS session runs on a worker thread and is bridged to the
event loop through a local socket pair: the application gets an ordinary
``(StreamReader, StreamWriter)`` pair that :meth:`StreamTransport.attach
<ethvoip.impl.sip.transport.StreamTransport.attach>` serves like any TCP connection.

Settings: TLS 1.3 only, ``psk_dhe_ke`` (the PSK authenticates, an (EC)DHE share adds forward
secrecy), SHA-256 PSK binder (so TLS_AES_128_GCM_SHA256 / TLS_CHACHA20_POLY1305_SHA256), no
session tickets (every connection starts from the handshake's fresh PSK).  TCP_NODELAY is set
on the TCP socket: without it the small SIP records wait ~40 ms on Nagle and delayed ACKs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

from tlslite import HandshakeSettings, TLSConnection
from tlslite.errors import BaseTLSException

from ethvoip.spec.errors import CryptoError

PSK_HASH = "sha256"


def psk_settings(identity: bytes, psk: bytes) -> HandshakeSettings:
    s = HandshakeSettings()
    s.minVersion = s.maxVersion = (3, 4)
    s.pskConfigs = [(bytearray(identity), bytearray(psk), PSK_HASH)]
    s.psk_modes = ["psk_dhe_ke"]
    s.ticket_count = 0
    return s


def _handshake(sock: socket.socket, server: bool, identity: bytes, psk: bytes) -> TLSConnection:
    sock.setblocking(True)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tls = TLSConnection(sock)
    try:
        if server:
            tls.handshakeServer(settings=psk_settings(identity, psk))
        else:
            tls.handshakeClientCert(settings=psk_settings(identity, psk))
    except (BaseTLSException, OSError) as exc:
        with contextlib.suppress(OSError):
            sock.close()
        raise CryptoError(f"TLS-PSK handshake failed: {exc!r}") from exc
    if tls.session is None or not tls.session.cipherSuite:
        raise CryptoError("TLS-PSK handshake ended without a session")
    return tls


def _pump_out(tls: TLSConnection, local: socket.socket) -> None:
    """TLS -> application: decrypted records into the socket pair."""
    try:
        while True:
            data = tls.read(max=65536)
            if not data:
                break
            local.sendall(bytes(data))
    except (BaseTLSException, OSError):
        pass
    finally:
        with contextlib.suppress(OSError):
            local.shutdown(socket.SHUT_WR)


def _pump_in(tls: TLSConnection, local: socket.socket) -> None:
    """Application -> TLS: what the application wrote, as TLS records."""
    try:
        while data := local.recv(65536):
            tls.write(data)
    except (BaseTLSException, OSError):
        pass
    finally:
        with contextlib.suppress(BaseTLSException, OSError):
            tls.close()
        with contextlib.suppress(OSError):
            local.close()


async def open_tls_psk(
    sock: socket.socket, *, server: bool, identity: bytes, psk: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """Run the TLS-PSK handshake on connected TCP ``sock``; return streams and the suite name.

    Raises :class:`CryptoError` when the peer does not hold the same (identity, PSK).
    """
    loop = asyncio.get_running_loop()
    tls = await loop.run_in_executor(None, _handshake, sock, server, identity, psk)
    app_side, tls_side = socket.socketpair()
    for target in (_pump_out, _pump_in):
        threading.Thread(target=target, args=(tls, tls_side), daemon=True).start()
    reader, writer = await asyncio.open_connection(sock=app_side)
    return reader, writer, str(tls.getCipherName())
