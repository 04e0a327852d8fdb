"""The checkpoint and quorum policies' refusals against faked JSON-RPC answers (no node).

Each fake node is a list of header JSON objects it serves, so a test can make one lie in
exactly one way (another chain id, a fork at the checkpoint, a broken link, a missing or
malformed answer) and see the named refusal; the anvil tests (tests/call/test_trust_policies.py)
run the same policies against a real node.
"""

from __future__ import annotations

from typing import Any

import pytest
import rlp

from ethvoip.impl.chain.backend import RpcChain
from ethvoip.impl.chain.checkpoint import CheckpointPolicy, check_links, checkpoint_at
from ethvoip.impl.chain.headers import ChainHeader, header_from_json, latest_header, parse_header
from ethvoip.impl.chain.policies import TrustSettings
from ethvoip.impl.chain.quorum import QuorumPolicy
from ethvoip.impl.chain.trust import (
    BrokenLink,
    Checkpoint,
    CheckpointMismatch,
    Freshness,
    QuorumDisagreement,
    QuorumUnavailable,
    StaleHead,
)
from ethvoip.spec.errors import ChainError, Check, ConfigError, ProofInvalid
from tests.refusals import refused

CHAIN_ID = 5
HEX_ID = hex(CHAIN_ID)
NOW = 10_000.0


def block_json(number: int, parent: bytes, timestamp: int, salt: int = 0) -> dict[str, Any]:
    """A pre-London header as a node's JSON block (``salt`` makes a sibling)."""
    return {
        "parentHash": "0x" + parent.hex(),
        "sha3Uncles": "0x" + bytes(32).hex(),
        "miner": "0x" + bytes(20).hex(),
        "stateRoot": "0x" + (bytes([number % 256]) * 32).hex(),
        "transactionsRoot": "0x" + bytes(32).hex(),
        "receiptsRoot": "0x" + bytes(32).hex(),
        "logsBloom": "0x" + bytes(256).hex(),
        "difficulty": "0x0",
        "number": hex(number),
        "gasLimit": hex(30_000_000),
        "gasUsed": "0x0",
        "timestamp": hex(timestamp),
        "extraData": "0x" + bytes([salt]).hex() if salt else "0x",
        "mixHash": "0x" + bytes(32).hex(),
        "nonce": "0x" + bytes(8).hex(),
    }


def blocks(n: int, *, salt: int = 0, start: list[dict[str, Any]] | None = None) -> list[Any]:
    """``n`` linked blocks, one second apart (extending ``start`` if given)."""
    out: list[Any] = list(start or [])
    while len(out) < n:
        parent = header_from_json(out[-1]).block_hash if out else bytes(32)
        out.append(block_json(len(out), parent, int(NOW) - 100 + len(out), salt))
    return out


def hash_of(block: dict[str, Any]) -> bytes:
    return header_from_json(block).block_hash


class FakeAnswers:
    """The JSON-RPC answers of a node that serves ``chain`` (``latest`` its last entry,
    unless given)."""

    def __init__(self, chain: list[Any], chain_id: Any, latest: Any) -> None:
        self.chain, self.chain_id = chain, chain_id
        self.latest = chain[-1] if latest == "last" else latest

    def call(self, method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return self.chain_id
        if method == "eth_getProof":
            return None
        if method == "eth_getBlockByHash":
            return next((b for b in self.chain if "0x" + hash_of(b).hex() == params[0]), None)
        assert method == "eth_getBlockByNumber"
        if params[0] == "latest":
            return self.latest
        n = int(params[0], 16)
        return self.chain[n] if n < len(self.chain) else None

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        return [self.call(m, p) for m, p in calls]


class FakeNode(RpcChain):
    """An :class:`RpcChain` whose requests :class:`FakeAnswers` answers."""

    def __init__(self, chain: list[Any], *, chain_id: Any = HEX_ID, latest: Any = "last") -> None:
        self.chain = chain
        self.rpc = FakeAnswers(chain, chain_id, latest)  # type: ignore[assignment]


def fresh(clock: float = NOW) -> Freshness:
    return Freshness(600.0, lambda: clock)


# ----------------------------------------------------------------- headers


def test_headers_at_the_field_limits_parse() -> None:
    fields: list[Any] = [bytes(32)] * 8 + [b""] * 7
    fields[8] = fields[11] = (2**64 - 1).to_bytes(8, "big")  # number, timestamp: 8 bytes
    h = parse_header(bytes(rlp.encode(fields)))  # exactly 15 fields (pre-London)
    assert h.number == h.timestamp == 2**64 - 1
    with refused(Check.DECODE, ProofInvalid):
        parse_header(bytes(rlp.encode(fields[:14])))


def test_a_missing_head_is_a_chain_error() -> None:
    with pytest.raises(ChainError):
        latest_header(FakeNode(blocks(3), latest=None))


# ----------------------------------------------------------------- links


def test_equal_timestamps_link() -> None:
    a = ChainHeader(b"\x01" * 32, bytes(32), bytes(32), 1, 100)
    check_links(a, [ChainHeader(b"\x02" * 32, a.block_hash, bytes(32), 2, 100)])


# ----------------------------------------------------------------- checkpoint


def test_checkpoint_at_refuses_a_header_of_another_hash() -> None:
    chain = blocks(4)
    node = FakeNode(chain)
    assert checkpoint_at(node, hash_of(chain[2])) == Checkpoint(CHAIN_ID, 2, hash_of(chain[2]))
    node.rpc.call = lambda method, params: chain[3]  # type: ignore[method-assign]
    with refused(Check.CHECKPOINT, ProofInvalid):
        checkpoint_at(node, hash_of(chain[2]))


def policy(node: FakeNode, cp_number: int = 2, *, depth: int = 0, **kw: Any) -> CheckpointPolicy:
    cp = Checkpoint(CHAIN_ID, cp_number, hash_of(node.chain[cp_number]))
    return CheckpointPolicy(node, cp, depth=depth, freshness=kw.get("freshness", fresh()))


@pytest.mark.parametrize("with_proof", [False, True], ids=["head", "head+proof"])
def test_checkpoint_refuses_another_chain_or_block(with_proof: bool) -> None:
    def ask(p: CheckpointPolicy) -> object:
        return p.trusted_block_with_proof(b"\x01" * 20, []) if with_proof else p.trusted_block()

    chain = blocks(5)
    if not with_proof:  # (the fake node answers no proof)
        assert policy(FakeNode(chain)).trusted_block().block_hash == hash_of(chain[4])
    with refused(Check.CHECKPOINT, CheckpointMismatch):
        ask(policy(FakeNode(chain, chain_id=hex(CHAIN_ID + 1))))
    fork = blocks(5, salt=1)  # another block at the checkpoint's number
    p = policy(FakeNode(chain))
    p.chain = FakeNode(fork)
    with refused(Check.CHECKPOINT, CheckpointMismatch):
        ask(p)


@pytest.mark.parametrize(
    "node",
    [
        FakeNode(blocks(5), chain_id=None),  # no chain id in the pinning batch
        FakeNode(blocks(5)[:2]),  # no checkpoint block in it
        FakeNode(blocks(5), latest=None),  # no head
    ],
    ids=["chain id", "checkpoint block", "head"],
)
def test_checkpoint_with_proof_refuses_missing_answers(node: FakeNode) -> None:
    p = policy(FakeNode(blocks(5)))
    p.chain = node
    with pytest.raises(ChainError):
        p.trusted_block_with_proof(b"\x01" * 20, [])


def test_checkpoint_refuses_a_head_below_or_beside_the_anchor() -> None:
    chain = blocks(5)
    with refused(Check.ROLLBACK, StaleHead):
        policy(FakeNode(chain, latest=chain[1])).trusted_block()
    sibling = blocks(3, salt=1, start=chain[:2])[2]  # block 2 on a fork
    with pytest.raises(BrokenLink):
        policy(FakeNode(chain, latest=sibling)).trusted_block()


def test_checkpoint_refuses_a_head_that_does_not_link_back() -> None:
    chain = blocks(5)
    chain[3] = blocks(4, salt=1)[3]  # block 3 forged: block 4's parent hash names another
    with pytest.raises(BrokenLink):
        policy(FakeNode(chain)).trusted_block()


def test_checkpoint_refuses_a_stale_head() -> None:
    with refused(Check.FRESHNESS, StaleHead):
        policy(FakeNode(blocks(5)), freshness=fresh(NOW + 3600)).trusted_block()


# ----------------------------------------------------------------- quorum


def quorum(nodes: list[FakeNode], k: int, depth: int = 0) -> QuorumPolicy:
    endpoints = {f"n{i}": node for i, node in enumerate(nodes)}
    return QuorumPolicy(endpoints, k, depth=depth, freshness=fresh(), chain_id=CHAIN_ID)


def test_quorum_settings_bounds() -> None:
    nodes = [FakeNode(blocks(3)), FakeNode(blocks(3))]
    for k, depth in [(1, 0), (2, 0)]:
        quorum(nodes, k, depth).close()
    for k, depth in [(0, 0), (3, 0), (1, -1)]:
        with pytest.raises(ConfigError):
            quorum(nodes, k, depth)


def test_quorum_of_exactly_k_agrees() -> None:
    chain = blocks(5)
    p = quorum([FakeNode(chain), FakeNode(chain), FakeNode(chain, latest=None)], 2, depth=1)
    try:
        assert p.trusted_block().block_hash == hash_of(chain[3])
    finally:
        p.close()


@pytest.mark.parametrize(
    "second",
    [
        FakeNode(blocks(5), latest=None),  # no head: one of two answered
        FakeNode(blocks(5)[:3], latest=blocks(5)[4]),  # a head, but no block below it
    ],
    ids=["no head", "no block at the height"],
)
def test_quorum_refuses_fewer_than_k_votes(second: FakeNode) -> None:
    p = quorum([FakeNode(blocks(5)), second], 2, depth=1)
    try:
        with pytest.raises(QuorumUnavailable):
            p.trusted_block()
    finally:
        p.close()


def test_quorum_refuses_disagreement() -> None:
    p = quorum([FakeNode(blocks(5)), FakeNode(blocks(5, salt=1))], 1)
    try:
        with pytest.raises(QuorumDisagreement):
            p.trusted_block()
    finally:
        p.close()


# ----------------------------------------------------------------- settings


def test_settings_bounds_and_types() -> None:
    cp = Checkpoint(CHAIN_ID, 0, b"\xab" * 32)
    assert TrustSettings(cp, quorum=1).quorum == 1
    with pytest.raises(ConfigError):
        TrustSettings(cp, quorum=0)
    wrongs: list[dict[str, Any]] = [
        {"endpoints": [1]},
        {"max_age": "600"},
        {"quorum": True},
        {"depth": 1.0},
    ]
    for wrong in wrongs:
        with pytest.raises(ConfigError):
            TrustSettings.from_json({"checkpoint": cp.to_json(), **wrong})
