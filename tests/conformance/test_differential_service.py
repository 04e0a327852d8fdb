"""The operator service's API (fund with a receipt, approve) against a small model of its state.

Model-based, like tests/chain/test_stateful.py for the contract: hypothesis draws a sequence
of requests by two would-be subscribers (each with its own identity key, wallet and number)
holding three receipts between them: fund with any receipt for any wallet and number, approve
any order with any key, register a key on chain for any number, replay an accepted request
byte for byte.  Each request goes to the real :class:`~ethvoip.impl.service.service.WalletService`
(its three phases in process, on an embedded chain) and to :class:`ServiceModel`, a dozen lines
of rules written from docs/service.rst's refusal table; both must give the same answer (the
same refusal code, or success), and after every step the service's database, SIP rows and
the chain's record agree with the model.

Every example uses new receipts, numbers and keys, so one service (built once per module:
building deploys two contracts) serves all examples without their states meeting.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ethvoip.impl.chain import EmbeddedChain, KeyStoreClient, Status, identifier
from ethvoip.impl.crypto import IdentityKey
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.envelope import NONCE_SIZE, seal_request
from ethvoip.impl.service.ledger import install_signers
from ethvoip.impl.service.messages import FundRequest
from ethvoip.impl.service.receipts import PurchaseState, SignedReceipt
from ethvoip.impl.service.runtime import Built
from ethvoip.impl.service.service import WalletService
from ethvoip.impl.service.store import TestStore
from ethvoip.spec.errors import ContractRevert, ServiceError
from tests.conformance.differential import profile_examples
from tests.service.conftest import MIN_AGE, build
from tests.service.helpers import fresh_number

OK = "ok"
GOOD_RECEIPTS = 3
#: receipts 3.. are bad, each in one way the service's receipt check names
BAD_RECEIPTS = {3: "foreign_product", 4: "purchase_not_completed", 5: "bad_receipt_signature"}
BAD_RECEIPTS_LIST = sorted(BAD_RECEIPTS)
ENVELOPE_FAULTS = ("other_service", "other_route", "stale")


@dataclass(frozen=True)
class Binding:
    """What a funded receipt is bound to (the service's receipts row, in model terms)."""

    wallet: int
    key: int
    phone: int


@dataclass
class ServiceModel:
    """The service's decisions as rules over a handful of facts (indices, not bytes)."""

    bound: dict[int, Binding] = field(default_factory=dict)  # receipt -> binding
    approved_orders: dict[int, int] = field(default_factory=dict)  # receipt -> version
    pending: dict[int, tuple[int, int]] = field(default_factory=dict)  # key -> (phone, wallet)
    on_chain: dict[int, tuple[int, int]] = field(default_factory=dict)  # phone -> (key, version)

    def fund(self, receipt: int, wallet: int, key: int, phone: int) -> str:
        if receipt in BAD_RECEIPTS:  # the receipt is checked before anything is looked up
            return BAD_RECEIPTS[receipt]
        want = Binding(wallet, key, phone)
        if receipt in self.bound:
            return OK if self.bound[receipt] == want else "receipt_used"
        if any(b.phone == phone for b in self.bound.values()):
            return "number_taken"
        self.bound[receipt] = want
        return OK

    @staticmethod
    def envelope(fault: str) -> str:
        """A request whose envelope is wrong is refused before its body is read, whatever
        the state: sealed to another service key, or for the other route (the envelope's
        associated data is the route, so it does not open: ``bad_envelope``, before the
        inner ``kind`` could say ``wrong_kind``), or dated outside the window."""
        return "stale_request" if fault == "stale" else "bad_envelope"

    def approve(self, receipt: int, key: int) -> str:
        b = self.bound.get(receipt)
        if b is None:
            return "unknown_receipt"
        if key != b.key:
            if receipt not in self.approved_orders:
                return "wrong_client"
            current = self.on_chain.get(b.phone)
            if current is None or current[0] != key:
                return "wrong_client"
            return OK  # the number's current key fetches its credential
        current = self.on_chain.get(b.phone)
        if current is not None:
            if current[0] != b.key:
                return "number_in_use"
            self.approved_orders[receipt] = current[1]
            return OK  # approved already: the same version again
        if b.key not in self.pending:
            return "not_pending"
        if self.pending[b.key] != (b.phone, b.wallet):
            return "registration_mismatch"
        del self.pending[b.key]
        self.on_chain[b.phone] = (b.key, 1)
        self.approved_orders[receipt] = 1
        return OK


@cache
def _service() -> tuple[Built, EmbeddedChain, TestStore]:
    store = TestStore()
    chain = EmbeddedChain()
    tmp = Path(_TMP.name)
    return (
        build(ServiceConfig(store.public_key_pem), chain, tmp / "s.db", tmp / "sip.db"),
        chain,
        store,
    )


_TMP = TemporaryDirectory(prefix="ethvoip-differential-service-")


def note(what: str) -> None:
    """A hypothesis statistics event (outside a hypothesis run, e.g. a plain test: nothing)."""
    with contextlib.suppress(InvalidArgument):
        event(what)


def handle(svc: WalletService, route: str, body: bytes) -> str:
    """One request through the service's three phases; its refusal code or ``ok``."""
    try:
        if route == "fund":
            plan = svc.accept_fund(body)
            svc.finish_fund(plan, svc.settle_fund(plan))
        else:
            aplan = svc.accept_approve(body)
            svc.finish_approve(aplan, svc.approve_on_chain(aplan))
    except ServiceError as exc:
        return exc.code
    return OK


subscribers = st.integers(0, 1)
receipts = st.sampled_from([0, 1, 2, 0, 1, 2, *BAD_RECEIPTS])


class ServiceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.built, self.chain, store = _service()
        self.svc = self.built.service
        self.model = ServiceModel()
        self.keys = [IdentityKey.generate() for _ in range(2)]
        self.wallets: list[LocalAccount] = [Account.create() for _ in range(2)]
        install_signers(self.chain, *self.wallets)
        self.phones = [fresh_number() for _ in range(2)]
        self.receipts = [store.purchase() for _ in range(GOOD_RECEIPTS)]
        forged = store.purchase()
        self.receipts += [
            store.purchase(product_id="org.example.other"),
            store.purchase(state=PurchaseState.PENDING),
            SignedReceipt(forged.purchase_data, bytes(len(forged.signature))),
        ]
        self.accepted: list[tuple[str, bytes]] = []  # sealed requests the service accepted
        self.funded: set[int] = set()  # wallets that received Ether (can pay for gas)
        self.ks = KeyStoreClient(self.chain, self.svc.ledger.keystore.address)
        self.svc_window = ServiceConfig(store.public_key_pem).window_seconds

    def seal(
        self, key: int, route: str, body: dict[str, object], fault: str | None = None
    ) -> bytes:
        """``body`` sealed for ``route`` by subscriber ``key``, or with an envelope ``fault``."""
        service = self.svc.identity.public_key
        if fault == "other_service":
            service = IdentityKey.generate().public_key
        if fault == "other_route":
            route = "approve" if route == "fund" else "fund"
        late = 10 * self.svc_window if fault == "stale" else 0
        sealed: bytes = seal_request(
            service,
            self.keys[key],
            route,
            body,
            now=int(time.time()) - late,
            nonce=os.urandom(NONCE_SIZE),
        )
        return sealed

    def order(self, receipt: int) -> str:
        return str(json.loads(self.receipts[receipt].purchase_data)["orderId"])

    def ask(self, route: str, body: bytes, predicted: str) -> None:
        got = handle(self.svc, route, body)
        note(f"{route}: {got}")
        assert got == predicted, f"{route}: the service says {got}, the model {predicted}"
        if got == OK:
            self.accepted.append((route, body))

    @initialize()
    def nothing(self) -> None:
        pass

    @rule(receipt=receipts, wallet=subscribers, key=subscribers, phone=subscribers)
    def fund(self, receipt: int, wallet: int, key: int, phone: int) -> None:
        w = bytes.fromhex(self.wallets[wallet].address[2:])
        request = FundRequest(self.receipts[receipt], w, self.phones[phone]).to_json()
        predicted = self.model.fund(receipt, wallet, key, phone)
        self.ask("fund", self.seal(key, "fund", request), predicted)
        if predicted == OK:
            self.funded.add(wallet)

    @rule(receipt=receipts, key=subscribers)
    def approve(self, receipt: int, key: int) -> None:
        predicted = self.model.approve(receipt, key)
        self.ask("approve", self.seal(key, "approve", {"order_id": self.order(receipt)}), predicted)

    @rule(
        route=st.sampled_from(["fund", "approve"]),
        fault=st.sampled_from(ENVELOPE_FAULTS),
        receipt=receipts,
        key=subscribers,
    )
    def misenveloped(self, route: str, fault: str, receipt: int, key: int) -> None:
        """A request whose envelope is wrong (and whose body would otherwise be fine)."""
        body: dict[str, object]
        if route == "fund":
            w = bytes.fromhex(self.wallets[key].address[2:])
            body = FundRequest(self.receipts[receipt], w, self.phones[key]).to_json()
        else:
            body = {"order_id": self.order(receipt)}
        self.ask(route, self.seal(key, route, body, fault), self.model.envelope(fault))

    @rule(who=subscribers)
    def onboard(self, who: int) -> None:
        """The honest path in one step (fund, register, approve), so that short runs reach
        the states after an approval; each request is still compared with the model."""
        self.fund(who, who, who, who)
        self.register(who, who, who)
        self.approve(who, who)

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        if self.accepted:
            route, body = data.draw(st.sampled_from(self.accepted))
            self.ask(route, body, "replayed_request")

    @rule(key=subscribers, phone=subscribers, wallet=subscribers)
    def register(self, key: int, phone: int, wallet: int) -> None:
        """A key registered on chain (commit, wait, register) from a funded wallet: the
        chain, not the service, decides; the model learns what is pending from it."""
        if wallet not in self.funded:
            return
        sender = self.wallets[wallet].address
        ident = identifier(self.phones[phone], self.svc.salt)
        try:
            reg = self.ks.registration(ident, self.keys[key], sender)
            self.ks.commit(reg.commitment, sender)
            self.chain.increase_time(MIN_AGE)
            self.ks.register(reg, sender)
        except ContractRevert as exc:
            note(f"register: {exc.reason}")
            return
        self.model.pending[key] = (phone, wallet)

    @invariant()
    def same_state(self) -> None:
        db = self.svc.db
        for r in range(len(self.receipts)):
            row, b = db.receipt(self.order(r)), self.model.bound.get(r)
            if b is None:
                assert row is None
                continue
            assert row is not None
            got = (row.wallet, row.client_key, row.phone)
            wallet = bytes.fromhex(self.wallets[b.wallet].address[2:])
            assert got == (wallet, self.keys[b.key].public_key.to_bytes(), self.phones[b.phone])
            approval = db.approval(self.order(r))
            version = self.model.approved_orders.get(r)
            assert (approval.version if approval else None) == version
        usernames = set(self.built.sip.usernames())
        for p, phone in enumerate(self.phones):
            record = self.ks.record(identifier(phone, self.svc.salt))
            on_chain = self.model.on_chain.get(p)
            assert (phone in usernames) == (on_chain is not None)
            if on_chain is None:
                assert record.status is not Status.APPROVED
            else:
                key, version = on_chain
                assert record.status is Status.APPROVED
                assert (record.public_key, record.version) == (
                    self.keys[key].public_key.to_bytes(),
                    version,
                )


def teardown_module() -> None:
    _onboarded.cache_clear()
    _service.cache_clear()
    _TMP.cleanup()


TestServiceAgainstModel = ServiceMachine.TestCase
TestServiceAgainstModel.settings = settings(
    max_examples=profile_examples(ci=3, deep=300), stateful_step_count=8, deadline=None
)


def test_the_comparison_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that forgets the number-taken rule disagrees with the service on the second
    funding for one number: the comparison is live.  (Removing the service's own check
    instead does not make it accept: the database's unique index on the number refuses.)"""
    m = ServiceMachine()
    m.fund(0, 0, 0, 0)
    monkeypatch.setattr(ServiceModel, "fund", lambda *_: OK)
    with pytest.raises(AssertionError, match="the service says number_taken, the model ok"):
        m.fund(1, 1, 1, 0)


@cache
def _onboarded() -> ServiceMachine:
    """One machine for the refusal examples: subscriber 0 onboarded, nothing else.  The
    examples only send requests the service must refuse, and the invariant after each one
    holds the state to the model's (unchanged), so they cannot meet."""
    m = ServiceMachine()
    m.onboard(0)
    return m


@settings(max_examples=profile_examples(ci=15, deep=1000), deadline=None)
@given(
    route=st.sampled_from(["fund", "approve"]),
    fault=st.none() | st.sampled_from(ENVELOPE_FAULTS),
    receipt=receipts,
    key=subscribers,
)
def test_envelope_and_receipt_refusals(
    route: str, fault: str | None, receipt: int, key: int
) -> None:
    """Requests with a wrong envelope (another service's key, the other route, out of the
    time window) or a bad receipt (another product, a purchase not completed, a signature
    the store did not make), after one subscriber's honest onboarding: the service and the
    model refuse alike, and nothing changes (the invariant)."""
    m = _onboarded()
    if fault is not None:
        m.misenveloped(route, fault, receipt, key)
    elif route == "fund":
        m.fund(BAD_RECEIPTS_LIST[receipt % len(BAD_RECEIPTS_LIST)], key, key, key)
    else:
        m.approve(BAD_RECEIPTS_LIST[receipt % len(BAD_RECEIPTS_LIST)], key)
    m.same_state()
