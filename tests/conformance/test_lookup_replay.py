"""The key_lookup model traces replayed on the concrete look-up, through a JSON-RPC proxy in
front of a real node (anvil).

The world (:func:`ethvoip.attacks.node_world.provision`): a KeyStore with a, b and c approved,
e (the intruder) holding a key and no record, and the caller's phone reading the chain only
through a :class:`~ethvoip.attacks.lying_rpc.LyingRpc` proxy.  The world has no paper
contract, so the paper look-up is the unverified one (the record proven against whatever head
the node names, ``ChainDirectory(policy=None)``); the hardened look-up is a
``ChainDirectory`` under the checkpoint policy.  Each step is mapped back to a term and must
equal the trace's:

* ``I_1`` (``<getClient, B>`` / ``<getProof, B>``): the requests the proxy saw; the agent
  whose record's storage slots they ask for must be the trace's B.
* ``I_2``: the look-up's answer: unverified, ``<client, B, pk(X)>``; verified by the policy
  (the chain, run C's agent, vouches for it), ``sign(<state, B, pk(X)>, sk(C))``; X is the
  owner of the key returned.  In the attack the proxy is e's and forges the block the caller
  reads (:meth:`~ethvoip.attacks.node_world.NodeWorld.forge_b`).
* ``I_3`` (``aenc(K#1, pk(X))``): a call key encrypted (ECIES) to the key returned; the
  agent whose private key opens it must be X, and the attack's violation (e derives ``K#1``)
  is e opening it.

The same forger against the hardened look-up is refused at ``I_2`` with ``BrokenLink`` and
no key comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ethvoip.attacks.lying_rpc import Handled, Lie, LyingRpc
from ethvoip.attacks.node_world import NodeWorld, provision
from ethvoip.attacks.world import PHONES
from ethvoip.impl.call.directory import Lookup
from ethvoip.impl.chain import RpcChain, identifier, start_anvil
from ethvoip.impl.chain.checkpoint import CheckpointPolicy
from ethvoip.impl.chain.jsonrpc import JsonRpcClient
from ethvoip.impl.chain.trust import BrokenLink, Freshness, TrustPolicy
from ethvoip.impl.crypto import decrypt_with, encrypt_to, seeded_rng
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.errors import ConformanceError, CryptoError
from ethvoip.spec.terms import AEnc, Atom, Sort, Term, aenc, const, pk, sign, sk, tup
from ethvoip.spec.trace import Trace

pytestmark = pytest.mark.integration

TRACES = Path(__file__).resolve().parents[1] / "traces"
DAY = 86400.0  # freshness is not what these traces are about
CALL_KEY = b"K#1: the call key".ljust(32, b".")


def _load(stem: str) -> Trace:
    return tracefmt.load(TRACES / f"key_lookup.{stem}.json")


@dataclass
class Seen:
    """A lie (or none: honest) that also records every request the caller sent."""

    inner: Lie | None
    requests: list[tuple[str, list[Any]]] = field(default_factory=list)
    lied: int = 0  # answers the lie gave

    def answer(self, method: str, params: list[Any], node: JsonRpcClient) -> Handled:
        self.requests.append((method, params))
        handled = self.inner.answer(method, params, node) if self.inner else (False, None)
        self.lied += handled[0]
        return handled


@pytest.fixture(scope="module")
def net() -> Iterator[NodeWorld]:
    with start_anvil() as anvil:
        w = provision(anvil.url, b"ethvoip/lookup replay", subscribers=("a", "b", "c"))
        w.mine(3)  # blocks above the checkpoint: the checkpoint policy reads one with a child
        yield w
        w.chain.close()


def agent(name: str) -> Atom:
    return Atom(name, Sort.AGENT)


def _event(t: Trace, label: str) -> Term:
    [term] = [e.term for e in t.events if e.label == label]
    return term


def _param(t: Trace, role: str, name: str) -> str:
    [run] = [r for r in t.runs if r.role == role]
    value = run.params[name]
    assert isinstance(value, Atom)
    return value.name


def owner(w: NodeWorld, key: object) -> str:
    """The agent a concrete public key belongs to (``pk(owner)`` in the model)."""
    for name, k in w.keys.items():
        if k.public_key == key:
            return name
    raise ConformanceError(f"the look-up returned a key no agent holds: {key!r}")


def asked_for(w: NodeWorld, seen: Seen) -> set[str]:
    """The agents whose KeyStore records the caller's proof requests ask for."""
    ks = w.world.keystore
    slots_of = {
        n: {"0x" + s.hex() for s in ks.layout.slots(identifier(PHONES[n], w.world.salt))}
        for n in w.keys
    }
    asked: set[str] = set()
    for method, params in seen.requests:
        if method == "eth_getProof" and bytes.fromhex(params[0][2:]) == ks.address:
            keys = {"0x" + k[2:].rjust(64, "0") for k in params[1]}
            asked |= {n for n, slots in slots_of.items() if slots & keys}
    return asked


def answer_term(t: Trace, got: Lookup, w: NodeWorld) -> Term:
    """The term a look-up's answer stands for: unverified, the node's word; verified, the
    chain's (consensus, which the model names as run C's agent)."""
    [name] = [n for n, number in PHONES.items() if number == got.name]
    record = (agent(name), pk(agent(owner(w, got.key))))
    if not got.verified:
        return tup(const("client"), *record)
    chains = [r.agent for r in t.runs if r.role == "C"]
    if len(chains) != 1:
        raise ConformanceError("a verified answer, but the trace has no chain run")
    return sign(tup(const("state"), *record), sk(agent(chains[0])))


def openers(w: NodeWorld, ciphertext: bytes) -> set[str]:
    """The agents whose private key opens ``ciphertext`` to the call key."""
    opened = set()
    for name, key in w.keys.items():
        try:
            if decrypt_with(key, ciphertext) == CALL_KEY:
                opened.add(name)
        except CryptoError:
            pass  # not this agent's
    return opened


def checkpoint(w: NodeWorld) -> Callable[[RpcChain], CheckpointPolicy]:
    def make(chain: RpcChain) -> CheckpointPolicy:
        return CheckpointPolicy(
            chain, w.checkpoint, depth=1, freshness=Freshness(DAY, w.chain_time)
        )

    return make


def unverified(_: RpcChain) -> None:
    return None


def replay(
    w: NodeWorld, t: Trace, seen: Seen, policy: Callable[[RpcChain], TrustPolicy | None]
) -> Lookup:
    """Drive run I's events ``I_1``..``I_3`` through a proxy answering with ``seen``; each
    must map to the trace's term."""
    callee = _param(t, "I", "B")
    with LyingRpc(w.url, seen, "the caller's node") as node:
        directory = w.directory(node.url, policy)
        got = directory.resolve(PHONES[callee])  # I_1 sent, I_2 received (or refused)
    # I_1: the requests name the callee's record, and only it
    [asked] = asked_for(w, seen)
    request = "getClient" if directory.policy is None else "getProof"
    assert tup(const(request), agent(asked)) == _event(t, "I_1")
    assert answer_term(t, got, w) == _event(t, "I_2")
    # I_3: the caller encrypts a call key to the key it got; whoever opens it is its target
    sent = _event(t, "I_3")
    assert isinstance(sent, AEnc)
    ciphertext = encrypt_to(got.key, CALL_KEY, rng=seeded_rng(b"lookup replay I_3"))
    [target] = openers(w, ciphertext)
    assert aenc(sent.body, pk(agent(target))) == sent
    return got


def test_all_key_lookup_traces_are_covered() -> None:
    assert sorted(p.name for p in TRACES.glob("key_lookup.*.json")) == [
        "key_lookup.hardened.honest.json",
        "key_lookup.paper.I_secret_K.json",
        "key_lookup.paper.honest.json",
    ]


def test_paper_attack_trace_gives_the_caller_eves_key(net: NodeWorld) -> None:
    t = _load("paper.I_secret_K")
    seen = Seen(net.forge_b(below_head=0))  # the block at the node's head, read unverified
    got = replay(net, t, seen, unverified)
    assert seen.lied > 0  # I_2 came from the forger, not the node
    assert got.key == net.keys["e"].public_key and not got.verified
    # the violation: e opens what a encrypted for b
    assert t.violation is not None and t.violation.secret == Atom("K#1", Sort.KEY)
    assert decrypt_with(net.keys["e"], encrypt_to(got.key, CALL_KEY)) == CALL_KEY


def test_hardened_lookup_refuses_the_forger_at_I_2(net: NodeWorld) -> None:
    t = _load("paper.I_secret_K")  # the intruder's strategy; the hardened model has no attack
    seen = Seen(net.forge_b(below_head=1))  # the block the policy reads, one under the head
    with pytest.raises(BrokenLink):
        replay(net, t, seen, checkpoint(net))
    assert seen.lied > 0  # refused although the forger answered


@pytest.mark.parametrize("stem", ["paper.honest", "hardened.honest"])
def test_honest_trace_returns_the_callees_registered_key(net: NodeWorld, stem: str) -> None:
    t = _load(stem)
    policy = checkpoint(net) if t.variant == "hardened" else unverified
    seen = Seen(None)
    got = replay(net, t, seen, policy)
    callee = _param(t, "I", "B")
    assert seen.lied == 0
    assert got.key == net.keys[callee].public_key
    assert got.verified == (t.variant == "hardened")
