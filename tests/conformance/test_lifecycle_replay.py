"""The key life-cycle model's traces replayed on the real, fixed KeyStore contract.

The v1 traces are the holes the model found on the first hardened contract (issue 13).  On
the fixed contract each must be **refused** by the named check, at or before the call where
the trace violates its claim, with every call before the refusal accepted; the honest traces
(v1 and hardened) must go through to the end with the key the trace installs answering the
look-up.

Each ``ethvoip-lifecycle-trace/1`` call becomes the transaction it stands for, sent by the
party's account (registration: commit, wait the minimum age, register), with the fixed
contract's EIP-712 signature of the same purpose made by the key the trace names, for the
record's version or recovery serial on chain (a v1 trace's digests do not exist on the fixed
contract; what carries over is who signs what for which call).  A signature the trace
repeats is sent again byte for byte.  A tick moves the node's clock by half the recovery
delay (the model's delay is two ticks); the theft changes nothing on chain.  The operator
approves the registrant the chain's ``Registered`` event names, as its service would after
checking the receipt.
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
    Status,
    identifier,
    key_hash,
    start_anvil,
)
from ethvoip.impl.crypto import IdentityKey
from ethvoip.spec import lifecycle as LC
from ethvoip.spec import lifecycle_trace as LT
from ethvoip.spec.errors import ConformanceError, ContractRevert

TRACES = Path(__file__).resolve().parents[1] / "traces" / "key_lifecycle"
MIN_AGE, MAX_AGE, DELAY, TTL = 60, 3600, 600, 7200
SALT = bytes.fromhex("6b" * 32)
NUMBERS = {"n0": identifier("+33612345678", SALT), "n1": identifier("+14155550123", SALT)}
#: the trace's keys as fixed secp256k1 keys (scalars 11.. repeated), so failures reproduce
KEYS = {
    name: IdentityKey.from_private_bytes(bytes([11 + i]) * 32) for i, name in enumerate(LC.KEYS)
}
V1 = sorted(TRACES.glob("key_lifecycle.v1.*.json"))
HONEST = sorted(TRACES.glob("key_lifecycle.*.honest_*.json"))
#: v1 hole -> the custom error of contracts/KeyStore.sol that refuses it
REFUSED_BY = {
    "1_revoked_key_stays_dead": "KeyAlreadyUsed",  # rotating back to a rotated-out key
    "2_thief_gets_nothing": "KeyAlreadyUsed",  # the thief registers the revoked key again
    "3_operator_bound_by_timelock": "NumberInUse",  # approve over a suspended key
    "4_signature_used_once": "KeyAlreadyUsed",  # the same Register signature twice
    "signature_cross_use": "KeyAlreadyUsed",  # the registered key's consent reused
}


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
    """One trace on one freshly deployed fixed contract."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        accounts = chain.accounts
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
            pending_ttl=TTL,
        )
        self.sent: dict[tuple[str, tuple[int, ...], str], bytes] = {}
        self.secrets = 0

    def _once(self, sig: LT.SigRecord, make: bytes) -> bytes:
        """The bytes of a trace signature: made once, the same bytes when repeated."""
        return self.sent.setdefault((sig.digest, sig.fields, sig.key), make)

    def call(self, s: LT.Step) -> None:
        assert s.function is not None and s.actor is not None and s.number is not None
        ks, sender, ident = self.ks, self.account[s.actor], NUMBERS[s.number]
        version = ks.record(ident).version
        match s.function:
            case "register":
                assert s.key is not None
                [sig] = s.sigs
                signer = KEYS[sig.key]
                self.secrets += 1
                reg = ks.registration(ident, KEYS[s.key], sender, secret=bytes([self.secrets]) * 32)
                made = ks.registration_signature(ident, signer, sender, version)
                signature = self._once(sig, made)
                reg = type(reg)(
                    reg.identifier,
                    reg.public_key,
                    reg.secret,
                    signature,
                    reg.commitment,
                    reg.record_version,
                )
                ks.commit(reg.commitment, sender)
                self.chain.increase_time(MIN_AGE)
                ks.register(reg, sender)
            case "approve":
                assert s.key is not None
                ks.approve(ident, pub(s.key), version, sender)
            case "rotate":
                assert s.key is not None
                current, new = s.sigs
                consent = ks.rotation_signature(ident, KEYS[current.key], pub(s.key), version)
                to = ks.rotate_to_signature(ident, KEYS[new.key], version)
                ks.rotate(
                    ident, pub(s.key), self._once(current, consent), self._once(new, to), sender
                )
            case "revoke":
                [sig] = s.sigs
                made = ks.revocation_signature(ident, KEYS[sig.key], version)
                ks.revoke(ident, self._once(sig, made), sender)
            case "operatorRevoke":
                ks.operator_revoke(ident, sender)
            case "announceRecovery":
                assert s.key is not None
                [sig] = s.sigs
                serial = int(ks.call("recoveryCount")) + 1
                made = ks.recovery_signature(ident, KEYS[sig.key], serial)
                ks.announce_recovery(ident, pub(s.key), self._once(sig, made), sender)
            case "cancelRecovery":
                [sig] = s.sigs
                kh, _, serial = ks.recovery(ident)
                made = ks.cancel_signature(ident, KEYS[sig.key], kh, serial)
                ks.cancel_recovery(ident, self._once(sig, made), sender)
            case "executeRecovery":
                assert s.key is not None
                ks.execute_recovery(ident, pub(s.key), sender)
            case other:
                raise ConformanceError(f"no KeyStore function {other}")

    def run(self, t: LT.LifecycleTrace) -> tuple[int, str] | None:
        """Replay until the first refusal: (call index, custom error), or None."""
        i = 0
        for s in t.steps:
            if s.action == "tick":
                self.chain.increase_time(DELAY // LC.RECOVERY_DELAY)
            elif s.action == "call":
                try:
                    self.call(s)
                except ContractRevert as exc:
                    return i, exc.reason
                i += 1
        return None


def test_there_are_v1_traces() -> None:
    assert {p.stem.split(".", 2)[2] for p in V1} >= set(REFUSED_BY)


@pytest.mark.parametrize(
    "path", [p for p in V1 if "honest" not in p.stem], ids=lambda p: p.stem.split(".", 2)[2]
)
def test_v1_hole_is_refused_by_the_named_check(chain: Chain, path: Path) -> None:
    t = LT.load(path)
    assert t.claim is not None and t.violation is not None
    refused = Replay(chain).run(t)
    assert refused is not None, "the fixed contract accepted every call of the hole"
    at, reason = refused
    assert reason == REFUSED_BY[t.claim]
    assert at <= t.violation.step


@pytest.mark.parametrize("path", HONEST, ids=lambda p: p.stem.split(".", 1)[1])
def test_honest_trace_goes_through(chain: Chain, path: Path) -> None:
    t = LT.load(path)
    r = Replay(chain)
    assert r.run(t) is None
    last = [s for s in t.steps if s.action == "call"][-1]
    assert last.key is not None and last.number is not None
    assert r.ks.lookup(NUMBERS[last.number])[0] == pub(last.key)
    assert r.ks.record(NUMBERS[last.number]).status is Status.APPROVED
    assert r.ks.key_used(key_hash(pub(last.key)))
