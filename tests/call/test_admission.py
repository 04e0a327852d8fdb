"""Who may register: only a client that completes the psk_handshake with the key approved on
chain for its number, and only as that number (a stolen SIP password is not enough)."""

from __future__ import annotations

import asyncio

import pytest

from ethvoip.impl.call import SecurePhone
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.spec.errors import ChainError, CryptoError, EthVoipError

from .world import ALICE, DOMAIN, EVE, PENDING, SERVER, World


def _attempt(world: World, phone: SecurePhone) -> tuple[EthVoipError | None, list[EthVoipError]]:
    async def main() -> tuple[EthVoipError | None, list[EthVoipError]]:
        server = await world.server()
        try:
            try:
                await phone.connect(server.address)
            except EthVoipError as exc:
                await phone.close()
                # The server's side must end in a refusal: wait for it (not a fixed pause,
                # which a loaded machine can outlast), generously bounded.
                async with asyncio.timeout(30):
                    while not server.refusals:
                        await asyncio.sleep(0.01)
                return exc, list(server.refusals)
            raise AssertionError("the handshake should not have completed")
        finally:
            await phone.close()
            await server.close()

    return asyncio.run(main())


def test_a_client_holding_the_wrong_key_cannot_register(world: World) -> None:
    impostor = world.phone(ALICE, IdentityKey.generate(seeded_rng(b"not alice")))
    client_error, _ = _attempt(world, impostor)
    # message 2 is encrypted to the key on chain: the impostor cannot open it
    assert isinstance(client_error, CryptoError)


def test_a_client_whose_key_is_not_approved_cannot_register(world: World) -> None:
    client_error, refusals = _attempt(world, world.phone(PENDING))
    assert client_error is not None
    assert any(isinstance(r, ChainError) for r in refusals)  # the server's look-up refused


def test_the_server_key_must_be_the_one_on_chain(world: World) -> None:
    async def main() -> None:
        server = await world.server()
        server.env.key = IdentityKey.generate(seeded_rng(b"fake server"))
        phone = world.phone(ALICE)
        try:
            with pytest.raises(EthVoipError):
                await phone.connect(server.address)
        finally:
            await phone.close()
            await server.close()

    asyncio.run(main())


def test_a_stolen_sip_password_is_useless_without_the_identity_key(world: World) -> None:
    async def main() -> None:
        server = await world.server()
        # Eve is a subscriber with her own approved key, and she knows Alice's SIP password
        eve = world.phone(EVE)
        eve.sub = type(eve.sub)(EVE, world.keys[EVE], f"pw-{ALICE}")
        try:
            await eve.connect(server.address)
            eve.ua.config.aor = f"sip:{ALICE}@{DOMAIN}"
            eve.ua.config.username = ALICE
            assert not await eve.register()
            assert server.gate.refused >= 1
            assert not server.gate.core.location.lookup(f"sip:{ALICE}@{DOMAIN}", 0.0)
        finally:
            await eve.close()
            await server.close()

    asyncio.run(main())


def test_directory_refuses_unknown_and_pending_numbers(world: World) -> None:
    d = world.directory
    assert d.lookup(SERVER).to_bytes() == world.keys[SERVER].public_key.to_bytes()
    for number in (PENDING, "+4400000000"):
        with pytest.raises(ChainError):
            d.lookup(number)
    assert len(d.timings) == 3
