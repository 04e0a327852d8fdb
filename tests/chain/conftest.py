"""Fixtures for the key-store tests: the two chains, actors and their identity keys.

Every chain test runs on the embedded chain (eth-tester + py-evm); those that take the
``chain`` fixture run on anvil too (marked ``integration``: a real JSON-RPC node process).
Each test deploys its own contract, so the session-wide chains are shared safely.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ethvoip.impl.chain import (
    Chain,
    EmbeddedChain,
    KeyStoreClient,
    RpcChain,
    identifier,
    start_anvil,
)
from ethvoip.impl.crypto import IdentityKey

MIN_AGE, MAX_AGE, DELAY, TTL = 60, 3600, 600, 7200
SALT = bytes.fromhex("5a" * 32)


@pytest.fixture(scope="session")
def embedded_chain() -> EmbeddedChain:
    return EmbeddedChain()


@pytest.fixture(scope="session")
def anvil_chain() -> Iterator[RpcChain]:
    with start_anvil() as node:
        chain = RpcChain(node.url)
        yield chain
        chain.close()


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.integration)])
def chain(request: pytest.FixtureRequest) -> Chain:
    name = "embedded_chain" if request.param == "embedded" else "anvil_chain"
    result: Chain = request.getfixturevalue(name)
    return result


@dataclass(frozen=True)
class Actors:
    operator: str
    alice: str
    bob: str
    mallory: str


@pytest.fixture
def actors(chain: Chain) -> Actors:
    a = chain.accounts
    return Actors(a[0], a[1], a[2], a[3])


def key(n: int) -> IdentityKey:
    """A fixed identity key (scalar n+1 repeated), so failures reproduce."""
    return IdentityKey.from_private_bytes(bytes([n + 1]) * 32)


ALICE_KEY, BOB_KEY, MALLORY_KEY, SPARE_KEY = key(0), key(1), key(2), key(3)
ALICE_ID = identifier("+33612345678", SALT)
BOB_ID = identifier("+14155550123", SALT)


@pytest.fixture
def ks(chain: Chain, actors: Actors) -> KeyStoreClient:
    return KeyStoreClient.deploy(
        chain,
        actors.operator,
        min_commitment_age=MIN_AGE,
        max_commitment_age=MAX_AGE,
        recovery_delay=DELAY,
        pending_ttl=TTL,
    )
