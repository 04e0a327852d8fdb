"""The benchmark's baseline (certificate TLS + SDES) is a real secure call: the client checks
the server's certificate against the throwaway CA, media runs both ways under the a=crypto
keys, and a client that does not trust the CA cannot connect."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from bench.testbed.baseline import SdesPhone, TlsSipServer, throwaway_pki
from ethvoip.impl.call import Subscriber
from ethvoip.impl.media.packetize import packetize
from ethvoip.impl.sip.digest import DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.registrar import RegistrarProxy

from .world import ALICE, BOB, DOMAIN, HOST


async def _server(context: ssl.SSLContext) -> TlsSipServer:
    store = InMemoryCredentialStore()
    for n in (ALICE, BOB):
        store.add(n, DOMAIN, f"pw-{n}")
    verifier = DigestVerifier(realm=DOMAIN, store=store, secret=b"digest-secret-0123456789")
    core = RegistrarProxy(domain=DOMAIN, host=HOST, port=0, verifier=verifier, transport="TLS")
    server = TlsSipServer(core, context)
    _, core.port = await server.start(HOST)
    return server


def test_sdes_call_over_certificate_tls_both_ways() -> None:
    server_ctx, client_ctx = throwaway_pki(DOMAIN)

    async def main() -> None:
        server = await _server(server_ctx)
        alice = SdesPhone(Subscriber(ALICE, None, f"pw-{ALICE}"), DOMAIN, client_ctx)  # type: ignore[arg-type]
        bob = SdesPhone(Subscriber(BOB, None, f"pw-{BOB}"), DOMAIN, client_ctx)  # type: ignore[arg-type]
        try:
            for p in (alice, bob):
                await p.connect(server.address, DOMAIN)
                assert await p.register()
            answering = asyncio.create_task(bob.answer())
            out = await alice.call(BOB)
            inc = await answering
            fwd = list(packetize([7] * 1600, ssrc=out.media.ssrc, seq=1))
            back = list(packetize([-9] * 1600, ssrc=inc.media.ssrc, seq=1))
            await asyncio.gather(out.media.play(fwd, 0.001), inc.media.play(back, 0.001))
            await inc.incoming.wait_for(len(fwd))
            await out.incoming.wait_for(len(back))
            assert inc.incoming.payload() == b"".join(p.payload for p in fwd)
            assert out.incoming.payload() == b"".join(p.payload for p in back)
            assert out.media.srtp.epochs[0].master != inc.media.srtp.epochs[0].master
        finally:
            await alice.close()
            await bob.close()
            await server.close()

    asyncio.run(main())


def test_a_client_that_does_not_trust_the_ca_cannot_connect() -> None:
    server_ctx, _ = throwaway_pki(DOMAIN)
    _, other_client = throwaway_pki(DOMAIN)  # another CA

    async def main() -> None:
        server = await _server(server_ctx)
        alice = SdesPhone(Subscriber(ALICE, None, "pw"), DOMAIN, other_client)  # type: ignore[arg-type]
        try:
            with pytest.raises(ssl.SSLCertVerificationError):
                await alice.connect(server.address, DOMAIN)
        finally:
            await alice.close()
            await server.close()

    asyncio.run(main())
