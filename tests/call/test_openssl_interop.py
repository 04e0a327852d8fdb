"""Our TLS 1.3 external-PSK server (OpenSSL's handshake through pyca's binding, our record
layer, behind the asyncio bridge) against Debian's ``openssl s_client -psk``: the command-line
client completes the handshake with the same (identity, PSK), and application data crosses in
both directions.  (The independent implementation of the handshake is tlslite-ng, in
test_tls13_record.py, in both roles.)"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ethvoip.impl.call.openssl_psk import PskHandshake
from ethvoip.impl.call.tlspsk import open_tls_psk, record_layer

PSK = bytes(range(32))
IDENTITY = b"+96176661367"


@pytest.mark.integration
def test_openssl_s_client_psk_interop() -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is in apt.txt"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.setblocking(False)
        port = lsock.getsockname()[1]
        client = await asyncio.create_subprocess_exec(
            openssl,
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-tls1_3",
            "-quiet",
            "-psk",
            PSK.hex(),
            "-psk_identity",
            IDENTITY.decode(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            sock, _ = await loop.sock_accept(lsock)
            reader, writer, cipher = await open_tls_psk(
                sock, server=True, identity=IDENTITY, psk=PSK
            )
            assert cipher
            assert client.stdin is not None and client.stdout is not None
            client.stdin.write(b"OPTIONS sip:ethvoip SIP/2.0\n")
            await client.stdin.drain()
            async with asyncio.timeout(10):
                assert await reader.readline() == b"OPTIONS sip:ethvoip SIP/2.0\n"
                writer.write(b"SIP/2.0 200 OK\n")
                await writer.drain()
                assert await client.stdout.readline() == b"SIP/2.0 200 OK\n"
            writer.close()
        finally:
            client.kill()
            await client.wait()
            lsock.close()

    asyncio.run(main())


@pytest.mark.integration
def test_openssl_s_server_psk_interop() -> None:
    """Our client side (OpenSSL 4 through pyca's binding, our record layer) against Debian's
    ``openssl s_server -psk -nocert`` (OpenSSL 3.0), on a Unix socket: the server accepts the
    PSK identity it expects, and data crosses both ways."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is in apt.txt"
    # a short path: OpenSSL 3.0's s_server fails on one as long as pytest's tmp_path
    where = Path(tempfile.mkdtemp(prefix="evs", dir="/tmp"))
    path = where / "s"
    server = subprocess.Popen(
        [
            openssl,
            "s_server",
            "-unix",
            str(path),
            "-tls1_3",
            "-nocert",
            "-naccept",
            "1",
            "-psk",
            PSK.hex(),
            "-psk_identity",
            IDENTITY.decode(),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # the server creates the socket when it listens
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(10)
            try:
                sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                time.sleep(0.05)
        else:
            raise AssertionError(f"openssl s_server did not listen on {path}: {server.poll()}")
        hs = PskHandshake(server=False, identity=IDENTITY, psk=PSK)
        sock.sendall(hs.start())
        while not hs.done:
            data = sock.recv(65536)
            assert data, "s_server closed during the handshake"
            if out := hs.receive(data):
                sock.sendall(out)
        done = hs.established()
        layer = record_layer(done, server=False)
        assert layer.receive(done.leftover) in (None, b"")
        sock.sendall(layer.protect(b"OPTIONS sip:ethvoip SIP/2.0\n"))
        assert server.stdout is not None and server.stdin is not None
        lines = iter(server.stdout.readline, b"")  # its own messages, then the data
        assert b"OPTIONS sip:ethvoip SIP/2.0\n" in lines
        server.stdin.write(b"SIP/2.0 200 OK\n")
        server.stdin.flush()
        got = b""
        while not got.endswith(b"\n"):
            got += layer.receive(sock.recv(65536)) or b""
        assert got == b"SIP/2.0 200 OK\n"
        sock.close()
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(where, ignore_errors=True)
