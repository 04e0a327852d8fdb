"""The key life-cycle model's v1 traces replayed on the real KeyStore contract (today's v1).

Each ``ethvoip-lifecycle-trace/1`` call becomes the transaction it stands for, sent by the
party's account, with its signatures made by the concrete secp256k1 keys the trace's keys
name (registration: commit, wait the minimum age, register); a tick moves the node's clock by
half the recovery delay (the model's delay is two ticks); the theft changes nothing on chain.
After every call the record on chain (status, version, key) must equal the state the
plain-Python table reaches (:func:`ethvoip.spec.lifecycle_eval.evaluate`), and at the end the
hole must be visible on chain.  A signature the trace repeats is sent again byte for byte.

These traces show holes of today's contract: when the fixed contract replaces it, each must
instead be refused at its violating call by the named check (the contract engineer's side).
The operator's service (receipts) is off chain and not replayed here: the operator approves
what the trace says it approves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ethvoip.impl.chain import (
    Chain,
    EmbeddedChain,
    KeyStoreClient,
    RpcChain,
    identifier,
    key_hash,
    start_anvil,
)
from ethvoip.impl.crypto import IdentityKey
from ethvoip.spec import lifecycle as LC
from ethvoip.spec import lifecycle_trace as LT
from ethvoip.spec.errors import ConformanceError
from ethvoip.spec.lifecycle_eval import evaluate

TRACES = Path(__file__).resolve().parents[1] / "traces" / "key_lifecycle"
MIN_AGE, MAX_AGE, DELAY = 60, 3600, 600
SALT = bytes.fromhex("6b" * 32)
NUMBERS = {"n0": identifier("+33612345678", SALT), "n1": identifier("+14155550123", SALT)}
#: the trace's keys as fixed secp256k1 keys (scalars 11.. repeated), so failures reproduce
KEYS = {
    name: IdentityKey.from_private_bytes(bytes([11 + i]) * 32) for i, name in enumerate(LC.KEYS)
}
V1 = sorted(TRACES.glob("key_lifecycle.v1.*.json"))


@pytest.fixture(scope="module")
def embedded_chain() -> EmbeddedChain:
    return EmbeddedChain()


@pytest.fixture(scope="module")
def anvil_chain() -> Iterator[RpcChain]:
    with start_anvil() as node:
        chain = RpcChain(node.url)
        yield chain
        chain.close()


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.integration)])
def chain(request: pytest.FixtureRequest) -> Chain:
    name = "embedded_chain" if request.param == "embedded" else "anvil_chain"
    result: Chain = request.getfixturevalue(name)
    return result


def pub(name: str) -> bytes:
    return KEYS[name].public_key.to_bytes()


class Replay:
    """One trace on one freshly deployed contract."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        accounts = chain.accounts
        # the operator deploys; the others are the next accounts
        self.account = {
            "operator": accounts[0],
            "owner": accounts[1],
            "thief": accounts[2],
            "other": accounts[3],
        }
        self.ks = KeyStoreClient.deploy(
            chain,
            self.account["operator"],
            min_commitment_age=MIN_AGE,
            max_commitment_age=MAX_AGE,
            recovery_delay=DELAY,
        )
        self.sent: dict[tuple[str, tuple[int, ...], str], bytes] = {}
        self.secrets = 0
        self.times: list[int] = []

    def signature(self, sig: LT.SigRecord, who: str) -> bytes:
        """The concrete signature a trace signature stands for (v1's digests)."""
        f0, f1, f2, _ = sig.fields
        ident, signer = NUMBERS[LC.NUMBERS[f0]], KEYS[sig.key]
        if sig.digest == "Possession":
            sender = self.account[LC.ACTORS[f1]]
            out = self.ks.possession_signature(ident, signer, sender)
        elif sig.digest == "Rotate":
            out = self.ks.rotation_signature(ident, signer, pub(LC.KEYS[f1]), f2)
        elif sig.digest == "Revoke":
            out = self.ks.revocation_signature(ident, signer, f1)
        elif sig.digest == "Cancel":
            out = self.ks.cancel_signature(ident, signer, key_hash(pub(LC.KEYS[f1])), f2)
        else:
            raise ConformanceError(f"no v1 digest {sig.digest}")
        k = (sig.digest, sig.fields, sig.key)
        if k in self.sent and self.sent[k] != out:
            raise ConformanceError(f"{who}: a repeated signature is not the same bytes")
        self.sent.setdefault(k, out)
        return out

    def call(self, s: LT.Step) -> None:
        assert s.function is not None and s.actor is not None and s.number is not None
        ks, sender, ident = self.ks, self.account[s.actor], NUMBERS[s.number]
        sigs = [self.signature(g, s.function) for g in s.sigs]
        match s.function:
            case "register":
                assert s.key is not None
                self.secrets += 1
                reg = ks.registration(ident, KEYS[s.key], sender, secret=bytes([self.secrets]) * 32)
                if reg.signature != sigs[0]:
                    raise ConformanceError("register: the trace's possession signature differs")
                ks.commit(reg.commitment, sender)
                self.chain.increase_time(MIN_AGE)
                ks.register(reg, sender)
            case "approve":
                assert s.key is not None
                ks.approve(ident, key_hash(pub(s.key)), ks.record(ident).version, sender)
            case "rotate":
                assert s.key is not None
                ks.rotate(ident, pub(s.key), sigs[0], sigs[1], sender)
            case "revoke":
                ks.revoke(ident, sigs[0], sender)
            case "operatorRevoke":
                ks.operator_revoke(ident, sender)
            case "announceRecovery":
                assert s.key is not None
                ks.announce_recovery(ident, pub(s.key), sigs[0], sender)
            case "cancelRecovery":
                ks.cancel_recovery(ident, sigs[0], sender)
            case "executeRecovery":
                assert s.key is not None
                ks.execute_recovery(ident, pub(s.key), sender)
            case other:
                raise ConformanceError(f"no v1 function {other}")

    def run(self, t: LT.LifecycleTrace) -> None:
        expected: list[LC.State[object]] = []
        evaluate(t, states=expected)
        i = 0
        for s in t.steps:
            if s.action == "tick":
                self.chain.increase_time(DELAY // LC.RECOVERY_DELAY)
            elif s.action == "call":
                self.call(s)
                self.times.append(self.chain.latest_timestamp())
                self.compare(expected[i], f"call {i} ({s.function})")
                i += 1

    def compare(self, st: LC.State[object], where: str) -> None:
        for n, name in enumerate(LC.NUMBERS):
            rec = self.ks.record(NUMBERS[name])
            key = st.numbers["key"][n]
            want_key = pub(LC.KEYS[key]) if isinstance(key, int) and key >= 0 else None
            got = (int(rec.status), rec.version, rec.public_key)
            want = (st.numbers["status"][n], st.numbers["version"][n], want_key)
            if got != want:
                raise ConformanceError(f"{where}: {name} on chain {got}, the table says {want}")


def test_there_are_v1_traces() -> None:
    assert {p.stem.split(".", 2)[2] for p in V1} >= {
        "2_thief_gets_nothing",
        "3_operator_bound_by_timelock",
        "signature_cross_use",
    }


@pytest.mark.parametrize("path", V1, ids=lambda p: p.stem.split(".", 2)[2])
def test_v1_trace_replays_call_by_call(chain: Chain, path: Path) -> None:
    t = LT.load(path)
    r = Replay(chain)
    r.run(t)
    if t.claim == "2_thief_gets_nothing" or t.claim == "1_revoked_key_stays_dead":
        # the hole, on chain: the revoked / rotated-out key answers the look-up again
        assert r.ks.lookup(NUMBERS["n0"])[0] == pub("kA1")
    if t.claim == "3_operator_bound_by_timelock":
        revoked_at = next(
            r.times[i]
            for i, s in enumerate(x for x in t.steps if x.action == "call")
            if s.function == "operatorRevoke"
        )
        assert r.ks.lookup(NUMBERS["n0"])[0] == pub("kR")
        assert r.times[-1] - revoked_at < DELAY  # no time lock in between
    if t.claim in ("4_signature_used_once", "signature_cross_use"):
        used = [g for s in t.steps for g in s.sigs]
        assert len(used) > len({(g.digest, g.fields, g.key) for g in used})  # one sent twice


def test_a_trace_that_disagrees_with_the_contract_is_caught(embedded_chain: Chain) -> None:
    # the table says approve keeps the version; claim the record moved on instead
    t = LT.load(TRACES / "key_lifecycle.v1.honest_reonboard.json")
    r = Replay(embedded_chain)
    r.call(next(s for s in t.steps if s.action == "call"))
    bad = LC.initial_state()
    bad.numbers["status"][0] = int(LC.Status.PENDING)
    bad.numbers["key"][0] = LC.KA1
    bad.numbers["version"][0] = 2
    with pytest.raises(ConformanceError, match="the table says"):
        r.compare(bad, "call 0")
