"""The sync-committee light client against a simulated beacon chain with a generated committee.

Most tests run over a tiny in-memory execution chain (:class:`FakeExecution`, headers built
and hashed here) so that each update costs only its BLS work; one runs the whole policy over
eth-tester.  Every refusal is checked for its own error type and for a store left unchanged.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
import rlp
from eth_consensus_specs.capella import minimal as spec
from eth_consensus_specs.utils import bls
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.chain import Chain
from ethvoip.impl.chain.beacon_sim import SimulatedBeacon, aggregate_signature, committee_keys
from ethvoip.impl.chain.mpt import keccak
from ethvoip.impl.chain.sync_committee import (
    COMMITTEE_SIZE,
    BadCommitteeBranch,
    BadExecutionBranch,
    BadFinalityBranch,
    BadSignature,
    BadSlots,
    CheckpointMismatch,
    HeaderMismatch,
    InvalidUpdate,
    LightClient,
    MalformedData,
    OldUpdate,
    PeriodGap,
    SyncCommitteeError,
    SyncCommitteePolicy,
    TooFewParticipants,
    WrongFork,
    check_header,
    encode,
    wall_clock_slot,
)
from ethvoip.impl.chain.trust import Freshness, StaleHead, TrustedBlock
from ethvoip.spec.errors import ChainError, Check
from tests.refusals import refused

SEED = b"test-committee"
T0 = 1_800_000_000


class FakeExecution:
    """An execution chain reduced to its headers: each block's hash is keccak(rlp(header))."""

    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.blocks: list[dict[str, Any]] = []
        self.mine()

    def mine(self, seconds: int = 12) -> dict[str, Any]:
        number = len(self.blocks)
        parent = self.blocks[-1]["hash"] if self.blocks else b"\0" * 32
        state_root = keccak(b"state %d" % number)
        timestamp = T0 + seconds * number
        fields = [parent, keccak(b""), b"\x11" * 20, state_root, keccak(b"t"), keccak(b"r")]
        fields += [b"\0" * 256, 0, number, 30_000_000, 21_000, timestamp, b"", b"\0" * 32]
        fields += [b"\0" * 8, 7]
        header = rlp.encode(fields)
        block = {
            "hash": keccak(header),
            "parentHash": parent,
            "miner": "0x" + "11" * 20,
            "stateRoot": state_root,
            "receiptsRoot": keccak(b"r"),
            "logsBloom": b"\0" * 256,
            "mixHash": b"\0" * 32,
            "number": number,
            "gasLimit": 30_000_000,
            "gasUsed": 21_000,
            "timestamp": timestamp,
            "extraData": b"",
            "baseFeePerGas": 7,
        }
        self.headers[block["hash"]] = header
        self.blocks.append(block)
        return block

    def latest_block(self) -> dict[str, Any]:
        return self.blocks[-1]

    def header_rlp(self, block_hash: bytes) -> bytes:
        if block_hash not in self.headers:
            raise ChainError("no such block")
        return self.headers[block_hash]


def client_of(beacon: SimulatedBeacon, slot_clock: Callable[[], int] | None = None) -> LightClient:
    return LightClient(
        beacon.checkpoint_root,
        beacon.bootstrap(),
        beacon.genesis_validators_root,
        slot_clock or beacon.current_slot,
    )


def synced(beacon: SimulatedBeacon) -> LightClient:
    """A client past its first update, which taught it the next period's committee."""
    client = client_of(beacon)
    client.process(beacon.latest_update())
    assert client.next_known
    return client


def expected(block: dict[str, Any]) -> tuple[int, bytes, bytes, int]:
    return block["number"], block["hash"], block["stateRoot"], block["timestamp"]


def seen(client: LightClient) -> tuple[int, bytes, bytes, int]:
    b = client.trusted()
    return b.number, b.block_hash, b.state_root, b.timestamp


def mutate(raw: bytes, change: Callable[[Any], None]) -> bytes:
    update = spec.LightClientUpdate.decode_bytes(raw[4:])
    change(update)
    return encode(update, raw[:4])


@pytest.fixture
def execution() -> FakeExecution:
    return FakeExecution()


@pytest.fixture
def beacon(execution: FakeExecution) -> SimulatedBeacon:
    return SimulatedBeacon(execution, SEED)


def test_real_bls_backend_is_active() -> None:
    # A stub backend (bls_active False) would return True for anything.
    secrets, committee = committee_keys(SEED, 0)
    sig = aggregate_signature(secrets, range(3), b"\x01" * 32)
    pubkeys = list(committee.pubkeys)[:3]
    assert bls.bls_active
    assert bls.FastAggregateVerify(pubkeys, b"\x01" * 32, sig)
    assert not bls.FastAggregateVerify(pubkeys, b"\x02" * 32, sig)


def test_one_signing_with_summed_keys_is_the_aggregate_of_each_signature() -> None:
    secrets, _ = committee_keys(SEED, 0)
    message = b"\x05" * 32
    each = [bls.Sign(secrets[i], message) for i in range(COMMITTEE_SIZE)]
    assert aggregate_signature(secrets, range(COMMITTEE_SIZE), message) == bls.Aggregate(each)


def test_good_update_vouches_for_the_execution_head(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    client = client_of(beacon)
    assert seen(client) == expected(execution.blocks[0])  # the checkpoint's own block
    block = execution.mine()
    client.process(beacon.latest_update())
    assert seen(client) == expected(block)
    assert client.trusted().policy == "sync-committee"


def test_two_thirds_exactly_is_enough(execution: FakeExecution) -> None:
    beacon = SimulatedBeacon(execution, SEED, participants=22)  # 22 * 3 >= 32 * 2
    client = client_of(beacon)
    block = execution.mine()
    client.process(beacon.latest_update())
    assert seen(client) == expected(block)


def test_too_few_participants(execution: FakeExecution) -> None:
    good = SimulatedBeacon(execution, SEED)
    weak = SimulatedBeacon(execution, SEED, participants=21)  # 21 * 3 < 32 * 2
    assert weak.checkpoint_root == good.checkpoint_root  # the same chain, fewer signers
    client = client_of(weak)
    before = seen(client)
    execution.mine()
    with pytest.raises(TooFewParticipants):
        client.process(weak.latest_update())
    assert seen(client) == before


# (description, change to the served update, expected refusal)
FORGERIES: list[tuple[str, Callable[[Any], None], type[SyncCommitteeError]]] = [
    (
        "forged finalized state root",
        lambda u: setattr(u.finalized_header.execution, "state_root", b"\x66" * 32),
        BadExecutionBranch,
    ),
    (
        "forged attested state root",
        lambda u: setattr(u.attested_header.execution, "state_root", b"\x66" * 32),
        BadExecutionBranch,
    ),
    (
        "forged finalized block number",
        lambda u: setattr(u.finalized_header.execution, "block_number", 10**6),
        BadExecutionBranch,
    ),
    (
        "forged finalized block hash",
        lambda u: setattr(u.finalized_header.execution, "block_hash", b"\x66" * 32),
        BadExecutionBranch,
    ),
    (
        "forged finalized timestamp",
        lambda u: setattr(u.finalized_header.execution, "timestamp", T0 + 10**6),
        BadExecutionBranch,
    ),
    (
        "signature of another key",
        lambda u: setattr(
            u.sync_aggregate, "sync_committee_signature", bls.Sign(12345, b"\x01" * 32)
        ),
        BadSignature,
    ),
    (
        "signature that is no curve point",
        lambda u: setattr(u.sync_aggregate, "sync_committee_signature", b"\x01" * 96),
        BadSignature,
    ),
    (
        "participation bits that are not the signers",
        lambda u: u.sync_aggregate.sync_committee_bits.__setitem__(0, False),
        BadSignature,
    ),
    (
        "finalized header not the attested state's",
        lambda u: setattr(u.finalized_header.beacon, "proposer_index", 9),
        BadFinalityBranch,
    ),
    (
        "forged next sync committee",
        lambda u: setattr(u, "next_sync_committee", committee_keys(SEED, 99)[1]),
        BadCommitteeBranch,
    ),
    (
        "signature slot not after the attested slot",
        lambda u: setattr(u, "signature_slot", u.attested_header.beacon.slot),
        BadSlots,
    ),
]


@pytest.mark.parametrize(
    ("change", "error"), [(c, e) for _, c, e in FORGERIES], ids=[d for d, _, _ in FORGERIES]
)
def test_forged_update_is_refused(
    execution: FakeExecution,
    beacon: SimulatedBeacon,
    change: Callable[[Any], None],
    error: type[SyncCommitteeError],
) -> None:
    client = client_of(beacon)
    before = seen(client)
    execution.mine()
    good = beacon.latest_update()
    with pytest.raises(error):
        client.process(mutate(good, change))
    assert seen(client) == before
    client.process(good)  # nothing was spoilt: the genuine update still goes through
    assert seen(client) != before


def test_short_signature_does_not_decode(execution: FakeExecution, beacon: SimulatedBeacon) -> None:
    client = client_of(beacon)
    execution.mine()
    raw = beacon.latest_update()
    sig = bytes(
        spec.LightClientUpdate.decode_bytes(raw[4:]).sync_aggregate.sync_committee_signature
    )
    at = raw.index(sig)
    with pytest.raises(MalformedData):
        client.process(raw[:at] + sig[:95] + raw[at + 96 :])


def test_update_from_the_future(execution: FakeExecution, beacon: SimulatedBeacon) -> None:
    client = client_of(beacon, slot_clock=lambda: beacon.current_slot() - 1)
    execution.mine()
    with pytest.raises(BadSlots):
        client.process(beacon.latest_update())


@pytest.mark.parametrize(
    "network",
    [
        {"fork_version": bytes(spec.config.ALTAIR_FORK_VERSION)},
        {"genesis_validators_root": b"\x42" * 32},
    ],
    ids=["wrong fork version", "wrong genesis validators root"],
)
def test_update_of_another_network(execution: FakeExecution, network: dict[str, bytes]) -> None:
    ours = SimulatedBeacon(execution, SEED)
    other = SimulatedBeacon(execution, SEED, **network)  # the same keys sign elsewhere
    client = client_of(ours)
    execution.mine()
    raw = other.latest_update()
    with pytest.raises(WrongFork):
        client.process(raw)
    # relabelled with this network's digest, the signature (over the other domain) fails
    with pytest.raises(BadSignature):
        client.process(ours.latest_update()[:4] + raw[4:])


def test_old_update_is_refused(execution: FakeExecution, beacon: SimulatedBeacon) -> None:
    client = client_of(beacon)
    execution.mine()
    first = beacon.latest_update()
    client.process(first)
    with refused(Check.REPLAY, OldUpdate):
        client.process(first)  # a replay, named as one (not only as not newer)
    newest = execution.mine()
    second = beacon.latest_update()
    client.process(second)
    with pytest.raises(OldUpdate):
        client.process(first)  # older than what is trusted
    assert seen(client) == expected(newest)


def test_update_without_finality_vouches_for_nothing(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    """An optimistic update (signed, but finalizing nothing) never moves the vouched block."""
    client = synced(beacon)
    before = seen(client)
    execution.mine()

    def optimistic(u: Any) -> None:
        u.finalized_header = spec.LightClientHeader()
        u.finality_branch = spec.FinalityBranch()

    with pytest.raises(OldUpdate):
        client.process(mutate(beacon.latest_update(), optimistic))
    assert seen(client) == before


def test_committee_hand_over_across_periods(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    client = synced(beacon)
    start = client.period
    for step in range(1, 4):
        beacon.skip_period()
        block = execution.mine()
        client.process(beacon.latest_update())
        assert client.period == start + step
        assert seen(client) == expected(block)
    # the committees really changed hands
    assert committee_keys(SEED, start)[1] != committee_keys(SEED, start + 3)[1]


def test_update_signed_by_the_previous_committee_after_hand_over(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    client = synced(beacon)
    old_period = client.period
    beacon.skip_period()
    execution.mine()
    raw = beacon.latest_update()
    old_secrets, _ = committee_keys(SEED, old_period)

    def resign(u: Any) -> None:
        domain = spec.compute_domain(
            spec.DOMAIN_SYNC_COMMITTEE,
            spec.config.CAPELLA_FORK_VERSION,
            spec.Root(beacon.genesis_validators_root),
        )
        root = bytes(spec.compute_signing_root(u.attested_header.beacon, domain))
        u.sync_aggregate.sync_committee_signature = aggregate_signature(
            old_secrets, range(COMMITTEE_SIZE), root
        )

    with pytest.raises(BadSignature):
        client.process(mutate(raw, resign))
    client.process(raw)
    assert client.period == old_period + 1


def test_missed_period_is_a_gap(execution: FakeExecution, beacon: SimulatedBeacon) -> None:
    client = synced(beacon)
    beacon.skip_period()
    execution.mine()
    beacon.follow_head()  # period p+1 signs (the client misses it)
    beacon.skip_period()
    execution.mine()
    with pytest.raises(PeriodGap):
        client.process(beacon.latest_update())


def test_policy_catches_up_over_missed_periods(execution: FakeExecution) -> None:
    beacon = SimulatedBeacon(execution, SEED)
    client = client_of(beacon)
    policy = SyncCommitteePolicy(
        client, beacon, Freshness(3600, lambda: T0 + 100.0), execution.header_rlp
    )
    start = client.period
    for _ in range(3):
        beacon.skip_period()
        execution.mine()
        beacon.follow_head()
    newest = execution.mine()
    block = policy.trusted_block()
    assert (block.number, block.block_hash, block.state_root, block.timestamp) == expected(newest)
    assert block.policy == "sync-committee"
    assert client.period == start + 3


def test_policy_refuses_a_stale_head(execution: FakeExecution, beacon: SimulatedBeacon) -> None:
    execution.mine()
    newest = execution.latest_block()["timestamp"]
    now = [newest + 100.0]
    policy = SyncCommitteePolicy(client_of(beacon), beacon, Freshness(300, lambda: now[0]))
    assert policy.trusted_block().timestamp == newest
    now[0] = newest + 301.0
    with pytest.raises(StaleHead):
        policy.trusted_block()


def test_policy_ignores_a_replayed_old_update(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    class Replaying:
        def __init__(self) -> None:
            self.served: list[bytes] = []

        def updates_by_range(self, start: int, count: int) -> list[bytes]:
            return []

        def latest_update(self) -> bytes:
            return self.served[0]

    replay = Replaying()
    execution.mine()
    replay.served.append(beacon.latest_update())
    newest = execution.mine()
    client = client_of(beacon)
    client.process(beacon.latest_update())
    policy = SyncCommitteePolicy(client, replay, Freshness(10**6, lambda: float(T0)))
    assert policy.trusted_block().number == newest["number"]  # not rolled back


def test_node_header_must_be_the_vouched_block(execution: FakeExecution) -> None:
    block = execution.mine()
    vouched = TrustedBlock(
        block["number"], block["hash"], block["stateRoot"], block["timestamp"], "sync-committee"
    )
    check_header(vouched, execution.header_rlp(block["hash"]))
    with pytest.raises(HeaderMismatch):
        check_header(vouched, execution.header_rlp(execution.blocks[0]["hash"]))
    lying = TrustedBlock(block["number"], block["hash"], b"\x66" * 32, 0, "sync-committee")
    with pytest.raises(HeaderMismatch):
        check_header(lying, execution.header_rlp(block["hash"]))
    wrong_number = TrustedBlock(0, block["hash"], block["stateRoot"], 0, "sync-committee")
    with pytest.raises(HeaderMismatch):
        check_header(wrong_number, execution.header_rlp(block["hash"]))


def test_policy_refuses_when_the_node_has_no_header(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    execution.mine()

    def no_header(block_hash: bytes) -> bytes:
        raise ChainError("not found")

    policy = SyncCommitteePolicy(
        client_of(beacon), beacon, Freshness(10**6, lambda: float(T0)), no_header
    )
    with pytest.raises(HeaderMismatch):
        policy.trusted_block()


def test_bootstrap_must_be_the_checkpoint(beacon: SimulatedBeacon) -> None:
    with pytest.raises(CheckpointMismatch):
        LightClient(b"\x01" * 32, beacon.bootstrap(), beacon.genesis_validators_root, lambda: 0)


def _boot(beacon: SimulatedBeacon, change: Callable[[Any], None]) -> bytes:
    boot = spec.LightClientBootstrap.decode_bytes(beacon.bootstrap()[4:])
    change(boot)
    return encode(boot, beacon.bootstrap()[:4])


def test_bootstrap_with_a_forged_committee(beacon: SimulatedBeacon) -> None:
    raw = _boot(beacon, lambda b: setattr(b, "current_sync_committee", committee_keys(SEED, 99)[1]))
    with pytest.raises(BadCommitteeBranch):
        LightClient(beacon.checkpoint_root, raw, beacon.genesis_validators_root, lambda: 0)


def test_bootstrap_with_a_forged_execution_header(beacon: SimulatedBeacon) -> None:
    raw = _boot(beacon, lambda b: setattr(b.header.execution, "state_root", b"\x66" * 32))
    with pytest.raises(BadExecutionBranch):
        LightClient(beacon.checkpoint_root, raw, beacon.genesis_validators_root, lambda: 0)


def test_bootstrap_of_another_network(execution: FakeExecution, beacon: SimulatedBeacon) -> None:
    other = SimulatedBeacon(execution, SEED, genesis_validators_root=b"\x42" * 32)
    with pytest.raises(WrongFork):
        LightClient(other.checkpoint_root, other.bootstrap(), beacon.genesis_validators_root, int)


# A named check switched off, a forgery it catches: the spec's own assert must still refuse.
FORGERY = {description: change for description, change, _ in FORGERIES}
DEFENCE = {
    "_check_execution": FORGERY["forged finalized state root"],
    "_check_finality": FORGERY["finalized header not the attested state's"],
    "_check_next_committee": FORGERY["forged next sync committee"],
    "_check_slots": FORGERY["signature slot not after the attested slot"],
}


@pytest.mark.parametrize("check", sorted(DEFENCE))
def test_the_spec_still_refuses_without_the_named_check(
    execution: FakeExecution, beacon: SimulatedBeacon, check: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check in LightClient.CHECKS
    client = client_of(beacon)
    before = seen(client)
    execution.mine()
    monkeypatch.setattr(LightClient, check, lambda self, update: None)
    with pytest.raises(InvalidUpdate):
        client.process(mutate(beacon.latest_update(), DEFENCE[check]))
    assert seen(client) == before


def test_the_slot_order_lets_an_update_finalize_its_attested_slot(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    """signature > attested >= finalized, as the spec orders them: equal is let by."""
    client = client_of(beacon)
    execution.mine()
    update = spec.LightClientUpdate.decode_bytes(beacon.latest_update()[4:])
    update.finalized_header.beacon.slot = update.attested_header.beacon.slot
    client._check_slots(update)
    update.finalized_header.beacon.slot += 1
    with pytest.raises(BadSlots):
        client._check_slots(update)


def _branch_root(leaf: Any, branch: Any, gindex: int) -> bytes:
    """The root under which ``branch`` proves ``leaf`` at ``gindex``."""
    depth = int(gindex).bit_length() - 1
    index = int(gindex) - (1 << depth)
    value = bytes(leaf)
    for i, sibling in enumerate(list(branch)[len(branch) - depth :]):
        pair = bytes(sibling) + value if index >> i & 1 else value + bytes(sibling)
        value = bytes(spec.hash(pair))
    return value


def test_a_next_committee_other_than_the_learnt_one_is_refused_even_if_proven(
    execution: FakeExecution, beacon: SimulatedBeacon
) -> None:
    """A committee of the same period that the attested state does commit to (a state root
    made for it) is still refused once one is learnt: the branch alone does not decide."""
    client = synced(beacon)
    execution.mine()
    update = spec.LightClientUpdate.decode_bytes(beacon.latest_update()[4:])
    assert spec.is_sync_committee_update(update)
    forged = update.next_sync_committee.copy()
    forged.aggregate_pubkey = spec.BLSPubkey(bytes(forged.pubkeys[0]))
    assert forged != client.store.next_sync_committee
    update.next_sync_committee = forged
    gindex = spec.next_sync_committee_gindex_at_slot(update.attested_header.beacon.slot)
    update.attested_header.beacon.state_root = spec.Root(
        _branch_root(spec.hash_tree_root(forged), update.next_sync_committee_branch, gindex)
    )
    with pytest.raises(BadCommitteeBranch, match="differs"):
        client._check_next_committee(update)


def test_a_replay_past_the_newer_check_is_not_applied(
    execution: FakeExecution, beacon: SimulatedBeacon, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The signature slot is not signed: moved one slot on, an applied update is new bytes
    # that the spec still finds valid (it keeps it as a candidate) but that advance nothing.
    client = client_of(beacon, slot_clock=lambda: beacon.current_slot() + 1)
    execution.mine()
    applied = beacon.latest_update()
    client.process(applied)
    replay = mutate(applied, lambda u: setattr(u, "signature_slot", u.signature_slot + 1))
    with pytest.raises(OldUpdate):
        client.process(replay)
    monkeypatch.setattr(LightClient, "_check_newer", lambda self, update: None)
    with pytest.raises(InvalidUpdate):
        client.process(replay)


def test_lying_node_cannot_move_the_vouched_block(execution: FakeExecution) -> None:
    """The committee follows the honest chain; the node the look-ups ask forges its head."""
    liar = FakeExecution()
    for _ in range(3):
        liar.mine(seconds=13)  # another chain: other hashes and state roots
    honest = execution.mine()
    policy = SyncCommitteePolicy.for_chain(
        liar, consensus_chain=execution, clock=lambda: float(T0), seed=SEED
    )
    with pytest.raises(HeaderMismatch):  # the liar has no header for the vouched block
        policy.trusted_block()
    liar.headers[honest["hash"]] = liar.headers[liar.latest_block()["hash"]]
    with pytest.raises(HeaderMismatch):  # nor can it pass its own header off as that block
        policy.trusted_block()
    assert policy.client.trusted().state_root == honest["stateRoot"]


def test_wall_clock_slot() -> None:
    assert wall_clock_slot(1000, lambda: 1000 + 6 * 5 + 5.9)() == 5
    assert wall_clock_slot(1000, lambda: 1000 + 12 * 7, seconds_per_slot=12)() == 7
    assert wall_clock_slot(1000, lambda: 900.0)() == 0  # before genesis


@pytest.fixture(scope="module")
def fuzz_client() -> LightClient:
    return client_of(SimulatedBeacon(FakeExecution(), SEED))


@given(data=st.binary(max_size=300))
def test_garbage_is_a_typed_refusal(fuzz_client: LightClient, data: bytes) -> None:
    before = seen(fuzz_client)
    with pytest.raises(SyncCommitteeError):
        fuzz_client.process(data)
    assert seen(fuzz_client) == before


@given(data=st.binary(max_size=300))
def test_garbage_bootstrap_is_a_typed_refusal(data: bytes) -> None:
    with pytest.raises(SyncCommitteeError):
        LightClient(b"\x01" * 32, data, b"\x02" * 32, lambda: 0)


def test_for_chain_vouches_for_the_node_head(chain: Chain) -> None:
    """eth-tester, and anvil (integration): the simulated beacon signs the real chain's head."""
    policy = SyncCommitteePolicy.for_chain(chain, clock=lambda: 0.0)
    for _ in range(2):
        chain.increase_time(5)
        block = policy.trusted_block()  # also checks the node's header hashes to the payload's
        head = chain.latest_block()
        assert (block.number, block.block_hash, block.state_root, block.timestamp) == (
            head["number"],
            bytes(head["hash"]),
            bytes(head["stateRoot"]),
            head["timestamp"],
        )


_ROOT = bytes(range(32))


def _header(n: int = 15, **at: Any) -> bytes:
    fields: list[Any] = [b"\x01"] * n
    fields[3] = _ROOT
    fields[8:9] = [b"\x07"] if n > 8 else []  # the number, when there is a ninth field
    for i, v in at.items():
        fields[int(i[1:])] = v
    return rlp.encode(fields)


def _vouched(header: bytes, **changes: Any) -> TrustedBlock:
    block = TrustedBlock(7, keccak(header), _ROOT, 0, "sync-committee")
    return dataclasses.replace(block, **changes)


@pytest.mark.parametrize("n", [9, 15])
def test_a_vouched_header_of_nine_fields_or_more_is_read(n: int) -> None:
    check_header(_vouched(_header(n)), _header(n))


@pytest.mark.parametrize(
    ("header", "changes"),
    [
        (_header(), {"block_hash": bytes(32)}),  # hashes to another block
        (_header(8), {}),  # eight fields: not a header
        (_header(f8=[b"\x07"]), {}),  # the number is a list
        (_header(), {"state_root": bytes(32)}),  # another state root
        (_header(), {"number": 8}),  # another number
    ],
    ids=["hash", "eight-fields", "number-a-list", "state-root", "number"],
)
def test_a_header_that_is_not_the_vouched_blocks_is_refused(
    header: bytes, changes: dict[str, Any]
) -> None:
    with pytest.raises(HeaderMismatch):
        check_header(_vouched(header, **changes), header)


def test_the_light_client_refuses_to_load_on_a_stub_bls() -> None:
    # a stub BLS accepts every signature: the module must not load on one (in a process of
    # its own, so this one keeps its real BLS and its imported modules)
    code = (
        "from eth_consensus_specs.utils import bls\n"
        "bls.bls_active = False\n"
        "import ethvoip.impl.chain.sync_committee\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "ImportError: eth_consensus_specs BLS is switched off" in done.stderr
