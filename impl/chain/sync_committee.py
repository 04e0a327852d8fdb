"""The sync-committee trust policy: an Ethereum consensus light client (Altair/Capella).

Trust starts at a weak-subjectivity checkpoint (a beacon block root the operator provisions)
and moves forward only on the signatures of the beacon chain's sync committee:

1. **bootstrap**: the served :class:`LightClientBootstrap` must hash to the pinned checkpoint
   root, and its current sync committee must sit in that block's state (SSZ Merkle branch);
2. **update**: a :class:`LightClientUpdate` is accepted only if at least 2/3 of the committee
   signed its attested beacon header (aggregate BLS signature, fork-versioned domain), the
   finalized header is in the attested state (finality branch), each header's execution payload
   header is in its beacon block body (execution branch), and a committee hand-over is in the
   attested state (next-sync-committee branch);
3. the vouched execution block (number, hash, state root, timestamp) is read from the
   SSZ-verified execution payload header of the newest *finalized* header.

The checks are the consensus-specs reference functions (``eth_consensus_specs.capella.minimal``:
``initialize_light_client_store``, ``process_light_client_update``); BLS is its
``py_arkworks_bls12381`` backend, SSZ its ``remerkleable``.  The spec signals every refusal with
a bare ``assert``; each of its conditions is checked here first with the spec's own helpers so
that the refusal names the check (:class:`SyncCommitteeError` subclasses), then the spec's
function runs in full, so nothing the spec refuses is accepted.

The preset is *minimal* (32-member committees, 64-slot periods) with every fork from Altair to
Capella at epoch 0: the network :mod:`.beacon_sim` simulates.  Mainnet would take the mainnet
module and its fork schedule; the client code is the same.

Wire format (sans IO): each bootstrap or update is its 4-byte fork digest (the p2p
``context`` bytes of the light-client req/resp protocol) followed by its SSZ encoding.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eth_consensus_specs.capella import minimal as spec
from eth_consensus_specs.utils import bls

from ethvoip.impl.chain.mpt import decode_rlp, keccak
from ethvoip.impl.chain.trust import Freshness, TrustedBlock, TrustError
from ethvoip.spec.errors import ChainError, Check, DecodeError

NAME = "sync-committee"
#: The label of :meth:`SyncCommitteePolicy.for_chain`'s policy: a committee generated from a
#: public seed that follows (and signs) the chain of the node it is given.  It runs exactly
#: the light-client code of a real network but trusts that node; the label says so.
SIMULATED_NAME = "simulated sync-committee (trusts the node it follows)"

# Every fork up to Capella from genesis: the simulated network (and any devnet) starts
# post-merge.  The spec module reads ``config`` at call time, so this is set once, here.
_FORK_EPOCHS = {"ALTAIR_FORK_EPOCH": 0, "BELLATRIX_FORK_EPOCH": 0, "CAPELLA_FORK_EPOCH": 0}
spec.config = spec.config._replace(**{k: spec.Epoch(v) for k, v in _FORK_EPOCHS.items()})
# A stub BLS (``bls_active = False``) would accept every signature: refuse to run on it.
if not bls.bls_active:
    raise ImportError("eth_consensus_specs BLS is switched off (bls_active is False)")

COMMITTEE_SIZE = int(spec.SYNC_COMMITTEE_SIZE)
SLOTS_PER_PERIOD = int(spec.SLOTS_PER_EPOCH) * int(spec.EPOCHS_PER_SYNC_COMMITTEE_PERIOD)
#: Updates asked for in one catch-up (the p2p protocol's own limit).
MAX_UPDATES = int(spec.MAX_REQUEST_LIGHT_CLIENT_UPDATES)


class SyncCommitteeError(TrustError):
    """The sync-committee light client refused a bootstrap, an update or a served header."""


class MalformedData(SyncCommitteeError, DecodeError):
    """The bytes are not an SSZ bootstrap or update (truncated, short signature, ...)."""


class WrongFork(SyncCommitteeError):
    """The data is for another network or fork (its fork digest is not this network's)."""

    check = Check.FORK


class CheckpointMismatch(SyncCommitteeError):
    """The bootstrap's beacon header does not hash to the pinned checkpoint root."""

    check = Check.CHECKPOINT


class BadCommitteeBranch(SyncCommitteeError):
    """A sync committee is not in the beacon state it claims to be in (SSZ branch)."""

    check = Check.PROOF


class BadExecutionBranch(SyncCommitteeError):
    """An execution payload header is not in its beacon block body (a forged state root)."""

    check = Check.PROOF


class TooFewParticipants(SyncCommitteeError):
    """Fewer than 2/3 of the sync committee signed."""

    check = Check.QUORUM


class BadSlots(SyncCommitteeError):
    """The update's slots are from the future or out of order."""

    check = Check.ORDER


class PeriodGap(SyncCommitteeError):
    """The update is signed in a period whose committee this client does not know."""

    check = Check.PERIOD


class OldUpdate(SyncCommitteeError):
    """The update does not finalize a block newer than the one already trusted."""

    check = Check.ROLLBACK


class BadFinalityBranch(SyncCommitteeError):
    """The finalized header is not the one the attested state finalized (SSZ branch)."""

    check = Check.PROOF


class BadSignature(SyncCommitteeError):
    """The committee's aggregate BLS signature over the attested header does not verify."""

    check = Check.SIGNATURE


class InvalidUpdate(SyncCommitteeError):
    """The consensus spec refused an update that passed every named check (defence in depth)."""

    check = Check.PROOF


class HeaderMismatch(SyncCommitteeError):
    """The node's execution header does not hash to, or disagree with, the vouched block."""

    check = Check.HEADER_HASH


# --- wire format ---------------------------------------------------------------------------


def fork_digest(genesis_validators_root: bytes, slot: int) -> bytes:
    """The network's 4-byte fork digest at ``slot`` (p2p domain separation)."""
    epoch = spec.compute_epoch_at_slot(spec.Slot(slot))
    return bytes(spec.compute_fork_digest(spec.Root(genesis_validators_root), epoch))


def encode(obj: Any, digest: bytes) -> bytes:
    """``digest || ssz(obj)``: a bootstrap or update as a node serves it."""
    return digest + bytes(obj.encode_bytes())


def _decode(raw: bytes, kind: Any, what: str) -> tuple[bytes, Any]:
    if len(raw) < 4:
        raise MalformedData(f"{what}: {len(raw)} bytes, shorter than a fork digest")
    try:
        return raw[:4], kind.decode_bytes(raw[4:])
    except Exception as exc:  # remerkleable raises bare Exception/ValueError/IndexError
        raise MalformedData(f"{what}: not SSZ: {exc}") from exc


# --- the execution block a header vouches for -----------------------------------------------


def execution_block(header: Any, policy: str = NAME) -> TrustedBlock:
    """The execution block in a (verified) ``LightClientHeader``'s payload header."""
    execution = header.execution
    return TrustedBlock(
        number=int(execution.block_number),
        block_hash=bytes(execution.block_hash),
        state_root=bytes(execution.state_root),
        timestamp=int(execution.timestamp),
        policy=policy,
    )


def check_header(block: TrustedBlock, header_rlp: bytes) -> None:
    """Refuse a node-served execution header unless it is the vouched block's header."""
    if keccak(header_rlp) != block.block_hash:
        raise HeaderMismatch(
            f"header does not hash to the vouched block 0x{block.block_hash.hex()}"
        )
    fields = decode_rlp(header_rlp)  # hashes to the vouched hash: a header the EL made
    if not isinstance(fields, list) or len(fields) < 9:
        raise HeaderMismatch("vouched block's header is not an RLP list of header fields")
    state_root, number = fields[3], fields[8]
    if not isinstance(number, bytes) or state_root != block.state_root:
        raise HeaderMismatch("header's state root disagrees with the payload header")
    if int.from_bytes(number, "big") != block.number:
        raise HeaderMismatch("header's number disagrees with the payload header")


# --- the light client ------------------------------------------------------------------------


def _period(slot: int) -> int:
    return int(spec.compute_sync_committee_period_at_slot(spec.Slot(slot)))


def _valid_branch(leaf: Any, branch: Any, gindex: int, root: Any) -> bool:
    return bool(spec.is_valid_normalized_merkle_branch(leaf, branch, gindex, root))


def _participants(update: Any) -> int:
    return sum(bool(b) for b in update.sync_aggregate.sync_committee_bits)


class LightClient:
    """A bootstrapped light-client store, advanced only by verified updates (sans IO).

    ``slot_clock`` gives the current slot (an update signed later is from the future); on a
    real network it is local time since genesis (:func:`wall_clock_slot`).
    """

    def __init__(
        self,
        trusted_root: bytes,
        bootstrap: bytes,
        genesis_validators_root: bytes,
        slot_clock: Callable[[], int],
    ) -> None:
        self.genesis_validators_root = genesis_validators_root
        self.slot_clock = slot_clock
        self._applied = b""  # the last update applied
        digest, boot = _decode(bootstrap, spec.LightClientBootstrap, "bootstrap")
        self._check_digest(digest, int(boot.header.beacon.slot), "bootstrap")
        if bytes(spec.hash_tree_root(boot.header.beacon)) != trusted_root:
            raise CheckpointMismatch(
                f"bootstrap header is not the checkpoint 0x{trusted_root.hex()}"
            )
        if not spec.is_valid_light_client_header(boot.header):
            raise BadExecutionBranch("bootstrap header's execution payload is not in its body")
        if not _valid_branch(
            spec.hash_tree_root(boot.current_sync_committee),
            boot.current_sync_committee_branch,
            spec.current_sync_committee_gindex_at_slot(boot.header.beacon.slot),
            boot.header.beacon.state_root,
        ):
            raise BadCommitteeBranch("bootstrap's current sync committee is not in its state")
        try:
            self.store = spec.initialize_light_client_store(spec.Root(trusted_root), boot)
        except AssertionError as exc:  # every condition was checked above: the spec changed
            raise InvalidUpdate(f"consensus spec refused the bootstrap: {exc!r}") from exc

    # The checks, in the order the spec makes them; each raises its own error.

    def _check_digest(self, digest: bytes, slot: int, what: str) -> None:
        expected = fork_digest(self.genesis_validators_root, slot)
        if digest != expected:
            raise WrongFork(
                f"{what} is for fork digest 0x{digest.hex()}, this network's is 0x{expected.hex()}"
            )

    def _check_participation(self, update: Any) -> None:
        signed = _participants(update)
        if signed * 3 < COMMITTEE_SIZE * 2:
            raise TooFewParticipants(f"{signed} of {COMMITTEE_SIZE} signed, under 2/3")

    def _check_execution(self, update: Any) -> None:
        # An empty finalized header stands for "no finality" in the spec: nothing to check.
        headers = [("attested_header", update.attested_header)]
        if update.finalized_header != spec.LightClientHeader():
            headers.append(("finalized_header", update.finalized_header))
        for which, header in headers:
            if not spec.is_valid_light_client_header(header):
                raise BadExecutionBranch(
                    f"{which}'s execution payload header is not in its beacon block body"
                )

    def _check_slots(self, update: Any) -> None:
        now = self.slot_clock()
        signature = int(update.signature_slot)
        attested = int(update.attested_header.beacon.slot)
        finalized = int(update.finalized_header.beacon.slot)
        if signature > now:
            raise BadSlots(f"signed at slot {signature}, after the current slot {now}")
        if not signature > attested >= finalized:
            raise BadSlots(
                f"slots out of order: signature {signature}, attested {attested},"
                f" finalized {finalized}"
            )

    def _check_period(self, update: Any) -> None:
        store_period = _period(self.store.finalized_header.beacon.slot)
        signed = _period(update.signature_slot)
        known = (store_period, store_period + 1) if self.next_known else (store_period,)
        if signed not in known:
            raise PeriodGap(f"signed in period {signed}; committees known for {list(known)}")

    def _check_newer(self, update: Any) -> None:
        store_slot = int(self.store.finalized_header.beacon.slot)
        brings_committee = (
            not self.next_known
            and spec.is_sync_committee_update(update)
            and _period(update.attested_header.beacon.slot) == _period(store_slot)
        )
        if int(update.finalized_header.beacon.slot) <= store_slot and not brings_committee:
            raise OldUpdate(
                f"finalizes slot {int(update.finalized_header.beacon.slot)}, not newer than"
                f" slot {store_slot} already trusted"
            )

    def _check_finality(self, update: Any) -> None:
        if not spec.is_finality_update(update):
            return  # _check_newer refuses it: nothing newer is finalized
        if not _valid_branch(
            spec.hash_tree_root(update.finalized_header.beacon),
            update.finality_branch,
            spec.finalized_root_gindex_at_slot(update.attested_header.beacon.slot),
            update.attested_header.beacon.state_root,
        ):
            raise BadFinalityBranch("finalized header is not the attested state's finalized root")

    def _check_next_committee(self, update: Any) -> None:
        if not spec.is_sync_committee_update(update):
            return
        same_period = _period(update.attested_header.beacon.slot) == _period(
            self.store.finalized_header.beacon.slot
        )
        if (
            self.next_known
            and same_period
            and (update.next_sync_committee != self.store.next_sync_committee)
        ):
            raise BadCommitteeBranch("next sync committee differs from the one already learnt")
        if not _valid_branch(
            spec.hash_tree_root(update.next_sync_committee),
            update.next_sync_committee_branch,
            spec.next_sync_committee_gindex_at_slot(update.attested_header.beacon.slot),
            update.attested_header.beacon.state_root,
        ):
            raise BadCommitteeBranch("next sync committee is not in the attested state")

    def _signature_verifies(self, update: Any) -> bool:
        store_period = _period(self.store.finalized_header.beacon.slot)
        committee = (
            self.store.current_sync_committee
            if _period(update.signature_slot) == store_period
            else self.store.next_sync_committee
        )
        bits = update.sync_aggregate.sync_committee_bits
        pubkeys = [pk for bit, pk in zip(bits, committee.pubkeys, strict=True) if bit]
        fork_slot = max(int(update.signature_slot), 1) - 1
        fork_version = spec.compute_fork_version(spec.compute_epoch_at_slot(spec.Slot(fork_slot)))
        domain = spec.compute_domain(
            spec.DOMAIN_SYNC_COMMITTEE, fork_version, spec.Root(self.genesis_validators_root)
        )
        root = spec.compute_signing_root(update.attested_header.beacon, domain)
        return bool(
            bls.FastAggregateVerify(pubkeys, root, update.sync_aggregate.sync_committee_signature)
        )

    #: The named checks, in the spec's order (tests disable one at a time).
    CHECKS: tuple[str, ...] = (
        "_check_participation",
        "_check_execution",
        "_check_slots",
        "_check_period",
        "_check_newer",
        "_check_finality",
        "_check_next_committee",
    )

    @property
    def next_known(self) -> bool:
        return bool(spec.is_next_sync_committee_known(self.store))

    def process(self, raw: bytes) -> None:
        """Verify one served update and advance the store, or raise and change nothing."""
        if raw == self._applied:  # served again: decoding alone costs more than the rest
            raise OldUpdate("update already applied", check=Check.REPLAY)
        digest, update = _decode(raw, spec.LightClientUpdate, "update")
        self._check_digest(digest, int(update.attested_header.beacon.slot), "update")
        for check in self.CHECKS:
            getattr(self, check)(update)
        # The signature last and once: process_light_client_update verifies it (the costly
        # pairing); only when the spec refuses is it re-checked here, to name the failure.
        before = self.store
        self.store = _copy_store(before)
        try:
            spec.process_light_client_update(
                self.store,
                update,
                spec.Slot(self.slot_clock()),
                spec.Root(self.genesis_validators_root),
            )
        except AssertionError as exc:
            self.store = before
            if not self._signature_verifies(update):
                raise BadSignature(
                    "sync committee aggregate signature does not verify over the attested header"
                ) from exc
            raise InvalidUpdate(f"consensus spec refused the update: {exc!r}") from exc
        if (
            self.store.finalized_header == before.finalized_header
            and self.store.next_sync_committee == before.next_sync_committee
        ):
            # Accepted by the spec but not applied (it keeps it as a "best" update only):
            # nothing newer is trusted.  Not reached with >= 2/3 and a newer finalized header.
            self.store = before
            raise InvalidUpdate("update was valid but did not advance the finalized header")
        self._applied = raw

    def trusted(self) -> TrustedBlock:
        """The execution block of the newest finalized header (or the checkpoint's)."""
        return execution_block(self.store.finalized_header)

    @property
    def period(self) -> int:
        return _period(self.store.finalized_header.beacon.slot)

    @property
    def finalized_slot(self) -> int:
        return int(self.store.finalized_header.beacon.slot)


def _copy_store(store: Any) -> Any:
    """A copy of a ``LightClientStore`` (a plain dataclass of SSZ views), so a refused update
    leaves the store as it was even if the spec mutated it before its last assert."""
    return spec.LightClientStore(
        finalized_header=store.finalized_header.copy(),
        current_sync_committee=store.current_sync_committee.copy(),
        next_sync_committee=store.next_sync_committee.copy(),
        best_valid_update=store.best_valid_update,
        optimistic_header=store.optimistic_header.copy(),
        previous_max_active_participants=store.previous_max_active_participants,
        current_max_active_participants=store.current_max_active_participants,
    )


def wall_clock_slot(
    genesis_time: int, clock: Callable[[], float] = time.time, seconds_per_slot: int = 6
) -> Callable[[], int]:
    """A slot clock from local time (a real network: minimal preset 6 s slots, mainnet 12 s)."""
    return lambda: max(0, int(clock() - genesis_time) // seconds_per_slot)


# --- the policy ------------------------------------------------------------------------------


class UpdateSource(Protocol):
    """A (untrusted) beacon node's light-client endpoints, as served bytes."""

    def updates_by_range(self, start_period: int, count: int) -> Sequence[bytes]:
        """The best update of each period from ``start_period`` on (at most ``count``)."""
        ...

    def latest_update(self) -> bytes:
        """The newest update (it finalizes the newest block)."""
        ...


class SyncCommitteePolicy:
    """Vouches for the execution block that the sync committee finalized most recently.

    What it trusts: the checkpoint root given at provisioning and 2/3 of each period's sync
    committee.  The node serving updates and execution headers is not trusted.
    """

    name: str = NAME

    def __init__(
        self,
        client: LightClient,
        source: UpdateSource,
        freshness: Freshness,
        header_rlp: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.client = client
        self.source = source
        self.freshness = freshness
        self.header_rlp = header_rlp
        self._header_checked = b""  # the vouched block whose node header was last checked
        self._lock = threading.Lock()

    def sync(self) -> None:
        """Catch up: one update per period for the hand-overs, then the newest one.

        An update that is not newer is skipped (the store keeps its newer block; a node
        replaying old updates only leaves the head to age out under :class:`Freshness`);
        any other refusal is raised.
        """
        served = [*self.source.updates_by_range(self.client.period, MAX_UPDATES)]
        served.append(self.source.latest_update())
        for raw in served:
            try:
                self.client.process(raw)
            except OldUpdate:
                continue

    def trusted_block(self) -> TrustedBlock:
        with self._lock:  # look-ups may run in threads; the store advances one update at a time
            self.sync()
            block = self.client.trusted()
            if self.header_rlp is not None and block.block_hash != self._header_checked:
                try:
                    header = self.header_rlp(block.block_hash)
                except ChainError as exc:
                    raise HeaderMismatch(
                        f"node has no header for the vouched block: {exc}"
                    ) from exc
                check_header(block, header)
                self._header_checked = block.block_hash
            if block.policy != self.name:
                block = dataclasses.replace(block, policy=self.name)
            return self.freshness.check(block)

    @classmethod
    def for_chain(
        cls,
        chain: Any,
        *,
        consensus_chain: Any = None,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.time,
        seed: bytes = b"ethvoip-devnet",
    ) -> SyncCommitteePolicy:
        """A simulated beacon chain and a client bootstrapped from its checkpoint.

        ``chain`` (:class:`~.backend.Chain`) is the node the look-ups ask: the policy checks
        its execution headers against the vouched block.  ``consensus_chain`` (default
        ``chain``) is the execution chain the simulated committee follows and signs, the one
        a real beacon node's own execution client would run: to test a lying node, put the
        lying proxy in ``chain`` and the honest node in ``consensus_chain``.  The checkpoint
        root is taken from the simulation here; a real deployment pins it at provisioning.

        A simulation: the "consensus" is whoever holds the keys generated from ``seed``.
        It runs the light-client code of a real network, but shows nothing about the honesty
        of a real committee.
        """
        from ethvoip.impl.chain.beacon_sim import SimulatedBeacon

        beacon = SimulatedBeacon(consensus_chain or chain, seed=seed)
        client = LightClient(
            beacon.checkpoint_root,
            beacon.bootstrap(),
            beacon.genesis_validators_root,
            beacon.current_slot,
        )
        policy = cls(client, beacon, Freshness(max_age, clock), chain.header_rlp)
        # Said in every label: the committee is generated here and signs what the node it
        # follows says, so this vouches for that node's chain, not against it.
        policy.name = SIMULATED_NAME
        return policy
