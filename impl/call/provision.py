"""Put subscribers (and the SIP server) into a KeyStore directly through the chain client.

What the operator service does for a subscriber, minus the app-store check and the SIP
credential hand-over: commit, wait the minimum commitment age, register with proof of
possession, approve as the operator.  The demo uses this when ``ethvoip.impl.service`` is
not used, and tests and the benchmark use it to build a world quickly.  ``approve=False``
leaves a subscriber pending (registered, not approved), which the look-up refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    Chain,
    KeyStoreClient,
    identifier,
)
from ethvoip.impl.crypto import IdentityKey, Rng


@dataclass(frozen=True)
class Provisioned:
    keystore: KeyStoreClient
    salt: bytes
    operator: str


def deploy(chain: Chain, salt: bytes) -> Provisioned:
    operator = chain.accounts[0]
    return Provisioned(KeyStoreClient.deploy(chain, operator), salt, operator)


def register_numbers(
    world: Provisioned,
    keys: Mapping[str, IdentityKey],
    *,
    approve: bool = True,
    rng: Rng | None = None,
) -> None:
    """Register (and approve) ``keys[number]`` for each number, one chain account each."""
    chain, ks = world.keystore.chain, world.keystore
    senders = chain.accounts[1:]
    regs = []
    for i, (number, key) in enumerate(keys.items()):
        sender = senders[i % len(senders)]
        reg = ks.registration(identifier(number, world.salt), key, sender, rng=rng)
        ks.commit(reg.commitment, sender)
        regs.append((reg, sender))
    chain.increase_time(MIN_COMMITMENT_AGE)
    for reg, sender in regs:
        ks.register(reg, sender)
        if approve:
            ks.approve(
                reg.identifier,
                reg.public_key,
                reg.record_version,
                world.operator,
                registrant=sender,
            )
