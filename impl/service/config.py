"""What an operator configures about its wallet-management service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ethvoip.impl.service.ledger import FeePolicy
from ethvoip.impl.service.store import DEFAULT_PRODUCT

Variant = Literal["hardened", "paper"]


@dataclass(frozen=True)
class ServiceConfig:
    """Service settings; every default is what ``ethvoip serve`` uses.

    ``variant="paper"`` runs the paper's flow (KeyStorePaper, SIP password = hash(receipt)):
    for the attack demo only.  ``crash_after_intents`` is a fault-injection hook for the
    exactly-once tests: the process dies (``os._exit``) right after committing that many
    funding intents, before broadcasting the last one.

    ``follow_interval`` (seconds) is how often the service polls the KeyStore's events so
    that SIP credentials follow revocation, suspension, rotation and recovery, which it
    applies once a block has ``follow_confirmations`` blocks on top (:mod:`.follower`).
    """

    store_key_pem: bytes
    product_id: str = DEFAULT_PRODUCT
    funding_wei: int = 10**17
    window_seconds: int = 300
    sip_realm: str = "ethvoip.test"
    variant: Variant = "hardened"
    fees: FeePolicy = field(default_factory=FeePolicy)
    faucet_wei: int = 10**21
    crash_after_intents: int | None = None
    follow_interval: float = 2.0
    follow_confirmations: int = 0
