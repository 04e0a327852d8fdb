"""Model-based testing: random call sequences by several subscribers, the operator and an
attacker, sent both to a deployed contract (embedded chain) and to its pure-Python reference
model (ethvoip.impl.chain.reference).  After every step: the same accept/reject (and the same
custom error), the same events, the same state."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from eth_hash.auto import keccak
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from ethvoip.impl.chain import (
    EmbeddedChain,
    KeyStoreClient,
    PaperKeyStoreClient,
    commitment,
    identifier,
)
from ethvoip.impl.chain.contract import address_bytes
from ethvoip.impl.chain.messages import (
    cancel_recovery_digest,
    recovery_digest,
    register_digest,
    revoke_digest,
    rotate_digest,
    rotate_to_digest,
)
from ethvoip.impl.chain.proofs import RecordLayout
from ethvoip.impl.chain.reference import KeyStoreModel, PaperModel
from ethvoip.spec.errors import ContractRevert

from .conftest import SALT, key

# Ages chosen so that time, which advances in steps of WAIT (or JUMP) seconds plus about a
# second per block, never lands near a boundary: the model's guess of the next block's
# timestamp and the real one always give the same verdict.
MIN_AGE, MAX_AGE, DELAY, TTL, WAIT, JUMP = 100, 1100, 600, 2100, 250, 1375
GAS = 1_000_000  # explicit limit for calls the model expects to succeed (skips estimation)

KEYS = [key(i) for i in range(4)]
PUBS = [k.public_key.to_bytes() for k in KEYS]
IDENTS = [identifier("+33612345678", SALT), identifier("+14155550123", SALT)]

senders = st.integers(0, 3)  # 0 = operator, 1 and 2 = subscribers, 3 = attacker
keys = st.integers(0, 3)
idents = st.integers(0, 1)
deltas = st.sampled_from([0, 0, 0, 1, -1])
maybe_keys = st.none() | keys  # None: the right key for the step (see holder())
operator_mostly = st.sampled_from([0, 0, 0, 1, 3])
secrets = st.sampled_from([b"\1", b"\2"])
registrants = st.none() | senders  # None: the sender of the key's registration


@cache
def shared_chain() -> EmbeddedChain:
    return EmbeddedChain()


class _Differential(RuleBasedStateMachine):
    """Runs one call on the contract and on the model and compares the outcomes."""

    client: Any
    model: Any

    def __init__(self) -> None:
        super().__init__()
        self.chain = shared_chain()
        self.accounts = self.chain.accounts[:4]

    def who(self, i: int) -> bytes:
        return address_bytes(self.accounts[i])

    def run(self, method: str, solidity: str, sender: int, *args: Any) -> None:
        trial = copy.deepcopy(self.model)
        guess = self.chain.latest_timestamp() + 1
        try:
            getattr(trial, method)(self.who(sender), guess, *args)
            predicted: str | None = None
        except ContractRevert as exc:
            predicted = exc.reason
        try:
            result = self.client.send(
                solidity, self.accounts[sender], *args, gas=GAS if predicted is None else None
            )
        except ContractRevert as exc:
            assert exc.reason == predicted, (
                f"{method}: chain reverted {exc.reason}, model said {predicted}"
            )
            event(f"{method}: {exc.reason}")  # shown by --hypothesis-show-statistics
            return
        assert predicted is None, f"{method}: chain accepted, model said {predicted}"
        event(f"{method}: accepted")
        events = getattr(self.model, method)(self.who(sender), result.timestamp, *args)
        assert list(result.events) == events


class KeyStoreMachine(_Differential):
    commits = Bundle("commits")

    def __init__(self) -> None:
        super().__init__()
        self.client = ks = KeyStoreClient.deploy(
            self.chain,
            self.accounts[0],
            min_commitment_age=MIN_AGE,
            max_commitment_age=MAX_AGE,
            recovery_delay=DELAY,
            pending_ttl=TTL,
        )
        self.model = KeyStoreModel(
            self.who(0), self.chain.chain_id, ks.address, MIN_AGE, MAX_AGE, DELAY, TTL
        )
        self.registered_by: dict[bytes, int] = {}  # key -> sender of its last registration
        layout = ks.artifact.storage_layout
        self.records_layout = RecordLayout.from_storage_layout(layout, "records")
        self.recoveries_layout = RecordLayout.from_storage_layout(layout, "recoveries")
        slots = {e["label"]: int(e["slot"]) for e in layout["storage"]}
        self.count_slot = slots["recoveryCount"]
        self.keys_slot = slots["keys"]
        self.operator_slot = slots["operator"]
        self.pending_operator_slot = slots["pendingOperator"]

    def pop(self, ident: bytes, k: int, signer: int, sender: int, version: int) -> bytes:
        """``signer``'s Register signature for key ``k`` under ``ident`` sent by ``sender``."""
        digest = register_digest(
            self.chain.chain_id, self.client.address, ident, PUBS[k], self.who(sender), version
        )
        return KEYS[signer].sign_digest_recoverable(digest)

    def sign(self, signer: int, digest: bytes) -> bytes:
        return KEYS[signer].sign_digest_recoverable(digest)

    def holder(self, ident: bytes, choice: int | None) -> int:
        """``choice``, or (None) the index of the key the record holds now: the right signer."""
        if choice is not None:
            return choice
        current = self.model._record(ident).public_key
        return PUBS.index(current) if current in PUBS else 0

    def recovery_key(self, ident: bytes, choice: int | None) -> int:
        """``choice``, or (None) the key the pending recovery names."""
        pending = self.model.recoveries.get(ident)
        if choice is not None or pending is None:
            return choice or 0
        return next(n for n, p in enumerate(PUBS) if keccak(p) == pending.key_hash)

    @initialize()
    def first_subscriber(self) -> None:
        """Every run starts with one approved subscriber, so that rotation, revocation and
        recovery are reachable within a short run."""
        i = IDENTS[0]
        c = commitment(i, PUBS[1], self.who(1), b"\3" * 32)
        self.run("commit", "commit", 1, c)
        self.wait()
        self.run("register", "register", 1, i, PUBS[1], b"\3" * 32, 0, self.pop(i, 1, 1, 1, 0))
        self.registered_by[PUBS[1]] = 1
        self.run("approve", "approve", 0, i, PUBS[1][:32], PUBS[1][32:], 0, self.who(1))

    @rule(
        target=commits,
        sender=senders,
        ident=idents,
        k=keys,
        signer=maybe_keys,
        secret=secrets,
        delta=deltas,
    )
    def commit(
        self, sender: int, ident: int, k: int, signer: int | None, secret: bytes, delta: int
    ) -> tuple[Any, ...]:
        i = IDENTS[ident]
        version = max(0, self.model._record(i).version + delta)
        pop = self.pop(i, k, k if signer is None else signer, sender, version)
        reg = (sender, i, PUBS[k], secret * 32, version, pop)
        c = commitment(reg[1], reg[2], self.who(sender), reg[3])
        self.run("commit", "commit", sender, c)
        self.same_commitment(c)
        return reg

    @rule(reg=commits, other_sender=st.none() | senders)
    def register(self, reg: tuple[Any, ...], other_sender: int | None) -> None:
        sender, ident, pub, secret, version, sig = reg
        actual = sender if other_sender is None else other_sender
        before = self.model.keys.get(keccak(pub))
        self.run("register", "register", actual, ident, pub, secret, version, sig)
        if self.model.keys.get(keccak(pub)) != before:
            self.registered_by[pub] = actual
        self.same_commitment(commitment(ident, pub, self.who(actual), secret))

    def same_commitment(self, c: bytes) -> None:
        # Only the commitment a step touched can have changed: checking it alone keeps
        # the invariant cheap.
        assert self.client.commitment_time(c) == self.model.commitments.get(c, 0)

    @rule(sender=operator_mostly, ident=idents, k=keys, delta=deltas, registrant=registrants)
    def approve(self, sender: int, ident: int, k: int, delta: int, registrant: int | None) -> None:
        i = IDENTS[ident]
        version = max(0, self.model._record(i).version + delta)
        who = self.registered_by.get(PUBS[k], 1) if registrant is None else registrant
        self.run(
            "approve", "approve", sender, i, PUBS[k][:32], PUBS[k][32:], version, self.who(who)
        )

    @rule(sender=operator_mostly, k=keys)
    def drop_pending(self, sender: int, k: int) -> None:
        self.run("drop_pending", "dropPending", sender, keccak(PUBS[k]))

    @rule(sender=operator_mostly, proposed=senders)
    def propose_operator(self, sender: int, proposed: int) -> None:
        self.run("propose_operator", "proposeOperator", sender, self.who(proposed))

    @rule(sender=senders)
    def accept_operator(self, sender: int) -> None:
        self.run("accept_operator", "acceptOperator", sender)

    @rule(
        sender=senders, ident=idents, new=keys, current=maybe_keys, signer=maybe_keys, delta=deltas
    )
    def rotate(
        self, sender: int, ident: int, new: int, current: int | None, signer: int | None, delta: int
    ) -> None:
        i = IDENTS[ident]
        version = max(0, self.model._record(i).version + delta)
        c, a = self.chain.chain_id, self.client.address
        consent = self.sign(self.holder(i, current), rotate_digest(c, a, i, PUBS[new], version))
        to = self.sign(
            new if signer is None else signer, rotate_to_digest(c, a, i, PUBS[new], version)
        )
        self.run("rotate", "rotate", sender, i, PUBS[new], consent, to)

    @rule(sender=senders, ident=idents, signer=maybe_keys, delta=deltas)
    def revoke(self, sender: int, ident: int, signer: int | None, delta: int) -> None:
        i = IDENTS[ident]
        version = max(0, self.model._record(i).version + delta)
        digest = revoke_digest(self.chain.chain_id, self.client.address, i, version)
        self.run(
            "revoke",
            "revoke",
            sender,
            i,
            KEYS[self.holder(i, signer)].sign_digest_recoverable(digest),
        )

    @rule(sender=operator_mostly, ident=idents)
    def operator_revoke(self, sender: int, ident: int) -> None:
        self.run("operator_revoke", "operatorRevoke", sender, IDENTS[ident])

    @rule(sender=operator_mostly, ident=idents, k=keys, signer=maybe_keys, delta=deltas)
    def announce(self, sender: int, ident: int, k: int, signer: int | None, delta: int) -> None:
        i = IDENTS[ident]
        serial = max(0, self.model.recovery_count + 1 + delta)
        digest = recovery_digest(self.chain.chain_id, self.client.address, i, PUBS[k], serial)
        consent = self.sign(k if signer is None else signer, digest)
        self.run("announce_recovery", "announceRecovery", sender, i, PUBS[k], consent)

    @rule(sender=senders, ident=idents, signer=maybe_keys, delta=deltas)
    def cancel(self, sender: int, ident: int, signer: int | None, delta: int) -> None:
        i = IDENTS[ident]
        pending = self.model.recoveries.get(i)
        key_hash, serial = (pending.key_hash, pending.serial) if pending else (bytes(32), 0)
        digest = cancel_recovery_digest(
            self.chain.chain_id, self.client.address, i, key_hash, max(0, serial + delta)
        )
        sig = KEYS[self.holder(i, signer)].sign_digest_recoverable(digest)
        self.run("cancel_recovery", "cancelRecovery", sender, i, sig)

    @rule(sender=operator_mostly, ident=idents, k=maybe_keys)
    def execute(self, sender: int, ident: int, k: int | None) -> None:
        i = IDENTS[ident]
        self.run("execute_recovery", "executeRecovery", sender, i, PUBS[self.recovery_key(i, k)])

    @rule(ident=idents, k=keys)
    def look_up(self, ident: int, k: int) -> None:
        """The views a phone and the service call (``lookup``, ``keyUsed``): the same answer,
        or the same custom error, as the model (the invariant reads raw storage instead)."""
        i = IDENTS[ident]
        answers = []
        for side in (self.model, self.client):
            try:
                answers.append(side.lookup(i))
            except ContractRevert as exc:
                answers.append(exc.reason)
        assert answers[0] == answers[1], f"lookup: model {answers[0]}, chain {answers[1]}"
        event("lookup: " + ("answered" if isinstance(answers[0], tuple) else str(answers[0])))
        assert self.client.key_used(keccak(PUBS[k])) == self.model.key_used(keccak(PUBS[k]))

    @rule()
    def wait(self) -> None:
        self.chain.increase_time(WAIT)

    @rule()
    def jump(self) -> None:
        """Past a commitment's maximum age or a pending registration's TTL at once."""
        self.chain.increase_time(JUMP)

    def word(self, slot: int) -> int:
        raw = self.chain.w3.eth.get_storage_at(self.client.contract.address, slot)
        return int.from_bytes(bytes(raw), "big")

    @invariant()
    def same_state(self) -> None:
        # Read raw storage through the committed storageLayout (cheaper than eth_call on
        # eth-tester, and a check of the layout the light client relies on).
        records, recoveries = self.records_layout, self.recoveries_layout
        for i in IDENTS:
            rec = self.model._record(i)
            base = records.base(i)
            f = records.fields
            x, y, packed = (self.word(base + n) for n in range(3))
            assert packed == self.word(base + f["status"].slot)
            chain_state = (
                x.to_bytes(32, "big") + y.to_bytes(32, "big"),
                f["version"].extract(packed),
                f["status"].extract(packed),
            )
            assert chain_state == (rec.public_key, rec.version, rec.status)
            pending = self.model.recoveries.get(i)
            expected = (
                (pending.key_hash, pending.executable_at, pending.serial)
                if pending
                else (bytes(32), 0, 0)
            )
            r = recoveries.base(i)
            g = recoveries.fields
            key_word, times = (
                self.word(r + g["keyHash"].slot),
                self.word(r + g["executableAt"].slot),
            )
            got = (
                key_word.to_bytes(32, "big"),
                g["executableAt"].extract(times),
                g["serial"].extract(times),
            )
            assert got == expected
        assert self.word(self.count_slot) == self.model.recovery_count
        for p in PUBS:
            slot = keccak(keccak(p) + self.keys_slot.to_bytes(32, "big"))
            assert self.word(int.from_bytes(slot, "big")) == self.model.keys.get(keccak(p), 0)
        assert self.word(self.operator_slot) == int.from_bytes(self.model.operator, "big")
        pending = self.word(self.pending_operator_slot)
        assert pending == int.from_bytes(self.model.pending_operator, "big")


PHONES = ["+33612345678", "+14155550123"]
RECEIPTS = ["GPA.1", "GPA.2", ""]


class PaperMachine(_Differential):
    def __init__(self) -> None:
        super().__init__()
        self.client = PaperKeyStoreClient.deploy(self.chain, self.accounts[0])
        self.model = PaperModel(self.who(0))

    @rule(sender=senders, phone=st.integers(0, 1), k=keys, receipt=st.integers(0, 2))
    def add_client(self, sender: int, phone: int, k: int, receipt: int) -> None:
        self.run("add_client", "addClient", sender, PHONES[phone], PUBS[k], RECEIPTS[receipt])
        self.same_entries(RECEIPTS[receipt], PHONES[phone])

    @rule(sender=senders, phone=st.integers(0, 1), receipt=st.integers(0, 2))
    def approve_client(self, sender: int, phone: int, receipt: int) -> None:
        self.run("approve_client", "approveClient", sender, PHONES[phone], RECEIPTS[receipt])
        self.same_entries(RECEIPTS[receipt], PHONES[phone])

    def same_entries(self, receipt: str, phone: str) -> None:
        """Compare the entries a step can have touched (eth_call is slow on eth-tester)."""
        for table, mine in (("pending", self.model.pending), ("approved", self.model.approved)):
            entry = mine.get(receipt)
            expected = (
                (entry.phone_number, entry.public_key, entry.receipt, True)
                if entry
                else ("", b"", "", False)
            )
            assert getattr(self.client, table)(receipt) == expected
        assert self.client.receipt_of(phone) == self.model.receipt_of.get(phone, "")
        try:
            expected_key: bytes | str = self.model.get_client(phone)
        except ContractRevert as exc:
            expected_key = exc.reason
        try:
            actual_key: bytes | str = self.client.get_client(phone)
        except ContractRevert as exc:
            actual_key = exc.reason
        assert actual_key == expected_key

    def teardown(self) -> None:
        for r in RECEIPTS:
            self.same_entries(r, PHONES[0])
        self.same_entries(RECEIPTS[0], PHONES[1])


# Sized for eth-tester (about 0.1-0.2 s per transaction, more on a busy 2-core machine):
# the whole file stays around half a minute.
TestKeyStoreAgainstModel = KeyStoreMachine.TestCase
TestKeyStoreAgainstModel.settings = settings(max_examples=12, stateful_step_count=15, deadline=None)
TestPaperAgainstModel = PaperMachine.TestCase
TestPaperAgainstModel.settings = settings(max_examples=8, stateful_step_count=12, deadline=None)
