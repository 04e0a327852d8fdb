"""Trust policies against a real node (anvil) through lying JSON-RPC proxies.

Every refusal is checked by type (``BrokenLink``, ``QuorumDisagreement``, ``StaleHead`` ...),
and each lie is also shown to work where the check is absent: the unverified look-up (or a
proxy that tells the truth) gets the other answer, so each test fails without its check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ethvoip.attacks.cli import main as ethvoip
from ethvoip.attacks.lying_rpc import Lag, LyingRpc
from ethvoip.attacks.node_world import NodeWorld, provision
from ethvoip.attacks.world import PHONES
from ethvoip.impl.call import ChainDirectory
from ethvoip.impl.chain import AnvilProcess, RpcChain, identifier, start_anvil
from ethvoip.impl.chain.checkpoint import CheckpointPolicy
from ethvoip.impl.chain.headers import latest_header
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
from ethvoip.impl.subscriber.keyfile import save_trust
from ethvoip.spec.errors import ChainError, Check
from tests.refusals import refused

from .test_directory_head import Recorder

pytestmark = pytest.mark.integration

ALICE, BOB = PHONES["a"], PHONES["b"]
DAY = 86400.0


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilProcess]:
    with start_anvil() as anvil:
        yield anvil


@pytest.fixture
def net(node: AnvilProcess, request: pytest.FixtureRequest) -> Iterator[NodeWorld]:
    w = provision(node.url, request.node.name.encode())  # a KeyStore of its own per test
    w.mine(3)  # time passes: blocks above the checkpoint
    yield w
    w.chain.close()


def checkpoint_policy(w: NodeWorld, depth: int) -> Callable[[RpcChain], CheckpointPolicy]:
    def make(chain: RpcChain) -> CheckpointPolicy:
        fresh = Freshness(DAY, w.chain_time)
        return CheckpointPolicy(chain, w.checkpoint, depth=depth, freshness=fresh)

    return make


# ----------------------------------------------------------------- forged head


def test_forged_head_fools_the_unverified_lookup(net: NodeWorld) -> None:
    with LyingRpc(net.url, net.forge_b(below_head=0)) as liar:
        got = net.directory(liar.url, lambda _: None).resolve(BOB)
    assert liar.lied > 0
    assert got.key == net.keys["e"].public_key  # the proof checked, against the node's forgery
    assert not got.verified and got.label.startswith("unverified")


def test_forged_block_breaks_the_link_under_checkpoint(net: NodeWorld) -> None:
    with (
        LyingRpc(net.url, net.forge_b(below_head=1)) as liar,
        pytest.raises(BrokenLink) as refused,
    ):
        net.directory(liar.url, checkpoint_policy(net, depth=1)).lookup(BOB)
    head = latest_header(net.chain).number
    assert refused.value.number == head  # the real child no longer names the forged parent
    with LyingRpc(net.url) as honest:  # the same policy through a truthful node
        got = net.directory(honest.url, checkpoint_policy(net, depth=1)).resolve(BOB)
    assert got.key == net.keys["b"].public_key
    assert got.block is not None and got.block.number == head - 1
    assert got.label.startswith(f"verified by checkpoint at block {head - 1}")


def test_a_forged_head_is_not_proven_against_under_depth(net: NodeWorld) -> None:
    with LyingRpc(net.url, net.forge_b(below_head=0)) as liar:
        got = net.directory(liar.url, checkpoint_policy(net, depth=1)).resolve(BOB)
    assert liar.lied > 0 and got.key == net.keys["b"].public_key


def test_another_block_at_an_accepted_height_is_refused(net: NodeWorld) -> None:
    with LyingRpc(net.url) as proxy:
        directory = net.directory(proxy.url, checkpoint_policy(net, depth=0))
        assert directory.lookup(BOB) == net.keys["b"].public_key  # accepts the real head
        proxy.lie = net.forge_b(below_head=0)  # then rewrites that very block
        with refused(Check.HEADER_CHAIN, BrokenLink):
            directory.lookup(BOB)
        proxy.lie = None  # the refusal changed nothing: the real block is still accepted
        assert directory.lookup(BOB) == net.keys["b"].public_key


def test_invented_descendants_pass_the_checkpoint_but_not_a_quorum(net: NodeWorld) -> None:
    """The documented limit: one node can invent a chain on top of the last accepted block."""
    lie = net.forge_b(below_head=1, descendants=True)
    with LyingRpc(net.url, lie, "liar") as liar:
        got = net.directory(liar.url, checkpoint_policy(net, depth=1)).resolve(BOB)
        assert got.key == net.keys["e"].public_key  # what docs/lightclient.rst says plainly
        with LyingRpc(net.url, None, "a") as a, LyingRpc(net.url, None, "b") as b:
            endpoints = {p.name: RpcChain(p.url) for p in (liar, a, b)}

            def quorum(_: RpcChain) -> QuorumPolicy:
                return QuorumPolicy(endpoints, 2, depth=1, freshness=Freshness(DAY, net.chain_time))

            with pytest.raises(QuorumDisagreement) as refused:
                net.directory(liar.url, quorum).lookup(BOB)
    groups = {names for names in refused.value.groups.values()}
    assert groups == {("liar",), ("a", "b")}
    assert refused.value.endpoints == ("liar", "a", "b")
    assert refused.value.height == latest_header(net.chain).number - 1


def test_quorum_of_honest_endpoints_vouches(net: NodeWorld) -> None:
    with LyingRpc(net.url, None, "a") as a, LyingRpc(net.url, None, "b") as b:
        endpoints = {p.name: RpcChain(p.url) for p in (a, b)}
        policy = QuorumPolicy(endpoints, 2, depth=1, freshness=Freshness(DAY, net.chain_time))
        got = net.directory(a.url, lambda _: policy).resolve(BOB)
    assert got.key == net.keys["b"].public_key
    assert got.label.startswith("verified by quorum at block")


def test_quorum_refuses_a_forged_block_from_a_lying_endpoint(net: NodeWorld) -> None:
    lie = net.forge_b(below_head=1)
    with LyingRpc(net.url, lie, "liar") as liar, LyingRpc(net.url, None, "a") as a:
        endpoints = {"liar": RpcChain(liar.url), "a": RpcChain(a.url)}
        policy = QuorumPolicy(endpoints, 1, depth=1, freshness=Freshness(DAY, net.chain_time))
        with pytest.raises(QuorumDisagreement) as refused:
            net.directory(liar.url, lambda _: policy).lookup(BOB)
    assert set(refused.value.endpoints) == {"liar", "a"}  # even k=1 never picks silently


def test_quorum_without_enough_answers_names_the_missing(net: NodeWorld) -> None:
    down = LyingRpc(net.url, None, "down")
    down_url = down.url
    down.close()  # nothing listens there any more
    with LyingRpc(net.url, None, "a") as a:
        endpoints = {"a": RpcChain(a.url), "down": RpcChain(down_url)}
        policy = QuorumPolicy(endpoints, 2, depth=0, freshness=Freshness(DAY, net.chain_time))
        with pytest.raises(QuorumUnavailable) as refused:
            policy.trusted_block()
        assert set(refused.value.missing) == {"down"}
        assert (
            QuorumPolicy(endpoints, 1, depth=0, freshness=Freshness(DAY, net.chain_time))
            .trusted_block()
            .block_hash
            == latest_header(net.chain).block_hash
        )


def test_checkpoint_of_another_chain_or_block_is_refused(net: NodeWorld) -> None:
    cp = net.checkpoint
    for wrong in (
        Checkpoint(cp.chain_id + 1, cp.number, cp.block_hash),
        Checkpoint(cp.chain_id, cp.number, bytes(32)),
        Checkpoint(cp.chain_id, cp.number - 1, cp.block_hash),
    ):
        policy = CheckpointPolicy(
            net.chain, wrong, depth=0, freshness=Freshness(DAY, net.chain_time)
        )
        with pytest.raises(CheckpointMismatch):
            policy.trusted_block()
        batched = CheckpointPolicy(
            net.chain, wrong, depth=0, freshness=Freshness(DAY, net.chain_time)
        )
        ks = net.world.keystore
        with pytest.raises(CheckpointMismatch):  # pinned inside the look-up's own batch
            batched.trusted_block_with_proof(
                ks.address, ks.layout.slots(identifier(BOB, net.world.salt))
            )
    good = CheckpointPolicy(net.chain, cp, depth=0, freshness=Freshness(DAY, net.chain_time))
    assert good.trusted_block().number == latest_header(net.chain).number


# ----------------------------------------------------------------- stale head


def _revoke_bob(net: NodeWorld) -> int:
    """Revoke Bob's key; the number of the last block before the revocation."""
    before = latest_header(net.chain).number
    net.world.keystore.operator_revoke(identifier(BOB, net.world.salt), net.world.operator)
    net.mine(2)
    return before


def test_lagging_node_serves_a_revoked_key_to_the_unverified_lookup(net: NodeWorld) -> None:
    old = _revoke_bob(net)
    with LyingRpc(net.url, Lag(old)) as lagging:
        got = net.directory(lagging.url, lambda _: None).resolve(BOB)
    assert got.key == net.keys["b"].public_key and got.number == old  # revoked since
    with pytest.raises(ChainError, match="no approved key"):  # the honest node's answer
        net.directory(net.url, lambda _: None).lookup(BOB)


def test_head_below_an_accepted_block_is_refused(net: NodeWorld) -> None:
    old = _revoke_bob(net)
    with LyingRpc(net.url) as proxy:
        directory = net.directory(proxy.url, checkpoint_policy(net, depth=1))
        assert directory.lookup(ALICE) == net.keys["a"].public_key  # after the revocation
        proxy.lie = Lag(old)  # the node stops syncing and rewinds
        with refused(Check.ROLLBACK, StaleHead):
            directory.lookup(BOB)


def test_head_older_than_the_freshness_bound_is_refused(net: NodeWorld) -> None:
    old = _revoke_bob(net)
    with LyingRpc(net.url, Lag(old)) as lagging:
        stamp = latest_header(RpcChain(lagging.url)).timestamp

        def at(clock: float) -> ChainDirectory:
            def make(chain: RpcChain) -> CheckpointPolicy:
                fresh = Freshness(600.0, lambda: clock)
                return CheckpointPolicy(chain, net.checkpoint, depth=0, freshness=fresh)

            return net.directory(lagging.url, make)

        with refused(Check.FRESHNESS, StaleHead):
            at(stamp + 601).lookup(BOB)
        # within the bound the lagging node's answer is still taken: the bound is the promise
        assert at(stamp + 599).lookup(BOB) == net.keys["b"].public_key


def test_a_quorum_that_all_lags_is_refused_and_one_laggard_is_outvoted(net: NodeWorld) -> None:
    old = _revoke_bob(net)
    with (
        LyingRpc(net.url, Lag(old), "slow1") as s1,
        LyingRpc(net.url, Lag(old), "slow2") as s2,
        LyingRpc(net.url, None, "a") as a,
        LyingRpc(net.url, None, "b") as b,
    ):
        stamp = latest_header(RpcChain(s1.url)).timestamp
        late = Freshness(600.0, lambda: stamp + 601)
        lagging = {p.name: RpcChain(p.url) for p in (s1, s2)}
        with pytest.raises(StaleHead):
            QuorumPolicy(lagging, 2, depth=0, freshness=late).trusted_block()
        mixed = {p.name: RpcChain(p.url) for p in (s1, a, b)}
        policy = QuorumPolicy(mixed, 2, depth=0, freshness=Freshness(DAY, net.chain_time))
        with pytest.raises(ChainError, match="no approved key"):  # the revocation is seen
            net.directory(s1.url, lambda _: policy).lookup(BOB)


# ----------------------------------------------------------------- round trips


def test_checkpoint_at_depth_0_costs_one_round_trip_at_a_new_head(
    net: NodeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = net.directory(net.url, checkpoint_policy(net, depth=0))
    chain = directory.keystore.chain
    assert isinstance(chain, RpcChain)
    rec = Recorder(chain.rpc)
    monkeypatch.setattr(chain, "rpc", rec)
    assert directory.lookup(BOB) == net.keys["b"].public_key  # pins the checkpoint first
    pin = ["eth_chainId", "eth_getBlockByNumber"]  # in the same batch: no round trip of its own
    assert rec.requests[0] == [*pin, "eth_getBlockByNumber", "eth_getProof"]
    assert all(m == "eth_getBlockByNumber" for b in rec.requests[1:] for m in b)  # the links
    rec.requests = []
    net.mine(1)
    assert directory.lookup(BOB) == net.keys["b"].public_key
    assert rec.requests == [["eth_getBlockByNumber", "eth_getProof"]]  # head, link, proof
    older = net.chain.rpc.call("eth_getBlockByNumber", ["latest", False])["hash"]
    net.mine(1)

    def stale_proof(calls: Any, answers: list[Any]) -> list[Any]:
        # the proof at "latest" answered as of an older block (the head moved mid-batch)
        for i, (method, params) in enumerate(calls):
            if method == "eth_getProof" and params[2] == "latest":
                answers[i] = rec.inner.call("eth_getProof", [*params[:2], {"blockHash": older}])
        return answers

    rec.rewrite, rec.requests = stale_proof, []
    got = directory.resolve(BOB)
    assert got.key == net.keys["b"].public_key  # checked against the vouched block, re-asked
    assert rec.requests == [["eth_getBlockByNumber", "eth_getProof"], ["eth_getProof"]]


# ----------------------------------------------------------------- the command line


def test_lookup_cli_says_verified_by_whom_or_unverified(
    net: NodeWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "lookup",
        BOB,
        "--rpc",
        net.url,
        "--keystore",
        "0x" + net.world.keystore.address.hex(),
        "--salt",
        net.world.salt.hex(),
    ]
    save_trust(tmp_path, TrustSettings(net.checkpoint, "checkpoint", depth=1))
    assert ethvoip([*base, "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    head = latest_header(net.chain).number
    assert net.keys["b"].public_key.to_bytes().hex() in out
    assert f"verified by checkpoint at block {head - 1}" in out
    assert ethvoip([*base, "--unverified"]) == 0
    out = capsys.readouterr().out
    assert "UNVERIFIED" in out and "verified by" not in out
    wrong = Checkpoint(net.checkpoint.chain_id, net.checkpoint.number, bytes(32))
    (tmp_path / "other").mkdir()
    save_trust(tmp_path / "other", TrustSettings(wrong, "checkpoint"))
    assert ethvoip([*base, "--dir", str(tmp_path / "other")]) == 1
    assert "CheckpointMismatch" in capsys.readouterr().err


def test_an_endpoint_on_another_chain_never_votes(net: NodeWorld) -> None:
    """A quorum given the provisioned chain id: an endpoint answering another one (a testnet,
    a fork under another id) is left out, named, and a quorum without it is refused."""

    class OtherChain(RpcChain):
        @property
        def chain_id(self) -> int:
            return net.checkpoint.chain_id + 1

    cid = net.checkpoint.chain_id
    with LyingRpc(net.url, None, "a") as a, LyingRpc(net.url, None, "b") as b:
        endpoints = {"a": RpcChain(a.url), "other": OtherChain(b.url)}
        fresh = Freshness(DAY, net.chain_time)
        policy = QuorumPolicy(endpoints, 2, depth=0, freshness=fresh, chain_id=cid)
        with pytest.raises(QuorumUnavailable) as refused:
            policy.trusted_block()
        assert refused.value.missing == {"other": f"on chain {cid + 1}, not {cid}"}
        one = QuorumPolicy(endpoints, 1, depth=0, freshness=fresh, chain_id=cid)
        assert one.trusted_block().block_hash == latest_header(net.chain).block_hash
        # without the chain id the other chain's endpoint votes (what the check adds)
        blind = QuorumPolicy(endpoints, 2, depth=0, freshness=fresh)
        assert blind.trusted_block()
        for p in (policy, one, blind):
            p.close()
