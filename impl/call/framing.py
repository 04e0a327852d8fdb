"""Frames for the pre-TLS handshake on the SIP connection: ``length (2 bytes) | payload``.

The psk_handshake messages go over the TCP connection that then carries TLS, so a reader
must never take more bytes than the frame it wants: the next bytes are the TLS ClientHello.
:func:`frame_length` checks a header (sans-IO, fuzzed); :func:`read_frame` reads exactly one
frame from a non-blocking socket with the event loop; :func:`encode_frame` builds one.
"""

from __future__ import annotations

import asyncio
import socket

from ethvoip.spec.errors import DecodeError, LocalProtocolError, RemoteProtocolError

HEADER = 2
MAX_FRAME = 2048  # a psk_handshake record is a few hundred bytes


def encode_frame(payload: bytes) -> bytes:
    if not 0 < len(payload) <= MAX_FRAME:
        raise LocalProtocolError(f"frame payload must be 1..{MAX_FRAME} bytes")
    return len(payload).to_bytes(HEADER, "big") + payload


def frame_length(header: bytes) -> int:
    """The payload length a 2-byte header announces; DecodeError if out of range."""
    if len(header) != HEADER:
        raise DecodeError(f"frame header must be {HEADER} bytes")
    n = int.from_bytes(header, "big")
    if not 0 < n <= MAX_FRAME:
        raise DecodeError(f"frame length {n} outside 1..{MAX_FRAME}")
    return n


async def _exactly(sock: socket.socket, n: int) -> bytes:
    loop = asyncio.get_running_loop()
    buf = bytearray()
    while len(buf) < n:
        chunk = await loop.sock_recv(sock, n - len(buf))
        if not chunk:
            raise RemoteProtocolError("peer closed the connection during the handshake")
        buf += chunk
    return bytes(buf)


async def read_frame(sock: socket.socket) -> bytes:
    return await _exactly(sock, frame_length(await _exactly(sock, HEADER)))


async def write_frame(sock: socket.socket, payload: bytes) -> None:
    await asyncio.get_running_loop().sock_sendall(sock, encode_frame(payload))
