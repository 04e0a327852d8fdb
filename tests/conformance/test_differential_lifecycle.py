"""Differential conformance of the key life cycle: the spec's table and the code decide alike.

The hardened life-cycle table (:mod:`ethvoip.spec.lifecycle`, the one z3 checks) and the
contract's Python reference model (:class:`~ethvoip.impl.chain.reference.KeyStoreModel`, held
to ``KeyStore.sol`` call by call, event by event and slot by slot by tests/chain/test_stateful)
get the same generated calls: every function of the table, by any party, for any number and
key, each signature made fresh by the right key or another, a registration naming the
record's version or the next, and time moving on by ticks.  After every call both accept, or
both refuse naming the same custom error; after an accepted one, both hold the same status,
key and version for each number, the same pending recovery, and the same spent keys.

The table's world, made concrete: its four parties are four addresses (``operator`` the
contract's), its five keys fixed secp256k1 keys, its two numbers two identifiers.  A tick is
:data:`TICK` seconds and the calls of one tick are one second apart; the contract's recovery
delay and pending lifetime lie between tick boundaries (1.5 and 2.5 ticks for the table's 2),
so a boundary the table draws in ticks is the contract's too.  A registration is committed
the minimum age before (commit-reveal is not in the table).  The table names no error for a
signature by the wrong key (its signatures are made by whoever holds the key): the contract's
is ``WrongSigner``, named here so.

Precedence, where the contract checks in another order than the table lists (written down
here and held by the test): the caller first, then the record's status, the table's guards in
its order, and the signatures last (``ecrecover``, the costliest); ``approve`` reads the key's
registration word (``KeyAlreadyUsed``, ``NotPending``, ``PendingExpired``) before the
record's status (``NumberInUse``).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ethvoip.impl.chain import commitment, identifier
from ethvoip.impl.chain import messages as M
from ethvoip.impl.chain.reference import KeyStoreModel
from ethvoip.impl.crypto import IdentityKey
from ethvoip.spec import lifecycle as LC
from ethvoip.spec.errors import ContractRevert
from ethvoip.spec.lifecycle import PY, Call, SigValue, Status
from tests.conformance.differential import TALLY, profile_examples

TICK = 1000
DELAY, TTL = 3 * TICK // 2, 5 * TICK // 2  # the table's 2 ticks, between boundaries
MIN_AGE, MAX_AGE = 10, 100
CHAIN_ID, CONTRACT = 1, b"\xc0" * 20
ADDRESS = [bytes([0x10 + i]) * 20 for i in range(len(LC.ACTORS))]
KEYS = [IdentityKey.from_private_bytes(bytes([21 + i]) * 32) for i in range(len(LC.KEYS))]
PUBS = [k.public_key.to_bytes() for k in KEYS]
SALT = bytes.fromhex("7c" * 32)
IDENTS = [identifier(p, SALT) for p in ("+33612345678", "+14155550123")]
TABLE = LC.variant("hardened")
FUNCTIONS = tuple(f.name for f in TABLE.functions)

#: approve: the checks the contract makes before the record's status (see the docstring)
BEFORE_STATUS = {"approve": ("KeyAlreadyUsed", "NotPending", "PendingExpired")}


@dataclass(frozen=True)
class Step:
    """One generated call (or ``tick``): who calls what for which number and key, and which
    key makes each signature (``None``: the right one)."""

    function: str
    actor: int = 0
    number: int = 0
    key: int | None = 0  # None: the key the step is about (see Lifecycle.natural_key)
    signers: tuple[int | None, ...] = ()
    version_delta: int = 0


def steps() -> st.SearchStrategy[Step]:
    call = st.builds(
        Step,
        function=st.sampled_from(FUNCTIONS),
        actor=st.sampled_from([LC.OPERATOR, LC.OPERATOR, LC.OWNER, LC.THIEF, LC.OTHER]),
        number=st.sampled_from([0, 0, 1]),
        key=st.sampled_from([None, None, *range(len(LC.KEYS))]),
        signers=st.tuples(*[st.sampled_from([None, None, None, *range(len(LC.KEYS))])] * 2),
        version_delta=st.sampled_from([0, 0, 0, 1]),
    )
    return st.one_of(st.just(Step("tick")), call)


class Lifecycle:
    """The table's state and the reference model's, one call at a time."""

    def __init__(self) -> None:
        self.spec = LC.initial_state()
        self.code = KeyStoreModel(
            ADDRESS[LC.OPERATOR], CHAIN_ID, CONTRACT, MIN_AGE, MAX_AGE, DELAY, TTL
        )
        self.ticks, self.calls, self.secrets = 0, 0, 0
        self.registration: dict[int, tuple[int, int, int]] = {}  # key -> number, actor, version

    @property
    def now(self) -> int:
        return (self.ticks + 1) * TICK + self.calls

    def step(self, s: Step) -> tuple[str | None, str | None]:
        """Both decisions on ``s`` (``None``: accepted), after applying it where accepted."""
        if s.function == "tick":
            self.ticks += 1
            self.spec.scalars["now"] += 1
            return None, None
        self.calls += 1
        fn = TABLE.function(s.function)
        number = s.number
        key = self.natural_key(s.function, number) if s.key is None else s.key
        key = key if fn.uses_key else 0
        if s.function == "dropPending" and key in self.registration:
            number = self.registration[key][0]  # the contract's call names only the key
        chosen = [*s.signers, *[None] * len(fn.sigs)]
        signers = [
            self._signer(rule.signer, number, key) if pick is None else pick
            for rule, pick in zip(fn.sigs, chosen, strict=False)
        ]
        version = int(self.spec.numbers["version"][number]) + s.version_delta
        sigs = tuple(
            SigValue(0, (number, key, s.actor, version), k) for k in signers
        )  # only the Register one's version is read (the registrant's named version)
        c = Call(s.actor, number, key, sigs, self.calls)
        spec = self._spec(fn, c, signers)
        code = self._code(fn, s.actor, number, key, signers, version)
        if spec is None and code is None:
            self._apply(fn, c)
            if s.function == "register":
                self.registration[key] = (number, s.actor, version)
        return spec, code

    def natural_key(self, function: str, number: int) -> int:
        """The key a call is most likely to be accepted with: the number's latest registered
        key (approve, dropPending), its pending recovery's (executeRecovery), else one never
        used (register, rotate, announceRecovery)."""
        if function in ("approve", "dropPending"):
            mine = [k for k, reg in self.registration.items() if reg[0] == number]
            return mine[-1] if mine else 0
        if function == "executeRecovery" and self.spec.numbers["rec_on"][number]:
            return int(self.spec.numbers["rec_key"][number])
        unused = [k for k, used in enumerate(self.spec.keys["used"]) if not used]
        return unused[0] if unused else 0

    def _signer(self, who: str, number: int, key: int) -> int:
        if who == "new":
            return key
        current = int(self.spec.numbers["key"][number])
        return current if current >= 0 else 0

    def _spec(self, fn: LC.Function, c: Call[Any], signers: list[int]) -> str | None:
        """The table's decision, in the contract's order (the module docstring)."""
        if fn.caller == LC.OPERATOR_ONLY and c.actor != LC.OPERATOR:
            return "NotOperator"
        first = BEFORE_STATUS.get(fn.name, ())
        for chk in fn.guards:
            if chk.error in first and not chk.fn(PY, self.spec, c):
                return chk.error
        status = Status(self.spec.numbers["status"][c.number])
        if fn.status_from is not None and status not in fn.status_from:
            return fn.status_error
        for chk in fn.guards:
            if chk.error not in first and not chk.fn(PY, self.spec, c):
                return chk.error
        for rule, signer in zip(fn.sigs, signers, strict=True):
            if signer != self._signer(rule.signer, c.number, c.key):
                return "WrongSigner"
        return None

    def _apply(self, fn: LC.Function, c: Call[Any]) -> None:
        pre = copy.deepcopy(self.spec)
        writes: list[LC.Write] = []
        for _, eff in fn.effects:
            writes += eff(PY, pre, c)
        if fn.status_to is not None:
            writes.append(("status", (c.number,), int(fn.status_to)))
        for name, index, value in writes:
            if name in self.spec.scalars:
                self.spec.scalars[name] = value
            elif name in self.spec.numbers:
                self.spec.numbers[name][index[0]] = value
            elif name in self.spec.keys:
                self.spec.keys[name][index[0]] = value
            else:
                self.spec.pairs[name][index[0]][index[1]] = value

    def _code(
        self, fn: LC.Function, actor: int, number: int, key: int, signers: list[int], version: int
    ) -> str | None:
        m, sender, now, ident, pub = self.code, ADDRESS[actor], self.now, IDENTS[number], PUBS[key]
        rec = m._record(ident)

        def sign(i: int, digest: bytes) -> bytes:
            return KEYS[signers[i]].sign_digest_recoverable(digest)

        try:
            match fn.name:
                case "register":
                    self.secrets += 1
                    secret = self.secrets.to_bytes(32, "big")
                    m.commit(sender, now - MIN_AGE, commitment(ident, pub, sender, secret))
                    d = M.register_digest(CHAIN_ID, CONTRACT, ident, pub, sender, version)
                    m.register(sender, now, ident, pub, secret, version, sign(0, d))
                case "approve":
                    _, registrant, named = self.registration.get(key, (number, actor, version))
                    m.approve(sender, now, ident, pub[:32], pub[32:], named, ADDRESS[registrant])
                case "dropPending":
                    m.drop_pending(sender, now, keccak(pub))
                case "rotate":
                    v = rec.version
                    consent = sign(0, M.rotate_digest(CHAIN_ID, CONTRACT, ident, pub, v))
                    to = sign(1, M.rotate_to_digest(CHAIN_ID, CONTRACT, ident, pub, v))
                    m.rotate(sender, now, ident, pub, consent, to)
                case "revoke":
                    d = M.revoke_digest(CHAIN_ID, CONTRACT, ident, rec.version)
                    m.revoke(sender, now, ident, sign(0, d))
                case "operatorRevoke":
                    m.operator_revoke(sender, now, ident)
                case "announceRecovery":
                    serial = m.recovery_count + 1
                    d = M.recovery_digest(CHAIN_ID, CONTRACT, ident, pub, serial)
                    m.announce_recovery(sender, now, ident, pub, sign(0, d))
                case "cancelRecovery":
                    pending = m.recoveries.get(ident)
                    kh, serial = (pending.key_hash, pending.serial) if pending else (bytes(32), 0)
                    d = M.cancel_recovery_digest(CHAIN_ID, CONTRACT, ident, kh, serial)
                    m.cancel_recovery(sender, now, ident, sign(0, d))
                case "executeRecovery":
                    m.execute_recovery(sender, now, ident, pub)
                case other:
                    raise AssertionError(f"no call for the table's {other}")
        except ContractRevert as exc:
            return exc.reason
        return None

    def compare_state(self) -> None:
        """The records, recoveries and spent keys of both sides, in the table's terms."""
        for n, ident in enumerate(IDENTS):
            rec = self.code._record(ident)
            key = PUBS.index(rec.public_key) if rec.public_key in PUBS else LC.NO_KEY
            spec_key = int(self.spec.numbers["key"][n])
            if Status(self.spec.numbers["status"][n]) in (Status.NONE, Status.REVOKED):
                spec_key = LC.NO_KEY  # the table keeps the last key; the contract zeroes it
            code = (rec.status, key, rec.version)
            spec = (
                int(self.spec.numbers["status"][n]),
                spec_key,
                int(self.spec.numbers["version"][n]),
            )
            assert code == spec, f"{LC.NUMBERS[n]}: code (status, key, version) {code}, spec {spec}"
            pending = self.code.recoveries.get(ident)
            hashes = [keccak(p) for p in PUBS]
            code_rec = None if pending is None else hashes.index(pending.key_hash)
            spec_rec = (
                int(self.spec.numbers["rec_key"][n]) if self.spec.numbers["rec_on"][n] else None
            )
            assert code_rec == spec_rec, f"{LC.NUMBERS[n]}: recovery {code_rec} vs {spec_rec}"
        used = [self.code.key_used(keccak(p)) for p in PUBS]
        assert used == [bool(u) for u in self.spec.keys["used"]], "spent keys differ"


#: Every generated run starts here, so that rotation, revocation and recovery are reachable
#: within a few calls: the owner registered kA1 for n0 and the operator approved it.
ONBOARDED = (Step("register", LC.OWNER, 0, LC.KA1), Step("approve", LC.OPERATOR, 0, LC.KA1))


def play(calls: list[Step]) -> Counter[str]:
    life, seen = Lifecycle(), Counter[str]()
    for s in calls:
        spec, code = life.step(s)
        assert spec == code, f"{s}: the table says {spec or 'accept'}, the code {code or 'accept'}"
        if s.function != "tick":
            seen[f"{s.function}: {spec or 'accepted'}"] += 1
            life.compare_state()
    return seen


@settings(max_examples=profile_examples(ci=80, deep=20_000))
@given(calls=st.lists(steps(), min_size=1, max_size=20))
def test_table_and_code_decide_alike(calls: list[Step]) -> None:
    seen = play([*ONBOARDED, *calls])
    for what, n in seen.items():
        fn, outcome = what.split(": ")
        TALLY[("key_lifecycle/hardened", "call", fn, outcome)] += n
    TALLY[("key_lifecycle/hardened", "schedules", "", "")] += 1


def test_the_honest_life_cycles_go_through() -> None:
    """The table's own honest runs (re-onboarding, recovery after the delay): every call is
    accepted by both."""
    reonboard = [
        Step("register", LC.OWNER, 0, LC.KA1),
        Step("approve", LC.OPERATOR, 0, LC.KA1),
        Step("revoke", LC.OWNER, 0),
        Step("register", LC.OWNER, 0, LC.KA2),
        Step("approve", LC.OPERATOR, 0, LC.KA2),
    ]
    recovery = [
        *reonboard[:2],
        Step("announceRecovery", LC.OPERATOR, 0, LC.KA2),
        Step("tick"),
        Step("executeRecovery", LC.OPERATOR, 0, LC.KA2),
        Step("tick"),
        Step("executeRecovery", LC.OPERATOR, 0, LC.KA2),
    ]
    assert set(play(reonboard)) == {"register: accepted", "approve: accepted", "revoke: accepted"}
    assert play(recovery)["executeRecovery: RecoveryNotReady"] == 1


def test_a_check_the_code_lacks_is_a_disagreement() -> None:
    """Without the contract's time lock (the reference model executing a recovery at once),
    the table refuses a call the code accepts."""
    life = Lifecycle()
    life.code.recovery_delay = 1
    for s in (
        Step("register", LC.OWNER, 0, LC.KA1),
        Step("approve", LC.OPERATOR, 0, LC.KA1),
        Step("announceRecovery", LC.OPERATOR, 0, LC.KA2),
    ):
        assert life.step(s) == (None, None)
    assert life.step(Step("executeRecovery", LC.OPERATOR, 0, LC.KA2)) == (
        "RecoveryNotReady",
        None,
    )
