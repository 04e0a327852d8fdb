"""The key store's life cycle as a table: who may call which function, when, with which signature.

Issue 13.  The Dolev-Yao message language of :mod:`ethvoip.spec.protocol` describes messages,
not contract state and time, so the life cycle (register, approve, rotate, revoke, the
operator's kill switch, time-locked recovery with a veto) is described here as a table of the
contract's functions per design (``paper``, ``v1`` = contracts/KeyStore.sol at 7455ebc,
``hardened`` = the design of LIFECYCLE.md with the model's findings fixed).  Three readers use
the same table: the z3 bounded model checker (:mod:`ethvoip.model.lifecycle`), the plain-Python
re-checker of its traces (:mod:`ethvoip.spec.lifecycle_eval`) and the docs' state diagram
(:func:`transitions`).

A row's guards and effects are small functions written against :class:`Logic`, so that the
checker runs them on z3 terms and the re-checker on Python integers: one description, two
independent engines (the claims are written twice, once per engine, on purpose).

The world is small and fixed: four parties (the ``owner`` of number ``n0``, a ``thief`` who
gets a copy of the owner's first key and receipts at a theft event, the ``operator``, an
``other`` subscriber who owns ``n1``), five keys (``kA1`` and ``kA2`` the owner's, ``kT`` the
thief's, ``kR`` the operator's recovery key, ``kS`` the other's) and a clock that the
environment advances.  A signature is the pair (digest, key): only a holder of the key makes
one, and every signature ever accepted is public and may be replayed by anyone.  A receipt
(proof of owning a number, bought from the carrier) is what the operator's service demands
before it approves; the hardened service burns a number's receipts when it is revoked.
Receipts are implicit: a number's owner can always buy a fresh one for a key it holds; the
thief holds copies of the owner's receipts bought before the theft (any of the owner's keys:
an over-approximation, he may have copied one bought just before).  The clock may advance by
one tick after any step, and the theft happens before some step of z3's choosing.
Commit-reveal ordering, gas, events and the SIP credential are not modelled here (the contract
tests and keystore_registration cover them).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ethvoip.spec import checknames as C
from ethvoip.spec.errors import UnknownProtocol

# -- the finite world ------------------------------------------------------------------


class Status(enum.IntEnum):
    """records[id].status, numbered as in KeyStore.sol (append only)."""

    NONE = 0
    PENDING = 1
    APPROVED = 2
    REVOKED = 3
    SUSPENDED = 4


ACTORS = ("owner", "thief", "operator", "other")
OWNER, THIEF, OPERATOR, OTHER = range(4)
NUMBERS = ("n0", "n1")
#: the number each subscriber owns (the carrier sells its receipts only to that party)
NUMBER_OWNER = (OWNER, OTHER)
KEYS = ("kA1", "kA2", "kT", "kR", "kS")
KA1, KA2, KT, KR, KS = range(5)
NO_KEY = -1
#: the keys each party holds from the start (the thief gains kA1 at the theft)
HOLDS: tuple[frozenset[int], ...] = (
    frozenset({KA1, KA2}),
    frozenset({KT}),
    frozenset({KR}),
    frozenset({KS}),
)
STOLEN = KA1
#: clock: the environment advances it one tick at a time up to MAX_TIME
MAX_TIME = 3
RECOVERY_DELAY = 2
PENDING_TTL = 2

ANYONE, OPERATOR_ONLY = "anyone", "operator"
#: functions whose key argument is a key offered as new (with a receipt purchase, the
#: owner rule applies to them: the honest owner never offers its stolen key again)
NEW_KEY_FUNCTIONS = frozenset({"register", "addClient", "rotate", "announceRecovery"})

# -- logic over two carriers (Python values for the re-checker, z3 terms for the model) ----

V = TypeVar("V")


class Logic(Protocol[V]):
    """What a guard or an effect may do with values: a tiny first-order vocabulary."""

    def const(self, x: int | bool) -> V: ...
    def and_(self, *xs: V) -> V: ...
    def or_(self, *xs: V) -> V: ...
    def not_(self, x: V) -> V: ...
    def eq(self, a: V, b: V) -> V: ...
    def lt(self, a: V, b: V) -> V: ...
    def add(self, a: V, b: V) -> V: ...
    def ite(self, c: V, a: V, b: V) -> V: ...
    def sel(self, xs: Sequence[V], i: V) -> V: ...


class OperatorLogic:
    """The part of :class:`Logic` that Python's operators already are, for integers and for
    z3 terms alike (the model's logic shares it)."""

    def eq(self, a: Any, b: Any) -> Any:
        return a == b

    def lt(self, a: Any, b: Any) -> Any:
        return a < b

    def add(self, a: Any, b: Any) -> Any:
        return a + b


class PyLogic(OperatorLogic):
    """:class:`Logic` on plain Python integers and booleans."""

    def const(self, x: int | bool) -> Any:
        return x

    def and_(self, *xs: Any) -> Any:
        return all(xs)

    def or_(self, *xs: Any) -> Any:
        return any(xs)

    def not_(self, x: Any) -> Any:
        return not x

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        return a if c else b

    def sel(self, xs: Sequence[Any], i: Any) -> Any:
        return xs[i]


PY = PyLogic()

# -- state and calls -----------------------------------------------------------------

#: per-number fields of the contract (and of the service: ``burned``, ``registrant``)
NUMBER_FIELDS = (
    "status",
    "key",
    "version",
    "registrant",  # v1: who registered the record's pending key (from the Registered event)
    "rec_on",
    "rec_key",
    "rec_at",  # executableAt
    "rec_serial",
    "burned",  # service: receipts bought at or before this step are void (-1: none burned)
)
KEY_FIELDS = ("used",)  # keyUsed[keyHash]
ACTOR_FIELDS: tuple[str, ...] = ()  # per party (none: the fixed contract keeps no nonces)
#: per (number, key): a registration's time, registrant and the record version it names
#: (hardened: the word keys[keyHash] of KeyStore.sol, one registration per key, ever)
PAIR_FIELDS = ("pend_at", "pend_reg", "pend_ver")
SCALARS = ("now", "serials")


@dataclass
class State(Generic[V]):
    """The contract's storage (plus the service's receipt book) in one carrier."""

    scalars: dict[str, V]
    numbers: dict[str, list[V]]
    keys: dict[str, list[V]]
    pairs: dict[str, list[list[V]]]
    actors: dict[str, list[V]]

    def n(self, L: Logic[V], name: str, i: V) -> V:
        return L.sel(self.numbers[name], i)

    def k(self, L: Logic[V], name: str, i: V) -> V:
        return L.sel(self.keys[name], i)

    def a(self, L: Logic[V], name: str, i: V) -> V:
        return L.sel(self.actors[name], i)

    def p(self, L: Logic[V], name: str, i: V, j: V) -> V:
        return L.sel([L.sel(row, j) for row in self.pairs[name]], i)


_INITIAL: dict[str, int | bool] = {
    "status": int(Status.NONE),
    "key": NO_KEY,
    "registrant": -1,
    "rec_on": False,
    "rec_key": NO_KEY,
    "burned": -1,
}


def initial_state() -> State[Any]:
    """Nothing registered, time 0."""
    return State(
        scalars={"now": 0, "serials": 0},
        numbers={f: [_INITIAL.get(f, 0) for _ in NUMBERS] for f in NUMBER_FIELDS},
        keys={"used": [False for _ in KEYS]},
        pairs={f: [[-1 for _ in KEYS] for _ in NUMBERS] for f in PAIR_FIELDS},
        actors={f: [0 for _ in ACTORS] for f in ACTOR_FIELDS},
    )


@dataclass(frozen=True)
class SigValue(Generic[V]):
    """A signature as the contract sees it: the digest's type and fields, and the key."""

    tag: V
    fields: tuple[V, V, V, V]
    key: V


@dataclass(frozen=True)
class Call(Generic[V]):
    """One call of a table function: its caller, arguments, signatures and the step it is."""

    actor: V
    number: V
    key: V
    sigs: tuple[SigValue[V], ...]
    step: V


#: A write of an effect: (field, index, value); the index is () for scalars, (n,), (k,) or (n, k).
Write = tuple[str, tuple[Any, ...], Any]
GuardFn = Callable[[Logic[Any], State[Any], Call[Any]], Any]
EffectFn = Callable[[Logic[Any], State[Any], Call[Any]], list[Write]]
DigestFn = Callable[[Logic[Any], State[Any], Call[Any]], tuple[Any, Any, Any, Any]]


@dataclass(frozen=True)
class Check:
    """A guard (refusal: ``error``) or a service rule, with its text for the docs.

    ``check`` names the check (:mod:`ethvoip.spec.checknames`) the guard belongs to, for the
    hardened table's guards: :func:`without` drops every guard of one name (the ablation).
    Not part of :func:`describe`, so the table's digest is the same with or without it.
    """

    text: str
    error: str
    fn: GuardFn
    check: str = ""


@dataclass(frozen=True)
class SigRule:
    """Signature ``slot`` must be of digest type ``digest`` and made by ``signer``'s key.

    ``signer`` is ``"current"`` (the record's key) or ``"new"`` (the call's key argument).
    """

    digest: str
    signer: str


@dataclass(frozen=True)
class Function:
    """One row of the table."""

    name: str
    caller: str  # ANYONE or OPERATOR_ONLY
    status_from: frozenset[Status] | None  # None: any status
    status_to: Status | None  # None: unchanged
    sigs: tuple[SigRule, ...]
    guards: tuple[Check, ...]
    effects: tuple[tuple[str, EffectFn], ...]
    service: Check | None = None  # what the honest operator's service checks first
    uses_key: bool = True  # takes a key argument
    #: its signatures may also come from the number's owner, who asks for the call and hands
    #: them over (a recovery to the owner's new key: the operator cannot make that one)
    requester_signs: bool = False
    #: the custom error when the record's status is not in ``status_from`` ("" where the
    #: table does not name one)
    status_error: str = ""
    #: for a function the contract lets run in any status (``status_from`` None): the
    #: statuses its guards can hold in (the diagram's arrows); the model's inductive
    #: invariant implies it (tests/model/test_lifecycle.py checks it)
    reachable_from: frozenset[Status] | None = None


@dataclass(frozen=True)
class Digest:
    """A signed message type: its fields as the contract computes them for a call."""

    name: str
    text: str
    fn: DigestFn
    shape: tuple[str, ...] = ()  # kind of each field: number, key, actor, int (for printing)


class ClaimId(enum.StrEnum):
    KEY_DEAD = "1_revoked_key_stays_dead"
    THIEF_GETS_NOTHING = "2_thief_gets_nothing"
    OPERATOR_TIMELOCK = "3_operator_bound_by_timelock"
    SIG_ONCE = "4_signature_used_once"


@dataclass(frozen=True)
class LifecycleClaim:
    id: ClaimId
    text: str
    operator: str  # "honest" (runs the service's checks) or "malicious" (any operator call)


CLAIMS = (
    LifecycleClaim(
        ClaimId.KEY_DEAD,
        "a key once revoked, rotated out or replaced never becomes active again, for any number",
        "honest",
    ),
    LifecycleClaim(
        ClaimId.THIEF_GETS_NOTHING,
        "once the owner has revoked the stolen key, no key the thief holds becomes active "
        "for the owner's number (his stolen key, copied receipts and replayed signatures get "
        "nothing)",
        "honest",
    ),
    LifecycleClaim(
        ClaimId.OPERATOR_TIMELOCK,
        "the operator alone never makes a new key active for a number that had an approved "
        "key, except by a recovery executed after the delay (a revocation signed by the "
        "current key opens the fast path: that is not the operator alone)",
        "malicious",
    ),
    LifecycleClaim(
        ClaimId.SIG_ONCE,
        "no signature (digest, key) is accepted twice, by the same function or another",
        "honest",
    ),
)


#: a condition on a claim's violation: the repeated signature was first accepted by another
#: function (signature cross-use, not a mere replay)
CROSS_FUNCTION = "cross_function"


@dataclass(frozen=True)
class Question:
    """One row of the verdict matrix: a claim, possibly restricted by a ``condition``."""

    name: str
    claim: ClaimId
    condition: str = ""


class Expected(enum.StrEnum):
    ATTACK = "attack"
    NO_ATTACK = "no attack within bound"
    NOT_APPLICABLE = "not applicable"
    UNKNOWN = "unknown"  # the solver gave up: never read as "no attack"


@dataclass(frozen=True)
class Expect:
    verdict: Expected
    steps: int | None = None  # attacks: the length of the shortest one
    why: str = ""
    proved: bool = False  # no attack: expected to be proved by the inductive invariant too


@dataclass(frozen=True)
class LifecycleVariant:
    name: str
    summary: str
    functions: tuple[Function, ...]
    digests: tuple[Digest, ...]
    #: the model relies on the service voiding a number's receipts at its revocation (no
    #: variant does: the fixed service's follower burns them later, within its bound)
    burns_receipts: bool
    receipt_binds_key: bool
    expected: Mapping[str, Expect] = field(default_factory=dict)
    #: questions beyond the four claims (a claim restricted to one shape of violation)
    questions: tuple[Question, ...] = ()
    #: state-changing functions of the contract the table leaves out, with why
    outside: Mapping[str, str] = field(default_factory=dict)
    #: custom errors of the contract no row names (checks the model does not represent),
    #: with why
    unmodelled_errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def all_questions(self) -> tuple[Question, ...]:
        return tuple(Question(c.id.value, c.id) for c in CLAIMS) + self.questions

    def function(self, name: str) -> Function:
        for f in self.functions:
            if f.name == name:
                return f
        raise UnknownProtocol(f"variant {self.name} has no function {name!r}")

    def digest_tag(self, name: str) -> int:
        for i, d in enumerate(self.digests):
            if d.name == name:
                return i + 1  # 0 is "no signature"
        raise UnknownProtocol(f"variant {self.name} has no digest {name!r}")


# -- building blocks of the rows ---------------------------------------------------------


def _status_is(L: Logic[V], st: State[V], c: Call[V], ss: frozenset[Status]) -> V:
    s = st.n(L, "status", c.number)
    return L.or_(*(L.eq(s, L.const(int(x))) for x in sorted(ss)))


def _set(f: str, value: Callable[[Logic[Any], State[Any], Call[Any]], Any]) -> EffectFn:
    return lambda L, st, c: [(f, (c.number,), value(L, st, c))]


def _key_is_arg(L: Logic[V], st: State[V], c: Call[V]) -> list[Write]:
    return [("key", (c.number,), c.key)]


def _bump(L: Logic[V], st: State[V], c: Call[V]) -> list[Write]:
    return [("version", (c.number,), L.add(st.n(L, "version", c.number), L.const(1)))]


def _clear_recovery(L: Logic[V], st: State[V], c: Call[V]) -> list[Write]:
    return [("rec_on", (c.number,), L.const(False)), ("rec_key", (c.number,), L.const(NO_KEY))]


def _mark_used(L: Logic[V], st: State[V], c: Call[V]) -> list[Write]:
    return [("used", (c.key,), L.const(True))]


def _announce(L: Logic[V], st: State[V], c: Call[V]) -> list[Write]:
    serial = L.add(st.scalars["serials"], L.const(1))
    return [
        ("rec_on", (c.number,), L.const(True)),
        ("rec_key", (c.number,), c.key),
        ("rec_at", (c.number,), L.add(st.scalars["now"], L.const(RECOVERY_DELAY))),
        ("rec_serial", (c.number,), serial),
        ("serials", (), serial),
    ]


def maker_ok(L: Logic[V], fn: Function, actor: V, number: V, key: V, theft_at: V) -> V:
    """Whether a signature with ``key`` can be made for this call now: by its caller, or for
    a ``requester_signs`` function by the number's owner (never with its stolen key)."""
    holds = [
        L.and_(L.eq(actor, L.const(a)), L.eq(key, L.const(k)))
        for a, held in enumerate(HOLDS)
        for k in sorted(held)
    ]
    holds.append(
        L.and_(
            L.eq(actor, L.const(THIEF)),
            L.eq(key, L.const(STOLEN)),
            L.not_(L.lt(theft_at, L.const(0))),
        )
    )
    out = L.or_(*holds)
    if fn.requester_signs:
        owner = L.sel([L.const(o) for o in NUMBER_OWNER], number)
        stolen = L.and_(L.eq(key, L.const(STOLEN)), L.not_(L.lt(theft_at, L.const(0))))
        by_owner = L.or_(
            *(
                L.and_(L.eq(owner, L.const(a)), L.eq(key, L.const(k)))
                for a in (OWNER, OTHER)
                for k in sorted(HOLDS[a])
            )
        )
        out = L.or_(out, L.and_(by_owner, L.not_(stolen)))
    return out


def receipt_ok(
    L: Logic[V], v: LifecycleVariant, st: State[V], who: V, number: V, key: V, theft_at: V
) -> V:
    """Whether ``who`` can show the service a valid receipt for (number, key).

    The number's owner buys one whenever it likes (for a key it holds, where receipts bind
    keys).  The thief shows a copy of one the owner bought before the theft (at step
    ``theft_at``, -1: no theft yet): of the owner's number, for one of the owner's keys where
    receipts bind keys, and, where the service burns receipts on revocation, only if the
    number was not revoked since the theft (a copy bought after the last burn).
    """
    owner = L.sel([L.const(o) for o in NUMBER_OWNER], number)
    own_keys = [L.eq(key, L.const(k)) for k in sorted(HOLDS[OWNER])]
    # the honest owner never asks for its stolen key again (the owner rule)
    mine = L.and_(
        L.eq(who, owner),
        L.not_(L.and_(L.eq(key, L.const(STOLEN)), L.not_(L.lt(theft_at, L.const(0))))),
    )
    if v.receipt_binds_key:
        held = L.or_(
            *(
                L.and_(L.eq(who, L.const(a)), L.eq(key, L.const(k)))
                for a in (OWNER, OTHER)
                for k in sorted(HOLDS[a])
            )
        )
        mine = L.and_(mine, held)
    copied = L.and_(
        L.eq(who, L.const(THIEF)),
        L.eq(number, L.const(0)),
        L.not_(L.lt(theft_at, L.const(0))),
    )
    if v.receipt_binds_key:
        copied = L.and_(copied, L.or_(*own_keys))
    if v.burns_receipts:
        copied = L.and_(copied, L.lt(st.n(L, "burned", number), theft_at))
    return L.or_(mine, copied)


def _recovery_pending(L: Logic[V], st: State[V], c: Call[V]) -> V:
    return st.n(L, "rec_on", c.number)


def _pending_recovery(L: Logic[V], st: State[V], c: Call[V]) -> tuple[V, V, V, V]:
    """What a digest naming the pending recovery signs: number, new key, serial."""
    return (c.number, st.n(L, "rec_key", c.number), st.n(L, "rec_serial", c.number), L.const(0))


def _no_recovery(L: Logic[V], st: State[V], c: Call[V]) -> V:
    return L.not_(st.n(L, "rec_on", c.number))


def _recovery_ready(L: Logic[V], st: State[V], c: Call[V]) -> V:
    return L.and_(
        st.n(L, "rec_on", c.number),
        L.not_(L.lt(st.scalars["now"], st.n(L, "rec_at", c.number))),
        L.eq(c.key, st.n(L, "rec_key", c.number)),
    )


def _key_unused(L: Logic[V], st: State[V], c: Call[V]) -> V:
    return L.not_(st.k(L, "used", c.key))


def _true(L: Logic[V], st: State[V], c: Call[V]) -> V:
    return L.const(True)


NO_SIG: tuple[SigRule, ...] = ()
_ANY = frozenset(Status)


# -- paper: KeyStorePaper.sol (addClient / approveClient) ----------------------------------


def _paper() -> LifecycleVariant:
    register = Function(
        "addClient",
        ANYONE,
        None,
        None,
        NO_SIG,
        guards=(),
        effects=(
            (
                "pendingList[receipt] = (number, key, sender)",
                lambda L, st, c: [
                    ("pend_at", (c.number, c.key), st.scalars["now"]),
                    ("pend_reg", (c.number, c.key), c.actor),
                ],
            ),
        ),
    )
    approve = Function(
        "approveClient",
        OPERATOR_ONLY,
        None,
        Status.APPROVED,
        NO_SIG,
        guards=(
            Check(
                "an entry is pending under a receipt",
                "(none)",
                lambda L, st, c: L.not_(L.lt(st.p(L, "pend_at", c.number, c.key), L.const(0))),
            ),
        ),
        effects=(("clients[number] = key (overwrites)", _key_is_arg),),
        service=Check(
            "the registrant shows a receipt for the number (any key)",
            "receipt_invalid",
            _true,  # the rule itself is service_ok's (it needs the theft's time)
        ),
    )
    return LifecycleVariant(
        "paper",
        "addClient by anyone, approveClient installs whatever is pending; no revocation, "
        "no rotation, no recovery, no signatures",
        (register, approve),
        (),
        burns_receipts=False,
        receipt_binds_key=False,
        expected={
            ClaimId.KEY_DEAD.value: Expect(
                Expected.NOT_APPLICABLE, None, "no revocation at all: a stolen key stays forever"
            ),
            ClaimId.THIEF_GETS_NOTHING.value: Expect(
                Expected.NOT_APPLICABLE, None, "no revocation: the owner cannot even try"
            ),
            ClaimId.OPERATOR_TIMELOCK.value: Expect(
                Expected.ATTACK, 4, "operator_overwrite: approveClient replaces an approved key"
            ),
            ClaimId.SIG_ONCE.value: Expect(Expected.NOT_APPLICABLE, None, "no signatures"),
        },
    )


# -- v1: contracts/KeyStore.sol at 7455ebc ---------------------------------------------------


def _v1() -> LifecycleVariant:
    digests = (
        Digest(
            "Possession",
            "(POSSESSION_TAG, chain, contract, identifier, sender): one digest for register, "
            "rotate's new key and announceRecovery",
            lambda L, st, c: (c.number, c.actor, L.const(0), L.const(0)),
            shape=("number", "actor"),
        ),
        Digest(
            "Rotate",
            "(ROTATE_TAG, chain, contract, identifier, newKeyHash, version+1)",
            lambda L, st, c: (
                c.number,
                c.key,
                L.add(st.n(L, "version", c.number), L.const(1)),
                L.const(0),
            ),
            shape=("number", "key", "int"),
        ),
        Digest(
            "Revoke",
            "(REVOKE_TAG, chain, contract, identifier, version)",
            lambda L, st, c: (c.number, st.n(L, "version", c.number), L.const(0), L.const(0)),
            shape=("number", "int"),
        ),
        Digest(
            "Cancel",
            "(CANCEL_RECOVERY_TAG, chain, contract, identifier, keyHash, serial)",
            _pending_recovery,
            shape=("number", "key", "int"),
        ),
    )
    revoked = (
        ("key := 0, status := Revoked", _set("key", lambda L, st, c: L.const(NO_KEY))),
        ("clear recovery", _clear_recovery),
    )
    fns = (
        Function(
            "register",
            ANYONE,
            frozenset({Status.NONE, Status.PENDING, Status.REVOKED}),
            Status.PENDING,
            (SigRule("Possession", "new"),),
            guards=(),
            effects=(
                ("key := new key, version+1", _key_is_arg),
                ("", _bump),
                ("registrant := sender", _set("registrant", lambda L, st, c: c.actor)),
            ),
        ),
        Function(
            "approve",
            OPERATOR_ONLY,
            frozenset({Status.PENDING}),
            Status.APPROVED,
            NO_SIG,
            guards=(
                Check(
                    "keyHash and version name the pending key",
                    "KeyMismatch",
                    lambda L, st, c: L.eq(st.n(L, "key", c.number), c.key),
                ),
            ),
            effects=(),
            service=Check(
                "the registrant shows a receipt bought with this key", "receipt_invalid", _true
            ),
        ),
        Function(
            "rotate",
            ANYONE,
            frozenset({Status.APPROVED}),
            None,
            (SigRule("Rotate", "current"), SigRule("Possession", "new")),
            guards=(),
            effects=(("key := new, version+1", _key_is_arg), ("", _bump), ("", _clear_recovery)),
        ),
        Function(
            "revoke",
            ANYONE,
            frozenset({Status.PENDING, Status.APPROVED}),
            Status.REVOKED,
            (SigRule("Revoke", "current"),),
            guards=(),
            effects=revoked,
            uses_key=False,
        ),
        Function(
            "operatorRevoke",
            OPERATOR_ONLY,
            frozenset({Status.PENDING, Status.APPROVED}),
            Status.REVOKED,
            NO_SIG,
            guards=(),
            effects=revoked,
            uses_key=False,
        ),
        Function(
            "announceRecovery",
            OPERATOR_ONLY,
            frozenset({Status.APPROVED}),
            None,
            (SigRule("Possession", "new"),),
            guards=(Check("no recovery pending", "RecoveryAlreadyPending", _no_recovery),),
            effects=(("recovery := (new key, now + delay, ++serial)", _announce),),
            service=Check("the number's owner asks, holding the new key", "refused", _true),
            requester_signs=True,
        ),
        Function(
            "cancelRecovery",
            ANYONE,
            None,
            None,
            (SigRule("Cancel", "current"),),
            guards=(
                Check(
                    "a recovery is pending",
                    "NoRecoveryPending",
                    _recovery_pending,
                ),
            ),
            effects=(("delete recovery", _clear_recovery),),
            uses_key=False,
        ),
        Function(
            "executeRecovery",
            OPERATOR_ONLY,
            None,
            None,
            NO_SIG,
            guards=(
                Check(
                    "recovery pending, now >= executableAt, the announced key",
                    "RecoveryNotReady",
                    _recovery_ready,
                ),
            ),
            effects=(("key := new, version+1", _key_is_arg), ("", _bump), ("", _clear_recovery)),
        ),
    )
    return LifecycleVariant(
        "v1",
        "today's hardened contract: revocation leaves the key reusable, operatorRevoke + "
        "register + approve skips the time lock, one possession digest for three functions",
        fns,
        digests,
        burns_receipts=False,
        receipt_binds_key=True,
        expected={
            ClaimId.KEY_DEAD.value: Expect(
                Expected.ATTACK,
                4,
                "rotated_key_returns: no keyUsed, the owner rotates back to a retired key",
            ),
            ClaimId.THIEF_GETS_NOTHING.value: Expect(
                Expected.ATTACK,
                5,
                "stolen_key_reuse: after the revocation the thief registers the stolen key "
                "again and the service approves it on his copy of the receipt",
            ),
            ClaimId.OPERATOR_TIMELOCK.value: Expect(
                Expected.ATTACK,
                5,
                "operator_bypass: operatorRevoke, register, approve at once (no delay, no veto)",
            ),
            ClaimId.SIG_ONCE.value: Expect(
                Expected.ATTACK,
                2,
                "replayed_registration: the same possession signature registers twice",
            ),
            "signature_cross_use": Expect(
                Expected.ATTACK,
                3,
                "one possession digest for register, rotate and announceRecovery: a "
                "registration's signature is accepted by a second function",
            ),
        },
        questions=(Question("signature_cross_use", ClaimId.SIG_ONCE, CROSS_FUNCTION),),
    )


# -- hardened: contracts/KeyStore.sol v2 (the deployed contract) ------------------------------


def _named_version(L: Logic[V], st: State[V], c: Call[V]) -> V:
    """register's ``recordVersion`` argument: the registrant names any version, and its
    ``Register`` signature carries it (an honest registrant names the record's current one:
    :func:`ethvoip.spec.lifecycle_eval.build_honest` builds calls without signatures)."""
    return c.sigs[0].fields[3] if c.sigs else st.n(L, "version", c.number)


def _word_is_used(L: Logic[V], st: State[V], c: Call[V]) -> V:
    """keys[keyHash] == USED: the key entered the store and holds no registration word
    (rotated to, recovered to, or its registration dropped)."""
    return L.and_(
        st.k(L, "used", c.key),
        *(L.lt(st.p(L, "pend_at", L.const(n), c.key), L.const(0)) for n in range(len(NUMBERS))),
    )


def _registered(L: Logic[V], st: State[V], c: Call[V]) -> V:
    return L.not_(L.lt(st.p(L, "pend_at", c.number, c.key), L.const(0)))


def _unexpired(L: Logic[V], st: State[V], c: Call[V]) -> V:
    # KeyStore.sol: expired when registeredAt + pendingTtl < block.timestamp
    at = st.p(L, "pend_at", c.number, c.key)
    return L.not_(L.lt(L.add(at, L.const(PENDING_TTL)), st.scalars["now"]))


SPENT = C.KEY_SPENT_ONCE


def _hardened() -> LifecycleVariant:
    def version(L: Logic[Any], st: State[Any], c: Call[Any]) -> Any:
        return st.n(L, "version", c.number)

    digests = (
        Digest(
            "Register",
            "EIP-712 Register{identifier, keyHash, registrant, recordVersion}: the registrant "
            "names the version (approve needs it to be the record's); it verifies once, since "
            "the registration spends the key",
            lambda L, st, c: (c.number, c.key, c.actor, _named_version(L, st, c)),
            shape=("number", "key", "actor", "int"),
        ),
        Digest(
            "Rotate",
            "EIP-712 Rotate{identifier, newKeyHash, version}",
            lambda L, st, c: (c.number, c.key, version(L, st, c), L.const(0)),
            shape=("number", "key", "int"),
        ),
        Digest(
            "RotateTo",
            "EIP-712 RotateTo{identifier, newKeyHash, version}",
            lambda L, st, c: (c.number, c.key, version(L, st, c), L.const(0)),
            shape=("number", "key", "int"),
        ),
        Digest(
            "Revoke",
            "EIP-712 Revoke{identifier, version}",
            lambda L, st, c: (c.number, version(L, st, c), L.const(0), L.const(0)),
            shape=("number", "int"),
        ),
        Digest(
            "Recovery",
            "EIP-712 Recovery{identifier, newKeyHash, serial}: serial = recoveryCount + 1",
            lambda L, st, c: (
                c.number,
                c.key,
                L.add(st.scalars["serials"], L.const(1)),
                L.const(0),
            ),
            shape=("number", "key", "int"),
        ),
        Digest(
            "Veto",
            "EIP-712 Veto{identifier, newKeyHash, serial}: the pending announcement's",
            _pending_recovery,
            shape=("number", "key", "int"),
        ),
    )
    live = frozenset({Status.APPROVED, Status.SUSPENDED})
    recovery_pending = Check(
        "a recovery is pending", "NoRecoveryPending", _recovery_pending, C.ONE_RECOVERY
    )
    fresh = Check("the key never entered the store", "KeyAlreadyUsed", _key_unused, SPENT)
    fns = (
        Function(
            "register",
            ANYONE,
            None,
            None,
            (SigRule("Register", "new"),),
            guards=(fresh,),
            effects=(
                (
                    "keys[keyHash] := (now, binding(identifier, recordVersion, sender)): the key "
                    "is spent from here on, whatever becomes of the registration",
                    lambda L, st, c: [
                        ("used", (c.key,), L.const(True)),
                        ("pend_at", (c.number, c.key), st.scalars["now"]),
                        ("pend_reg", (c.number, c.key), c.actor),
                        ("pend_ver", (c.number, c.key), _named_version(L, st, c)),
                    ],
                ),
            ),
        ),
        Function(
            "approve",
            OPERATOR_ONLY,
            frozenset({Status.NONE, Status.REVOKED}),
            Status.APPROVED,
            NO_SIG,
            guards=(
                Check(
                    "the key's word is not USED (rotated to, recovered to, dropped)",
                    "KeyAlreadyUsed",
                    lambda L, st, c: L.not_(_word_is_used(L, st, c)),
                    SPENT,
                ),
                Check(
                    "the key's registration names this identifier (and the registrant and "
                    "version the operator names)",
                    "NotPending",
                    _registered,
                    C.PENDING_REGISTRATION,
                ),
                Check(
                    "registeredAt + pendingTtl >= now", "PendingExpired", _unexpired, C.PENDING_TTL
                ),
                Check(
                    "the registration's recordVersion is the record's version",
                    "VersionMismatch",
                    lambda L, st, c: L.eq(
                        st.p(L, "pend_ver", c.number, c.key), st.n(L, "version", c.number)
                    ),
                    C.VERSION_MATCH,
                ),
            ),
            effects=(
                ("records[id] := (key, version+1, Approved); the word stays", _key_is_arg),
                ("", _bump),
            ),
            service=Check(
                "the registrant shows a receipt bound to this key (the burn on revocation "
                "is not relied on: the follower applies it later, within its bound)",
                "receipt_invalid",
                _true,
            ),
            status_error="NumberInUse",
        ),
        Function(
            "dropPending",
            OPERATOR_ONLY,
            None,
            None,
            NO_SIG,
            guards=(
                Check(
                    "the key holds a registration word (not USED)",
                    "NotPending",
                    _registered,
                    C.PENDING_REGISTRATION,
                ),
            ),
            effects=(
                (
                    "keys[keyHash] := USED (the key stays spent)",
                    lambda L, st, c: [("pend_at", (c.number, c.key), L.const(-1))],
                ),
            ),
        ),
        Function(
            "rotate",
            ANYONE,
            frozenset({Status.APPROVED}),
            None,
            (SigRule("Rotate", "current"), SigRule("RotateTo", "new")),
            guards=(fresh,),
            effects=(
                ("key := new, version+1, keys[new] := USED", _key_is_arg),
                ("", _bump),
                ("", _mark_used),
                ("clear recovery", _clear_recovery),
            ),
            status_error="NotApproved",
        ),
        Function(
            "revoke",
            ANYONE,
            live,
            Status.REVOKED,
            (SigRule("Revoke", "current"),),
            guards=(),
            effects=(
                (
                    "key := 0, status := Revoked, version+1",
                    _set("key", lambda L, st, c: L.const(NO_KEY)),
                ),
                ("", _bump),
                ("clear recovery", _clear_recovery),
            ),
            uses_key=False,
            status_error="NotActive",
        ),
        Function(
            "operatorRevoke",
            OPERATOR_ONLY,
            frozenset({Status.APPROVED}),
            Status.SUSPENDED,
            NO_SIG,
            guards=(),
            effects=(("status := Suspended, version+1 (the key keeps its veto)", _bump),),
            uses_key=False,
            status_error="NotApproved",
        ),
        Function(
            "announceRecovery",
            OPERATOR_ONLY,
            live,
            None,
            (SigRule("Recovery", "new"),),
            guards=(
                Check(
                    "no recovery pending", "RecoveryAlreadyPending", _no_recovery, C.ONE_RECOVERY
                ),
                Check("the new key never entered the store", "KeyAlreadyUsed", _key_unused, SPENT),
            ),
            effects=(("recovery := (new key, now + delay, ++recoveryCount)", _announce),),
            service=Check("the number's owner asks, holding the new key", "refused", _true),
            requester_signs=True,
            status_error="NotActive",
        ),
        Function(
            "cancelRecovery",
            ANYONE,
            None,
            None,
            (SigRule("Veto", "current"),),
            guards=(recovery_pending,),
            effects=(("delete recovery", _clear_recovery),),
            uses_key=False,
            reachable_from=live,
        ),
        Function(
            "executeRecovery",
            OPERATOR_ONLY,
            None,  # KeyStore.sol checks no status: a pending recovery implies Approved/Suspended
            Status.APPROVED,
            NO_SIG,
            guards=(
                recovery_pending,
                Check(
                    "now >= executableAt",
                    "RecoveryNotReady",
                    lambda L, st, c: L.not_(L.lt(st.scalars["now"], st.n(L, "rec_at", c.number))),
                    C.RECOVERY_TIMELOCK,
                ),
                Check(
                    "the announced key",
                    "KeyMismatch",
                    lambda L, st, c: L.eq(c.key, st.n(L, "rec_key", c.number)),
                    C.RECOVERY_KEY_MATCH,
                ),
                Check("the new key never entered the store", "KeyAlreadyUsed", _key_unused, SPENT),
            ),
            effects=(
                ("key := new, Approved, version+1, keys[new] := USED", _key_is_arg),
                ("", _bump),
                ("", _mark_used),
                ("delete recovery", _clear_recovery),
            ),
            reachable_from=live,
        ),
    )
    return LifecycleVariant(
        "hardened",
        "KeyStore.sol v2 as deployed: keys spent at registration, the kill switch suspends, "
        "typed signatures name version or serial",
        fns,
        digests,
        burns_receipts=False,
        receipt_binds_key=True,
        expected={
            c.id.value: Expect(Expected.NO_ATTACK, None, "inductive invariant", proved=True)
            for c in CLAIMS
        },
        outside={
            "commit": "commit-reveal ordering is not modelled (the contract tests cover it)",
            "proposeOperator": "one operator party: the role's transfer is not modelled",
            "acceptOperator": "one operator party: the role's transfer is not modelled",
        },
        unmodelled_errors={
            "BadConfiguration": "constructor arguments",
            "NotOperator": "rows whose caller is the operator",
            "NotProposedOperator": "acceptOperator (outside the table)",
            "UnexpiredCommitmentExists": "commit (outside the table)",
            "CommitmentNotFound": "register's commitment (not modelled)",
            "CommitmentTooNew": "register's commitment (not modelled)",
            "CommitmentTooOld": "register's commitment (not modelled)",
            "BadPublicKeyLength": "keys are names in the model, always 64 bytes",
            "BadSignature": "a signature rule's encoding (r, s, v, low s)",
            "WrongSigner": "a signature rule's signer",
        },
    )


VARIANTS: Mapping[str, LifecycleVariant] = {v.name: v for v in (_paper(), _v1(), _hardened())}

#: Numbers of calls each party may make in a checked execution (the theft and clock ticks
#: come on top, between any two calls).
CALLS_PER_PARTY = 4
#: the longest execution searched: every party's calls
MAX_STEPS = len(ACTORS) * CALLS_PER_PARTY


def variant(name: str) -> LifecycleVariant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise UnknownProtocol(
            f"key_lifecycle has no variant {name!r} (it has: {', '.join(VARIANTS)})"
        ) from None


def checks(v: LifecycleVariant) -> tuple[str, ...]:
    """The named checks of the variant's guards, in the table's order."""
    return tuple(dict.fromkeys(g.check for f in v.functions for g in f.guards if g.check))


def without(v: LifecycleVariant, check: str) -> LifecycleVariant:
    """The table with every guard of the named ``check`` dropped (the life cycle's ablation),
    called ``<name>-without-<check>``; its expectations are the full table's."""
    if check not in checks(v):
        raise UnknownProtocol(
            f"key_lifecycle/{v.name} has no named check {check!r} "
            f"(it has: {', '.join(checks(v)) or 'none'})"
        )
    return dataclasses.replace(
        v,
        name=f"{v.name}-without-{check}",
        functions=tuple(
            dataclasses.replace(f, guards=tuple(g for g in f.guards if g.check != check))
            for f in v.functions
        ),
    )


def service_ok(
    L: Logic[V], v: LifecycleVariant, st: State[V], fn: Function, c: Call[V], theft_at: V
) -> V:
    """The honest operator's off-chain rule before it calls ``fn`` (True when it has none).

    approve: the pending registrant shows a valid receipt (:func:`receipt_ok`).
    announceRecovery: the number's owner asks, holding the new key.
    """
    if fn.service is None:
        return L.const(True)
    if fn.name == "announceRecovery":
        owner = L.sel([L.const(o) for o in NUMBER_OWNER], c.number)
        stolen = L.and_(L.eq(c.key, L.const(STOLEN)), L.not_(L.lt(theft_at, L.const(0))))
        return L.and_(
            L.or_(
                *(
                    L.and_(L.eq(owner, L.const(a)), L.eq(c.key, L.const(k)))
                    for a in (OWNER, OTHER)
                    for k in sorted(HOLDS[a])
                )
            ),
            L.not_(stolen),  # the owner rule
        )
    # v1 keeps one pending key in the record (its registrant from the Registered event);
    # the others keep pending entries per (number, key)
    if v.name == "v1":
        reg = st.n(L, "registrant", c.number)
    else:
        reg = st.p(L, "pend_reg", c.number, c.key)
    return receipt_ok(L, v, st, reg, c.number, c.key, theft_at)


def statuses(v: LifecycleVariant) -> list[Status]:
    """The record statuses the variant's table names (None always: where a number starts)."""
    named = {Status.NONE}
    for f in v.functions:
        named |= set(f.status_from or ())
        if f.status_to is not None:
            named.add(f.status_to)
    return sorted(named)


def transitions(v: LifecycleVariant) -> list[tuple[Status, Status, Function]]:
    """(from, to, function) for every status a function may be called in, for the diagram.

    A function callable in any status that keeps it is left out (the diagram lists those
    apart); one callable in any status that sets one goes from every status the table names.
    """
    out = []
    for f in v.functions:
        src = f.status_from if f.status_from is not None else f.reachable_from
        if src is None and f.status_to is None:
            continue
        for s in sorted(src) if src is not None else statuses(v):
            out.append((s, f.status_to if f.status_to is not None else s, f))
    return out


def describe(v: LifecycleVariant) -> dict[str, Any]:
    """The table as JSON-able text (for digests and docs)."""
    out: dict[str, Any] = {
        "name": v.name,
        "burns_receipts": v.burns_receipts,
        "receipt_binds_key": v.receipt_binds_key,
        "digests": [{"name": d.name, "text": d.text} for d in v.digests],
        "functions": [
            {
                "name": f.name,
                "caller": f.caller,
                "from": sorted(s.name for s in f.status_from) if f.status_from else None,
                "to": f.status_to.name if f.status_to is not None else None,
                "sigs": [(s.digest, s.signer) for s in f.sigs],
                "guards": [(g.text, g.error) for g in f.guards],
                "effects": [t for t, _ in f.effects if t],
                "service": f.service.text if f.service else None,
                # only where set, so that the older tables' digests stay as they were
                **({"status_error": f.status_error} if f.status_error else {}),
                **(
                    {"reachable_from": sorted(s.name for s in f.reachable_from)}
                    if f.reachable_from is not None
                    else {}
                ),
            }
            for f in v.functions
        ],
        "expected": {k: [e.verdict.value, e.steps, e.proved] for k, e in v.expected.items()},
        "questions": [(q.name, q.claim.value, q.condition) for q in v.questions],
        "world": {
            "actors": ACTORS,
            "numbers": NUMBERS,
            "keys": KEYS,
            "max_time": MAX_TIME,
            "delay": RECOVERY_DELAY,
            "ttl": PENDING_TTL,
        },
    }
    if v.outside:
        out["outside"] = dict(v.outside)
    if v.unmodelled_errors:
        out["unmodelled_errors"] = dict(v.unmodelled_errors)
    return out


def digest(v: LifecycleVariant) -> str:
    """SHA-256 of the variant's description: traces carry it to detect staleness."""
    blob = json.dumps(describe(v), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
