"""ChainDirectory without a trust policy (the UNVERIFIED look-up, at the node's own head):
how many round trips a look-up costs, that it is labelled unverified, and that the cheaper
reads leave every consistency check in place (a revocation is refused at the very next look-up,
a header that does not hash to the head is refused, a proof from another block is not
accepted for this one).

The round-trip tests count the JSON-RPC requests anvil receives (``integration``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.call.provision import Provisioned, deploy, register_numbers
from ethvoip.impl.chain import Chain, EmbeddedChain, RpcChain, identifier, start_anvil
from ethvoip.impl.crypto import IdentityKey, seeded_rng
from ethvoip.spec.errors import ChainError, Check, ProofError
from tests.refusals import refused

CAROL, DAVE = "+96100000201", "+96100000202"


class Recorder:
    """A JSON-RPC client wrapper that logs each request's methods and can rewrite answers."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[list[str]] = []
        self.rewrite: Any = None  # (calls, answers) -> answers

    def call(self, method: str, params: Sequence[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.requests.append([m for m, _ in calls])
        answers = self.inner.batch(calls)
        return self.rewrite(calls, answers) if self.rewrite else answers

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def anvil() -> Iterator[RpcChain]:
    with start_anvil() as node:
        chain = RpcChain(node.url)
        yield chain
        chain.close()


def _world(chain: Chain) -> tuple[Provisioned, dict[str, IdentityKey]]:
    world = deploy(chain, b"\x07" * 32)
    rng = seeded_rng(b"directory head")
    keys = {n: IdentityKey.generate(rng) for n in (CAROL, DAVE)}
    register_numbers(world, keys)
    return world, keys


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.integration)])
def chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    if request.param == "anvil":
        yield request.getfixturevalue("anvil")
        return
    embedded = EmbeddedChain()
    yield embedded
    embedded.close()


def test_revocation_is_refused_at_the_next_lookup(chain: Chain) -> None:
    world, keys = _world(chain)
    directory = ChainDirectory(world.keystore, world.salt, None)
    assert directory.lookup(CAROL) == keys[CAROL].public_key
    assert directory.lookup(CAROL) == keys[CAROL].public_key  # cached at this head
    world.keystore.operator_revoke(identifier(CAROL, world.salt), world.operator)
    with pytest.raises(ChainError, match="no approved key"):
        directory.lookup(CAROL)  # no stale key: the head moved, so it is proven again
    assert directory.lookup(DAVE) == keys[DAVE].public_key


@pytest.mark.integration
def test_round_trips_per_lookup(anvil: RpcChain, monkeypatch: pytest.MonkeyPatch) -> None:
    world, keys = _world(anvil)
    rec = Recorder(anvil.rpc)
    monkeypatch.setattr(anvil, "rpc", rec)
    directory = ChainDirectory(world.keystore, world.salt, None)
    assert directory.lookup(CAROL) == keys[CAROL].public_key
    assert rec.requests == [["eth_getBlockByNumber", "eth_getProof"]]  # head + proof: one batch
    assert directory.lookup(CAROL) == keys[CAROL].public_key
    assert rec.requests[1:] == [["eth_getBlockByNumber", "eth_getProof"]]  # one, proof unused
    assert directory.lookup(DAVE) == keys[DAVE].public_key
    assert rec.requests[2:] == [["eth_getBlockByNumber", "eth_getProof"]]
    assert directory.proofs_checked == 2  # the second look-up of CAROL checked no proof
    anvil.increase_time(1)  # a new block: the cached key is proven again at the new head
    rec.requests.clear()
    assert directory.lookup(CAROL) == keys[CAROL].public_key
    # still one round trip; the head's header comes from its answer: no eth_getBlockByHash
    assert rec.requests == [["eth_getBlockByNumber", "eth_getProof"]]
    assert directory.proofs_checked == 3


@pytest.mark.integration
def test_proof_from_another_block_is_asked_again_by_hash(
    anvil: RpcChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, keys = _world(anvil)
    before = anvil.rpc.call("eth_getBlockByNumber", ["latest", False])["hash"]
    register_numbers(world, {"+96100000203": IdentityKey.generate(seeded_rng(b"z"))})
    rec = Recorder(anvil.rpc)

    def stale_proof(calls: Sequence[tuple[str, Sequence[Any]]], answers: list[Any]) -> list[Any]:
        # the proof at "latest" answered as of an older block (as if the head moved mid-batch)
        for i, (method, params) in enumerate(calls):
            if method == "eth_getProof" and params[2] == "latest":
                older = [*params[:2], {"blockHash": before}]
                answers[i] = rec.inner.call("eth_getProof", older)
        return answers

    rec.rewrite = stale_proof
    monkeypatch.setattr(anvil, "rpc", rec)
    directory = ChainDirectory(world.keystore, world.salt, None)
    assert directory.lookup(CAROL) == keys[CAROL].public_key
    assert rec.requests == [["eth_getBlockByNumber", "eth_getProof"], ["eth_getProof"]]


@pytest.mark.integration
def test_head_header_that_does_not_hash_is_refused(
    anvil: RpcChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, keys = _world(anvil)
    rec = Recorder(anvil.rpc)

    def forged_root(calls: Sequence[tuple[str, Sequence[Any]]], answers: list[Any]) -> list[Any]:
        answers[0] = {**answers[0], "stateRoot": "0x" + "11" * 32}
        return answers

    rec.rewrite = forged_root
    monkeypatch.setattr(anvil, "rpc", rec)
    directory = ChainDirectory(world.keystore, world.salt, None)
    with refused(Check.HEADER_HASH, ProofError):
        directory.lookup(CAROL)
    rec.rewrite = None  # the honest answer is then accepted: nothing bad was remembered
    assert directory.lookup(CAROL) == keys[CAROL].public_key
    assert directory.proofs_checked == 1


class _Batch:
    """An RPC endpoint that answers a batch with fixed answers (no node)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        return self.answers


_HASH = "0x" + "ab" * 32


@pytest.mark.parametrize(
    "block",
    [
        None,  # not a block
        {"number": "0x1"},  # no hash
        {"hash": 5},
        {"hash": "ab" * 33},  # 66 characters, but no 0x
        {"hash": "0x" + "ab" * 31},  # 0x-hex, but 31 bytes
    ],
)
def test_a_head_without_a_32_byte_hash_is_refused(block: Any) -> None:
    from types import SimpleNamespace

    from ethvoip.impl.call.head import _rpc_head

    good = _rpc_head(SimpleNamespace(rpc=_Batch({"hash": _HASH}, {})), bytes(20), [])  # type: ignore[arg-type]
    assert good.block_hash == bytes.fromhex("ab" * 32)
    with pytest.raises(ChainError, match="eth_getBlockByNumber"):
        _rpc_head(SimpleNamespace(rpc=_Batch(block, {})), bytes(20), [])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "key"), [(3, bytes(64)), (2, None)], ids=["revoked-with-key", "approved-no-key"]
)
def test_only_an_approved_record_with_a_key_is_kept(status: int, key: bytes | None) -> None:
    from ethvoip.impl.chain.proofs import APPROVED, VerifiedRecord

    directory = ChainDirectory(None, b"", None)  # type: ignore[arg-type]
    assert APPROVED == 2
    with pytest.raises(ChainError, match="no approved key"):
        directory._keep(bytes(32), "+1", VerifiedRecord(1, status, 1, key), None)
