"""A small world for the call tests: an embedded chain with a KeyStore, the SIP server and
three subscribers registered through the chain client (Eve is a registered subscriber too),
and helpers to start the secure SIP server and connect phones."""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from pathlib import Path

from ethvoip.impl.call import ChainDirectory, SecurePhone, SecureSipServer, Subscriber
from ethvoip.impl.call.provision import Provisioned, deploy, register_numbers
from ethvoip.impl.call.signaling import ServerLimits
from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.chain.checkpoint import checkpoint_at
from ethvoip.impl.chain.policies import TrustSettings, build_policy
from ethvoip.impl.chain.trust import Checkpoint
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.impl.handshake import Env
from ethvoip.impl.sip.digest import DigestVerifier, InMemoryCredentialStore
from ethvoip.impl.sip.registrar import RegistrarProxy

ALICE, BOB, EVE = "+96176661367", "+96170412611", "+96100000666"
SERVER = "+96100000001"
PENDING = "+96100000777"  # registered on chain, never approved
DOMAIN = "ethvoip.test"
HOST = "127.0.0.1"


@dataclass
class World:
    chain: EmbeddedChain
    provisioned: Provisioned
    keys: dict[str, IdentityKey]
    checkpoint: Checkpoint

    @property
    def directory(self) -> ChainDirectory:
        """A new party's directory: the checkpoint policy from the world's checkpoint, depth 0
        (the test chain mines only on transactions, so the newest registration is the head)
        and a day's freshness bound (a package-wide world outlives minutes; freshness has
        its own tests in tests/chain/test_trust_policies.py)."""
        settings = TrustSettings(self.checkpoint, "checkpoint", depth=0, max_age=86400.0)
        policy = build_policy(settings, self.chain)
        return ChainDirectory(self.provisioned.keystore, self.provisioned.salt, policy)

    def subscriber(self, number: str, key: IdentityKey | None = None) -> Subscriber:
        return Subscriber(number, key or self.keys[number], f"pw-{number}")

    def phone(self, number: str, key: IdentityKey | None = None) -> SecurePhone:
        return SecurePhone(self.subscriber(number, key), self.directory, DOMAIN, SERVER)

    async def server(self, limits: ServerLimits | None = None) -> SecureSipServer:
        store = InMemoryCredentialStore()
        for n in (ALICE, BOB, EVE, PENDING):
            store.add(n, DOMAIN, f"pw-{n}")
        verifier = DigestVerifier(realm=DOMAIN, store=store, secret=b"digest-secret-0123456789")
        registrar = RegistrarProxy(
            domain=DOMAIN, host=HOST, port=0, verifier=verifier, transport="TLS"
        )
        env = Env(SERVER, self.keys[SERVER], self.directory)
        server = SecureSipServer(registrar, env, limits=limits or ServerLimits())
        _, port = await server.start(HOST)
        registrar.port = port  # Via and Record-Route name the real listening port
        return server


def make_world() -> World:
    chain = EmbeddedChain()
    provisioned = deploy(chain, b"\x05" * 32)
    rng = seeded_rng(b"call world")
    keys = {n: IdentityKey.generate(rng) for n in (ALICE, BOB, EVE, SERVER, PENDING)}
    register_numbers(provisioned, {n: keys[n] for n in (ALICE, BOB, EVE, SERVER)})
    register_numbers(provisioned, {PENDING: keys[PENDING]}, approve=False)
    checkpoint = checkpoint_at(chain, bytes(chain.latest_block()["hash"]))
    return World(chain, provisioned, keys, checkpoint)


def write_tone(path: Path, seconds: float, hz: float = 440.0) -> None:
    """A sine tone as 8 kHz mono 16-bit PCM, written with the stdlib ``wave``."""
    n = int(8000 * seconds)
    samples = (int(12000 * math.sin(2 * math.pi * hz * i / 8000)) for i in range(n))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
