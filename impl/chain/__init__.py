"""The on-chain key store: contract clients, reference model, light-client verification.

Public API (see docs/contracts.rst and docs/lightclient.rst)::

    chain = EmbeddedChain()                      # or RpcChain(start_anvil().url)
    ks = KeyStoreClient.deploy(chain, operator)  # hardened contract
    reg = ks.registration(identifier(number, salt), key, sender)
    ks.commit(reg.commitment, sender); chain.increase_time(MIN_COMMITMENT_AGE)
    ks.register(reg, sender); ks.approve(reg.identifier, reg.public_key, 0, operator)
    ks.lookup(ident); ks.verified_lookup(ident, trusted_block_hash)
"""

from ethvoip.impl.chain.anvil import AnvilProcess, start_anvil
from ethvoip.impl.chain.backend import Chain, EmbeddedChain, RpcChain
from ethvoip.impl.chain.contract import TxResult
from ethvoip.impl.chain.keystore import (
    MAX_COMMITMENT_AGE,
    MIN_COMMITMENT_AGE,
    PENDING_TTL,
    RECOVERY_DELAY,
    KeyStoreClient,
    Record,
    Registration,
    Status,
)
from ethvoip.impl.chain.messages import check_e164, commitment, identifier, key_hash
from ethvoip.impl.chain.paper import PaperKeyStoreClient
from ethvoip.impl.chain.proofs import LookupProof, VerifiedRecord, verify_lookup

__all__ = [
    "MAX_COMMITMENT_AGE",
    "MIN_COMMITMENT_AGE",
    "PENDING_TTL",
    "RECOVERY_DELAY",
    "AnvilProcess",
    "Chain",
    "EmbeddedChain",
    "KeyStoreClient",
    "LookupProof",
    "PaperKeyStoreClient",
    "Record",
    "Registration",
    "RpcChain",
    "Status",
    "TxResult",
    "VerifiedRecord",
    "check_e164",
    "commitment",
    "identifier",
    "key_hash",
    "start_anvil",
    "verify_lookup",
]
