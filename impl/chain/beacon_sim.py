"""A simulated beacon chain whose generated sync committee signs a development chain's blocks.

The full-node side of :mod:`.sync_committee`, so that the light-client code that runs on a real
network runs, unchanged, against eth-tester or anvil: for each new execution head it builds
beacon blocks whose execution payload carries that head (number, hash, state root, timestamp,
read from the execution chain), and serves the consensus-specs ``LightClientBootstrap`` and
``LightClientUpdate`` objects (``create_light_client_bootstrap`` / ``create_light_client_update``)
signed by the period's sync committee.

**This is a simulation.**  The "consensus" is whoever holds the keys generated from ``seed``:
there are no validators, deposits, attestations, proposer signatures or fork choice, and the
beacon state holds only what the light client reads (committees, finalized checkpoint, latest
header).  Each head is finalized at once (a real network finalizes about two epochs later),
and the transactions list of each payload is left empty.  What it shows is that the client
verifies exactly what a mainnet client verifies, against committee keys it was bootstrapped
with; it shows nothing about whether a real committee is honest.

Committee keys are derived deterministically from ``(seed, period, member)`` and cached.  The
committee signs once with the sum of its signing members' secret keys: BLS is linear, so this
equals the aggregate of their individual signatures, byte for byte (a test checks it), at 1/k
of the cost.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_consensus_specs.capella import minimal as spec
from eth_consensus_specs.utils import bls

# (importing sync_committee also sets the spec's fork schedule: every fork at epoch 0)
from ethvoip.impl.chain.sync_committee import (
    COMMITTEE_SIZE,
    SLOTS_PER_PERIOD,
    encode,
)
from ethvoip.impl.crypto import sha256

#: The order of the BLS12-381 scalar field: secret keys are integers below it.
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


def _period(slot: int) -> int:
    return slot // SLOTS_PER_PERIOD


@lru_cache(maxsize=64)
def committee_keys(seed: bytes, period: int) -> tuple[tuple[int, ...], Any]:
    """The secret keys of period ``period``'s committee and its ``SyncCommittee`` object."""
    secrets = tuple(
        int.from_bytes(
            sha256(seed + period.to_bytes(8, "big") + i.to_bytes(4, "big")),
            "big",
        )
        % (CURVE_ORDER - 1)
        + 1
        for i in range(COMMITTEE_SIZE)
    )
    pubkeys = [spec.BLSPubkey(bls.SkToPk(sk)) for sk in secrets]
    committee = spec.SyncCommittee(pubkeys=pubkeys, aggregate_pubkey=bls.AggregatePKs(pubkeys))
    return secrets, committee


def aggregate_signature(secrets: tuple[int, ...], signers: range, message: bytes) -> bytes:
    """The aggregate signature of ``signers`` over ``message`` (one signing, see above)."""
    return bytes(bls.Sign(sum(secrets[i] for i in signers) % CURVE_ORDER, message))


def _bloom(value: Any) -> bytes:
    """A logs bloom as its 256 bytes (eth-tester's web3 gives it as a minimal integer)."""
    raw = value.to_bytes(256, "big") if isinstance(value, int) else bytes(value)
    return raw.rjust(256, b"\0")


class SimulatedBeacon:
    """A beacon node that follows an execution chain and serves signed light-client data.

    ``chain`` needs ``latest_block()`` (a :class:`~.backend.Chain`).  The network is named by
    ``genesis_validators_root`` (default: derived from ``seed``) and its fork version (default:
    the spec's Capella version); another value for either is another network.  ``participants``
    committee members sign each update (all by default).
    """

    def __init__(
        self,
        chain: Any,
        seed: bytes = b"ethvoip-devnet",
        *,
        genesis_validators_root: bytes | None = None,
        fork_version: bytes | None = None,
        participants: int = COMMITTEE_SIZE,
        first_slot: int = SLOTS_PER_PERIOD,
    ) -> None:
        self.chain = chain
        self.seed = seed
        self.genesis_validators_root = genesis_validators_root or sha256(
            seed + b"/genesis_validators_root"
        )
        self.fork_version = spec.Version(fork_version or spec.config.CAPELLA_FORK_VERSION)
        self.participants = participants
        self.slot = first_slot  # the next free slot
        self._parent = spec.Root()
        self._finalized = spec.Root()
        self._updates: dict[int, bytes] = {}  # period -> its newest update
        self._latest = b""
        self._head = b""
        payload = self._payload(self.chain.latest_block())
        state, block = self._block(self.slot, payload, spec.SyncAggregate())
        self._bootstrap = encode(spec.create_light_client_bootstrap(state, block), self._digest())
        self.checkpoint_root = bytes(spec.hash_tree_root(block.message))
        self.slot += 1
        self._produce(payload)

    # --- what a beacon node serves ------------------------------------------------------------

    def bootstrap(self) -> bytes:
        return self._bootstrap

    def updates_by_range(self, start_period: int, count: int) -> list[bytes]:
        self.follow_head()
        return [
            self._updates[p]
            for p in range(start_period, start_period + count)
            if p in self._updates
        ]

    def latest_update(self) -> bytes:
        self.follow_head()
        return self._latest

    def current_slot(self) -> int:
        """The simulation's clock: the slot of the newest block (slots advance per head)."""
        return self.slot - 1

    # --- the simulated chain --------------------------------------------------------------------

    def follow_head(self) -> None:
        """Sign the execution chain's head if it is new (a real node does this every slot)."""
        head = self.chain.latest_block()
        if bytes(head["hash"]) != self._head:
            self._produce(self._payload(head))

    def skip_period(self) -> None:
        """Jump to the first slot of the next sync-committee period (the next committee)."""
        self.slot = (_period(self.slot) + 1) * SLOTS_PER_PERIOD

    def _digest(self) -> bytes:
        root = spec.compute_fork_data_root(
            self.fork_version, spec.Root(self.genesis_validators_root)
        )
        return bytes(root)[:4]

    def _payload(self, head: dict[str, Any]) -> Any:
        self_hash = bytes(head["hash"])
        return spec.ExecutionPayload(
            parent_hash=bytes(head["parentHash"]),
            fee_recipient=bytes.fromhex(str(head["miner"])[2:]),
            state_root=bytes(head["stateRoot"]),
            receipts_root=bytes(head["receiptsRoot"]),
            logs_bloom=_bloom(head["logsBloom"]),
            prev_randao=bytes(head.get("mixHash", b"\0" * 32)),
            block_number=int(head["number"]),
            gas_limit=int(head["gasLimit"]),
            gas_used=int(head["gasUsed"]),
            timestamp=int(head["timestamp"]),
            extra_data=bytes(head["extraData"]),
            base_fee_per_gas=int(head.get("baseFeePerGas", 0)),
            block_hash=self_hash,
        )

    def _block(self, slot: int, payload: Any, aggregate: Any) -> tuple[Any, Any]:
        """A beacon block at ``slot`` and the (minimal) state it produces."""
        period = _period(slot)
        body = spec.BeaconBlockBody(sync_aggregate=aggregate, execution_payload=payload)
        header = spec.BeaconBlockHeader(
            slot=slot, parent_root=self._parent, body_root=spec.hash_tree_root(body)
        )
        state = spec.BeaconState(
            genesis_validators_root=self.genesis_validators_root,
            slot=slot,
            fork=spec.Fork(previous_version=self.fork_version, current_version=self.fork_version),
            latest_block_header=header,
            current_sync_committee=committee_keys(self.seed, period)[1],
            next_sync_committee=committee_keys(self.seed, period + 1)[1],
            finalized_checkpoint=spec.Checkpoint(
                epoch=spec.compute_epoch_at_slot(slot), root=self._finalized
            ),
        )
        block = spec.BeaconBlock(
            slot=slot,
            parent_root=self._parent,
            state_root=spec.hash_tree_root(state),
            body=body,
        )
        self._parent = spec.hash_tree_root(block)
        return state, spec.SignedBeaconBlock(message=block)

    def _sign(self, attested: Any, signature_slot: int) -> Any:
        secrets, _ = committee_keys(self.seed, _period(signature_slot))
        domain = spec.compute_domain(
            spec.DOMAIN_SYNC_COMMITTEE, self.fork_version, spec.Root(self.genesis_validators_root)
        )
        root = spec.compute_signing_root(attested.message, domain)
        signers = range(self.participants)
        bits = [i in signers for i in range(COMMITTEE_SIZE)]
        return spec.SyncAggregate(
            sync_committee_bits=bits,
            sync_committee_signature=aggregate_signature(secrets, signers, bytes(root)),
        )

    def _produce(self, payload: Any) -> None:
        """Finalize ``payload`` (block F), attest a child (A), sign A in the next block (S)."""
        slot = self.slot
        if _period(slot) != _period(slot + 2):  # keep one update inside one period
            slot = (_period(slot) + 1) * SLOTS_PER_PERIOD
        _, finalized = self._block(slot, payload, spec.SyncAggregate())
        self._finalized = spec.hash_tree_root(finalized.message)
        attested_state, attested = self._block(slot + 1, payload, spec.SyncAggregate())
        state, signature = self._block(slot + 2, payload, self._sign(attested, slot + 2))
        update = spec.create_light_client_update(
            state, signature, attested_state, attested, finalized
        )
        raw = encode(update, self._digest())
        self._updates[_period(slot + 2)] = raw
        self._latest = raw
        self._head = bytes(payload.block_hash)
        self.slot = slot + 3
