"""Replay a keystore_registration model trace against the real contracts on the embedded chain.

Each symbolic step becomes what it stands for:

* ``S_2`` (paper ``addClient``, hardened ``register`` with proof of possession) is a
  transaction the subscriber signs and publishes to the public pool
  (:class:`~ethvoip.attacks.chain_world.Mempool`); hardened, the commitment is made and has
  aged ``MIN_COMMITMENT_AGE`` first (the model has no commit-reveal: the contract tests cover
  it).  What anyone sees of it is the calldata decoded out of the pool;
* ``C_1`` is the block builder including the pool (highest tip first): the contract
  "receives" the first call that succeeds; ``C_2`` is the entry it now holds, read back from
  the contract's storage (``pendingList[receipt]``, ``records[identifier]``);
* ``O_3`` (paper) / ``O_2`` (hardened) is the operator's own read of that entry; ``O_4``
  (paper ``approveClient``) / ``O_3`` (hardened ``approve`` naming the key hash and
  version) is the operator's transaction;
* the off-chain messages to and from the operator (``S_1``, ``S_3``, ``O_1``, ``O_2``
  paper, ``O_4``/``S_3`` hardened) are values sealed to a named key: they are not on chain
  and only their contents are checked;
* a forged message is built by the intruder following the trace's derivation on concrete
  values: ``observed`` is the concrete message of that event (a pool transaction's decoded
  calldata), ``project`` an item of it, ``unsign`` the body of a storage read, ``pk`` a
  directory key, ``hash`` the paper's password rule.  A forged ``C_1`` is broadcast from
  e's account with a higher tip.

After every step the concrete value is mapped back to a term (phone number or salted
identifier -> agent, key -> ``pk(owner)``, receipt token -> ``sign(<S, NP#r>, sk(store))``
of the run that bought it, proof of possession -> ``sign(<pop, S, C>, sk(X))`` with X
recovered by ecrecover, storage read -> ``sign(..., sk(C))``) and must equal the trace's
term; any difference is a :class:`ConformanceError`.  The walk, the forwards and the
intruder's observations are the conformance engine's (:mod:`ethvoip.attacks.conformance`),
which the handshake replay shares.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ethvoip.attacks.chain_world import HONEST_TIP, ChainWorld, Mempool
from ethvoip.attacks.conformance import TraceWalk
from ethvoip.impl.chain import (
    MIN_COMMITMENT_AGE,
    KeyStoreClient,
    PaperKeyStoreClient,
    identifier,
    key_hash,
)
from ethvoip.impl.chain import messages as ksm
from ethvoip.impl.chain.contract import address_bytes
from ethvoip.impl.crypto import recover_public_key
from ethvoip.impl.service.service import paper_password
from ethvoip.spec.deduction import Derivation
from ethvoip.spec.errors import ConformanceError
from ethvoip.spec.protocols.keystore_registration import receipt
from ethvoip.spec.terms import Atom, Sort, Term, aenc, const, pk, sign, sk, tup
from ethvoip.spec.trace import Trace, TraceEvent

SALT = hashlib.sha256(b"ethvoip/keystore replay salt").digest()
CONSTS = ("fund", "approve", "addClient", "approveClient", "pending", "register", "pop", "cred")


@dataclass(frozen=True)
class Sealed:
    """An off-chain message ``body`` encrypted to the holder of public key ``to``."""

    body: tuple[Any, ...]
    to: bytes


@dataclass(frozen=True)
class ChainSays:
    """A value read from the contract's storage (stands for consensus + a verified proof)."""

    body: tuple[Any, ...]


@dataclass(frozen=True)
class Pop:
    """A proof-of-possession signature as ``register`` checks it (EIP-712 ``Register``)."""

    signature: bytes
    ident: bytes
    sender: bytes
    public_key: bytes
    version: int


@dataclass(frozen=True)
class KeyHash:
    digest: bytes


@dataclass(frozen=True)
class Password:
    value: str
    run: int


class KeystoreReplay(TraceWalk[Any]):
    """The conformance engine on the key-store contracts (always in conformance mode)."""

    def __init__(self, trace: Trace, world: ChainWorld, chain_agent: str, operator: str) -> None:
        super().__init__(trace, trace.variant)
        self.world = world
        self.chain_agent = chain_agent
        self.operator = operator
        self.paper: PaperKeyStoreClient | None = None
        self.keystore: KeyStoreClient | None = None
        self.pool: Mempool | None = None
        self.tokens: dict[str, int] = {}  # token -> subscriber run
        self.received: dict[int, dict[str, Any]] = {}  # operator run state
        self.provisioned: dict[str, str] = {}  # number -> SIP password

    # -- naming ------------------------------------------------------------------------

    def agent(self, name: str) -> Atom:
        return Atom(name, Sort.AGENT)

    def phone_of(self, name: str) -> str:
        return self.world[name].phone

    def key_of(self, name: str) -> bytes:
        return self.world[name].public_key

    def owner(self, what: str, found: str | None) -> Atom:
        if found is None:
            raise ConformanceError(f"{what} belongs to no agent of the replay")
        return self.agent(found)

    def ident_owner(self, ident: bytes) -> str | None:
        for a in self.world.actors.values():
            if a.phone and identifier(a.phone, SALT) == ident:
                return a.name
        return None

    def term_of(self, v: Any) -> Term:
        """The term a concrete value stands for, by the replay's exact naming."""
        w = self.world
        match v:
            case tuple():
                return tup(*(self.term_of(x) for x in v))
            case str() if v in CONSTS:
                return const(v)
            case str() if v in self.tokens:
                run = self.tokens[v]
                subscriber = self.trace.run(run).params["S"]
                return receipt(subscriber, Atom(f"NP#{run}", Sort.NONCE))
            case str():
                return self.owner(f"number {v!r}", w.owner_of_phone(v))
            case bytes() if len(v) == 64:
                return pk(self.owner("public key", w.owner_of_key(v)))
            case bytes() if len(v) == 32:
                return self.owner("identifier", self.ident_owner(v))
            case KeyHash(digest=d):
                found = [a.name for a in w.actors.values() if key_hash(a.public_key) == d]
                return pk(self.owner("key hash", found[0] if found else None))
            case Sealed(body=body, to=to):
                return aenc(self.term_of(body), self.term_of(to))
            case ChainSays(body=body):
                return sign(self.term_of(body), sk(self.agent(self.chain_agent)))
            case Pop(signature=sig, ident=ident, sender=sender, public_key=key, version=v):
                assert self.keystore is not None
                ks = self.keystore
                digest = ksm.register_digest(ks.chain_id, ks.address, ident, key, sender, v)
                signer = w.owner_of_key(recover_public_key(digest, sig).to_bytes())
                signed = tup(const("pop"), self.term_of(ident), self.agent(self.chain_agent))
                return sign(signed, sk(self.owner("proof of possession", signer)))
            case Password(run=run):
                return Atom(f"Pw#{run}", Sort.KEY)
        raise ConformanceError(f"no symbolic name for {v!r}")

    # -- the intruder ------------------------------------------------------------------

    def derive(self, d: Derivation) -> Any:
        """Follow a derivation on concrete values, with e's knowledge only."""
        args = [self.derive(p) for p in d.premises]
        match d.rule:
            case "observed":
                assert d.event is not None
                return self.observed(d.event)
            case "public":
                t = d.term
                assert isinstance(t, Atom)
                return t.name if t.sort is Sort.CONST else self.phone_of(t.name)
            case "project":
                assert d.index is not None and isinstance(args[0], tuple)
                return args[0][d.index]
            case "tup":
                return tuple(args)
            case "pk":
                return self.key_of(self.world.owner_of_phone(args[0]) or "")
            case "aenc":
                return Sealed(args[0], args[1])
            case "unsign" if isinstance(args[0], ChainSays):
                # a storage read stands for a signed statement of the chain: anyone reads its body
                return args[0].body
            case "hash":
                # the paper's password rule, written from III.A.3c: SHA-256 of the token, hex
                return hashlib.sha256(str(args[0]).encode()).hexdigest()
        raise ConformanceError(f"the replay's intruder cannot apply {d.rule!r} to {d.term}")

    # -- the walk ----------------------------------------------------------------------

    def event(self, i: int, ev: TraceEvent) -> bool:
        value = self.step(i, ev)
        self.check_term(i, ev, self.term_of(value))
        if ev.action == "send":
            self.sent[i] = value
        return True

    def incoming(self, i: int, ev: TraceEvent) -> Any:
        if ev.derivation is not None:
            return self.derive(ev.derivation)
        return self.forwarded(i, ev)

    def step(self, i: int, ev: TraceEvent) -> Any:
        run = self.trace.run(ev.run)
        if run.role == "C":
            return self.chain_receives(i, ev) if ev.label == "C_1" else self.chain_entry()
        if run.role == "O":
            return self.operator_step(i, ev, run.id)
        me = run.agent
        who = self.world[me]
        token = self.world.receipt_token(f"NP#{run.id}")  # what run.id bought at the store
        self.tokens[token] = run.id
        op_key = self.key_of(str(run.params["O"]))
        match (ev.label, self.trace.variant == "paper"):
            case ("S_1", True):
                return Sealed(("fund", who.phone, token), op_key)
            case ("S_1", False):
                return Sealed(("fund", who.phone, who.public_key, token), op_key)
            case ("S_3", True):
                return Sealed(("approve", who.phone, token), op_key)
            case ("S_2", True):
                assert self.paper is not None and self.pool is not None
                p = self.pool.broadcast(
                    who, self.paper, "addClient", who.phone, who.public_key, token
                )
                return ("addClient", *p.args.values())
            case ("S_2", False):
                assert self.keystore is not None and self.pool is not None
                ks, ident = self.keystore, identifier(who.phone, SALT)
                reg = ks.registration(ident, who.identity, who.address, rng=self.world.rng(me))
                ks.commit(reg.commitment, who.address)
                self.world.chain.increase_time(MIN_COMMITMENT_AGE)
                args = (
                    reg.identifier,
                    reg.public_key,
                    reg.secret,
                    reg.record_version,
                    reg.signature,
                )
                p = self.pool.broadcast(who, ks, "register", *args)
                seen = p.args
                sender = address_bytes(p.sender)
                pop = Pop(
                    seen["signature"],
                    seen["identifier"],
                    sender,
                    seen["publicKey"],
                    seen["recordVersion"],
                )
                return ("register", seen["identifier"], seen["publicKey"], pop)
            case ("S_3", False):
                got = self.incoming(i, ev)
                if not isinstance(got, Sealed) or got.to != who.public_key:
                    raise ConformanceError("S_3: the credentials are not sealed to my key")
                return got
        raise ConformanceError(f"no concrete step for {run.role} {ev.label} ({ev.action})")

    def chain_receives(self, i: int, ev: TraceEvent) -> Any:
        assert self.pool is not None
        if ev.derivation is not None:  # the intruder's transaction, built from what he saw
            m = self.derive(ev.derivation)
            eve = self.world["e"]
            if self.trace.variant != "paper":
                raise ConformanceError("a forged register: not in the committed traces")
            assert self.paper is not None
            self.pool.broadcast(eve, self.paper, "addClient", *m[1:], tip=10 * HONEST_TIP)
        first = next((x for x in self.pool.mine() if x.ok), None)
        if first is None:
            raise ConformanceError(f"event {i}: the contract accepted no call")
        a = first.tx.args
        if first.tx.function == "addClient":
            return ("addClient", a["phoneNumber"], a["publicKey"], a["receipt"])
        sender = address_bytes(first.tx.sender)
        pop = Pop(a["signature"], a["identifier"], sender, a["publicKey"], a["recordVersion"])
        return ("register", a["identifier"], a["publicKey"], pop)

    def chain_entry(self) -> ChainSays:
        """What the contract now holds pending (the latest entry it accepted)."""
        if self.paper is not None:
            [token] = [t for t in self.tokens if self.paper.pending(t)[3]]
            phone, key, rec, _ = self.paper.pending(token)
            return ChainSays(("pending", phone, key, rec))
        assert self.keystore is not None
        ks = self.keystore
        for a in self.world.actors.values():  # number
            if not a.phone:
                continue
            ident = identifier(a.phone, SALT)
            version = ks.record(ident).version
            for b in self.world.actors.values():  # key and registrant
                entry = ks.pending_key(key_hash(b.public_key))
                if entry is not None and entry.is_for(ident, version, address_bytes(b.address)):
                    return ChainSays(("pending", ident, b.public_key))
        raise ConformanceError("C_2: nothing is pending on the contract")

    def operator_step(self, i: int, ev: TraceEvent, run: int) -> Any:
        op = self.world[self.operator]
        state = self.received.setdefault(run, {})
        label = ev.label
        if self.trace.variant == "paper":
            if label in ("O_1", "O_2"):
                got = self.incoming(i, ev)
                kind = "fund" if label == "O_1" else "approve"
                if not isinstance(got, Sealed) or got.to != op.public_key or got.body[0] != kind:
                    raise ConformanceError(f"{label}: not a {kind} request sealed to me")
                _, phone, token = got.body
                if state.setdefault("request", (phone, token)) != (phone, token):
                    raise ConformanceError(f"{label}: another number or receipt than O_1's")
                return got
            phone, token = state["request"]
            assert self.paper is not None
            if label == "O_3":  # the operator's own read of pendingList[receipt]
                p_phone, key, rec, exists = self.paper.pending(token)
                if not exists or p_phone != phone:
                    raise ConformanceError("O_3: nothing pending for that number and receipt")
                return ChainSays(("pending", p_phone, key, rec))
            self.paper.approve_client(phone, token, op.address)
            self.provisioned[phone] = paper_password(token)  # the operator service's rule
            return ("approveClient", phone, token)
        assert self.keystore is not None
        ks = self.keystore
        if label == "O_1":
            got = self.incoming(i, ev)
            if not isinstance(got, Sealed) or got.to != op.public_key:
                raise ConformanceError("O_1: not sealed to me")
            _, phone, key, token = got.body
            state["request"] = (phone, key, token)
            return got
        phone, key, _ = state["request"]
        ident = identifier(phone, SALT)
        if label == "O_2":
            # The wallet that paid is the one whose key the receipt names (the service's
            # receipt binding); the pending registration must be that wallet's, for this
            # number at the record's version.
            record = ks.record(ident)
            payer = self.world.owner_of_key(key)
            entry = ks.pending_key(key_hash(key))
            wallet = address_bytes(self.world[payer].address) if payer else b""
            if entry is None or not entry.is_for(ident, record.version, wallet):
                raise ConformanceError("O_2: the pending key is not the one that paid")
            state["version"], state["registrant"] = record.version, wallet
            return ChainSays(("pending", ident, key))
        if label == "O_3":
            ks.approve(ident, key, state["version"], op.address, registrant=state["registrant"])
            return ("approve", ident, KeyHash(key_hash(key)))
        password = self.world.rng(f"Pw#{run}")(18).hex()
        self.provisioned[phone] = password
        return Sealed(("cred", Password(password, run)), key)


def replay(trace: Trace, seed: bytes = b"ethvoip/keystore-replay") -> KeystoreReplay:
    """Deploy the trace's variant of the key store and replay the trace on it."""
    chain_runs = [r for r in trace.runs if r.role == "C"]
    op_runs = [r for r in trace.runs if r.role == "O"]
    if len(chain_runs) != 1 or len(op_runs) != 1:
        raise ConformanceError("a key-store trace has one chain run and one operator run")
    agents = sorted({r.agent for r in trace.runs} | set(trace.directory) | {"e"})
    world = ChainWorld(seed + b"/" + (trace.claim or trace.kind).encode(), tuple(agents))
    r = KeystoreReplay(trace, world, chain_runs[0].agent, op_runs[0].agent)
    op = world[r.operator]
    if trace.variant == "paper":
        r.paper = PaperKeyStoreClient.deploy(world.chain, op.address)
    else:
        r.keystore = KeyStoreClient.deploy(world.chain, op.address)
    r.pool = Mempool(world.chain)
    r.walk()
    return r
