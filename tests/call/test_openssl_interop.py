"""Our TLS 1.3 external-PSK server (OpenSSL's handshake through pyca's binding, our record
layer, behind the asyncio bridge) against Debian's ``openssl s_client -psk``: the command-line
client completes the handshake with the same (identity, PSK), and application data crosses in
both directions.  (The independent implementation of the handshake is tlslite-ng, in
test_tls13_record.py, in both roles.)"""

from __future__ import annotations

import asyncio
import shutil
import socket

import pytest

from ethvoip.impl.call.tlspsk import open_tls_psk

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
