"""The wallet-management service's logic (paper III.A.3), between HTTP and the chain.

Each request is handled in three phases so that the slow, blocking part (the chain) never
holds the database, and the database decides every race:

1. ``accept_*`` (event-loop thread, no I/O but SQLite): open the envelope, decode, check the
   receipt, and for funding **commit the intent** (receipt binding + treasury nonce + signed
   transaction) in one SQLite transaction;
2. chain work (one worker thread): broadcast/settle the transfer, or check the pending
   registration and approve it;
3. ``finish_*`` (event-loop thread): record the outcome, provision SIP, seal the reply.

A :class:`~ethvoip.spec.errors.ServiceError` at any phase leaves the database as it was
(phase 1 and 3 are single transactions) and no Ether moves (the intent exists only once
every check has passed).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ethvoip.impl.chain import Status, identifier, key_hash
from ethvoip.impl.chain.checkpoint import checkpoint_at
from ethvoip.impl.chain.trust import Checkpoint
from ethvoip.impl.crypto import IdentityKey, Rng, sha256
from ethvoip.impl.service.codes import Code, refuse
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.db import ApprovalRow, FundingRow, ReceiptRow, ServiceDB
from ethvoip.impl.service.envelope import OpenedRequest, open_request, seal_reply
from ethvoip.impl.service.follower import ChainFollower, PollResult
from ethvoip.impl.service.ledger import Ledger, sign_transfer
from ethvoip.impl.service.messages import ApproveRequest, FundRequest
from ethvoip.impl.service.receipts import load_public_key, verify_receipt
from ethvoip.impl.service.sipdb import SipDatabase
from ethvoip.spec.errors import ContractRevert


@dataclass(frozen=True)
class FundPlan:
    """Phase 1's outcome: the request, and the intent to settle on chain."""

    request: OpenedRequest
    order_id: str
    wallet: bytes
    funding: FundingRow


@dataclass(frozen=True)
class ApprovePlan:
    request: OpenedRequest
    receipt: ReceiptRow
    identifier: bytes
    from_block: int
    # The request is signed by another key than the one that paid: allowed only to fetch a
    # credential for the number's current key after a rotation or recovery (checked on chain).
    rotated: bool = False


@dataclass(frozen=True)
class Approved:
    """Phase 2's outcome: which version was approved, and in which block (None if before)."""

    version: int
    block_hash: bytes | None


def paper_password(purchase_token: str) -> str:
    """The paper's SIP password: "the hash of the receipt token" (anyone reading the chain
    can compute it, since KeyStorePaper stores the token in clear)."""
    return sha256(purchase_token.encode()).hex()


class WalletService:
    """Funding, approval and SIP provisioning over one database, one SIP database, one chain."""

    def __init__(
        self,
        config: ServiceConfig,
        db: ServiceDB,
        sip: SipDatabase,
        ledger: Ledger,
        identity: IdentityKey,
        salt: bytes,
        *,
        clock: Callable[[], float] = time.time,
        rng: Rng = os.urandom,
    ) -> None:
        self.config = config
        self.db = db
        self.sip = sip
        self.ledger = ledger
        self.identity = identity
        self.salt = salt
        self.store_key = load_public_key(config.store_key_pem)
        self.clock = clock
        self.rng = rng
        self.chain_id = ledger.chain.chain_id
        self._intents_this_run = 0
        self.follower = ChainFollower(
            db, sip, ledger.keystore, clock=clock, confirmations=config.follow_confirmations
        )

    def now(self) -> int:
        return int(self.clock())

    # ------------------------------------------------------------ public facts

    def info(self) -> dict[str, Any]:
        """What a client needs before onboarding (GET /v1/info)."""
        ks = self.ledger.keystore
        return {
            "service_key": self.identity.public_key.to_bytes().hex(),
            "variant": self.config.variant,
            "chain_id": self.chain_id,
            "keystore": "0x" + ks.address.hex(),
            "paper_keystore": None
            if self.ledger.paper is None
            else "0x" + self.ledger.paper.address.hex(),
            "identifier_salt": self.salt.hex(),
            "product_id": self.config.product_id,
            "funding_wei": str(self.config.funding_wei),
            "min_commitment_age": int(ks.call("minCommitmentAge")),
            "sip_realm": self.config.sip_realm,
            "window_seconds": self.config.window_seconds,
        }

    def _open(self, route: str, body: bytes) -> OpenedRequest:
        request = open_request(
            self.identity, route, body, now=self.now(), window=self.config.window_seconds
        )
        # Fail fast on a replay; the authoritative check is the unique key at commit time.
        if self.db.nonce_seen(request.nonce):
            raise refuse(Code.REPLAYED_REQUEST, "this request was already accepted")
        return request

    def _consume(self, request: OpenedRequest) -> None:
        # Kept twice the window: a nonce older than that fails the clock check anyway.
        self.db.consume_nonce(
            request.nonce, now=self.now(), expires_at=self.now() + 2 * self.config.window_seconds
        )

    def reply(self, request: OpenedRequest, result: dict[str, Any]) -> bytes:
        return seal_reply(self.identity, request.client_key, request.nonce, result, self.rng)

    # ------------------------------------------------------------ funding

    def accept_fund(self, body: bytes) -> FundPlan:
        """Phase 1 of funding: every check, then the intent, committed before any sending."""
        request = self._open("fund", body)
        fund = FundRequest.decode(request.body)
        record = verify_receipt(fund.receipt, self.store_key, self.config.product_id)
        client_key = request.client_key.to_bytes()
        binding = ReceiptRow(
            record.order_id,
            record.purchase_token,
            record.product_id,
            fund.wallet,
            client_key,
            fund.phone,
        )
        with self.db.transaction():
            existing = self.db.receipt(record.order_id)
            if existing is not None:
                if existing != binding:
                    raise refuse(Code.RECEIPT_USED, "this receipt already paid another wallet")
                funding = self.db.funding(record.order_id)
                assert funding is not None  # inserted with the receipt, in one transaction
                self._consume(request)
                return FundPlan(request, record.order_id, fund.wallet, funding)
            if self.db.receipt_by_token(record.purchase_token) is not None:
                raise refuse(Code.RECEIPT_USED, "this purchase token was already used")
            if self.db.phone_taken(fund.phone):
                raise refuse(Code.NUMBER_TAKEN, f"{fund.phone} is already being registered")
            self._consume(request)
            self.db.insert_receipt(binding, purchase_time=record.purchase_time, now=self.now())
            nonce = self.db.allocate_nonce(0)
            transfer = sign_transfer(
                self.ledger.treasury,
                self.chain_id,
                fund.wallet,
                self.config.funding_wei,
                nonce,
                self.config.fees,
            )
            funding = FundingRow(
                record.order_id,
                nonce,
                self.config.funding_wei,
                transfer.tx_hash,
                transfer.raw_tx,
                "signed",
                None,
            )
            self.db.insert_funding(funding)
        self._intents_this_run += 1
        if self.config.crash_after_intents == self._intents_this_run:
            os._exit(137)  # fault injection: die between "recorded" and "sent"
        return FundPlan(request, record.order_id, fund.wallet, funding)

    def settle_fund(self, plan: FundPlan) -> int:
        """Phase 2 (worker thread): the block the transfer is mined in."""
        f = plan.funding
        if f.state == "confirmed" and f.block_number is not None:
            return f.block_number
        return self.ledger.settle(f.raw_tx, f.tx_hash, f.nonce)

    def finish_fund(self, plan: FundPlan, block: int) -> bytes:
        """Phase 3: mark the intent mined, seal the reply."""
        if plan.funding.state != "confirmed":
            self.db.confirm_funding(plan.order_id, block)
        return self.reply(
            plan.request,
            {
                "order_id": plan.order_id,
                "wallet": "0x" + plan.wallet.hex(),
                "amount_wei": str(plan.funding.amount_wei),
                "tx_hash": "0x" + plan.funding.tx_hash.hex(),
                "block_number": block,
            },
        )

    def reconcile(self) -> int:
        """On start (blocking): settle every intent a previous run recorded but did not see
        mined, in nonce order; then never allocate below the chain's count.  Returns how many
        intents were settled."""
        pending = self.db.unconfirmed_fundings()
        for funding in pending:
            block = self.ledger.settle(funding.raw_tx, funding.tx_hash, funding.nonce)
            self.db.confirm_funding(funding.order_id, block)
        floor = self.ledger.treasury_nonce()
        with self.db.transaction():
            stored = self.db.get_meta("treasury_next_nonce")
            if stored is None or int(stored) < floor:
                self.db.set_meta("treasury_next_nonce", str(floor))
        return len(pending)

    # ------------------------------------------------------------ approval

    def accept_approve(self, body: bytes) -> ApprovePlan:
        """Phase 1 of approval: the receipt is ours, bound to this key, and funded."""
        request = self._open("approve", body)
        approve = ApproveRequest.decode(request.body)
        receipt = self.db.receipt(approve.order_id)
        if receipt is None:
            raise refuse(Code.UNKNOWN_RECEIPT, "no funding was made for this order")
        if self.db.burned(approve.order_id):
            raise refuse(
                Code.RECEIPT_BURNED,
                "this number's key was revoked: onboarding again takes a new receipt",
            )
        if receipt.client_key != request.client_key.to_bytes():
            # After a rotation or a recovery the number's current key asks for its own
            # credential (bound to the new version); approve_on_chain checks the chain.
            if self.config.variant == "paper" or self.db.approval(approve.order_id) is None:
                raise refuse(Code.WRONG_CLIENT, "this receipt was bought for another identity key")
            rotated = True
        else:
            rotated = False
        funding = self.db.funding(approve.order_id)
        if funding is None or funding.state != "confirmed" or funding.block_number is None:
            raise refuse(Code.NOT_FUNDED, "the funding transfer is not mined yet")
        ident = identifier(receipt.phone, self.salt)
        return ApprovePlan(request, receipt, ident, funding.block_number, rotated)

    def approve_on_chain(self, plan: ApprovePlan) -> Approved:
        """Phase 2 (worker thread): check the pending registration, approve it."""
        if self.config.variant == "paper":
            try:
                block = self.ledger.paper_approve(plan.receipt.phone, plan.receipt.purchase_token)
            except ContractRevert as exc:
                raise refuse(Code.REGISTRATION_MISMATCH, f"contract refused: {exc}") from exc
            return Approved(1, block)
        record = self.ledger.record(plan.identifier)
        if plan.rotated:
            current = plan.request.client_key.to_bytes()
            if record.status is Status.APPROVED and record.public_key == current:
                return Approved(record.version, None)
            raise refuse(Code.WRONG_CLIENT, "this key is not the number's current key on chain")
        key = plan.receipt.client_key
        if record.status is Status.APPROVED and record.public_key == key:
            return Approved(record.version, None)  # approved already: idempotent
        if record.status not in (Status.NONE, Status.REVOKED):
            raise refuse(
                Code.NUMBER_IN_USE,
                f"the number's key is {record.status.name.lower()}: only its holder's "
                "revocation or a recovery replaces it",
            )
        pending = self.ledger.keystore.pending_key(key_hash(key))
        if pending is None:
            raise refuse(Code.NOT_PENDING, "no registration of this key is pending")
        if not pending.is_for(plan.identifier, record.version, plan.receipt.wallet):
            raise refuse(
                Code.REGISTRATION_MISMATCH,
                "the pending key was registered for another number, version or wallet",
            )
        try:
            block = self.ledger.approve(plan.identifier, key, record.version, plan.receipt.wallet)
        except ContractRevert as exc:  # expired, or the record moved between read and approval
            raise refuse(Code.REGISTRATION_MISMATCH, f"contract refused: {exc}") from exc
        return Approved(record.version + 1, block)

    def follow(self) -> PollResult:
        """One poll of the chain follower (worker thread): SIP rows and receipts follow the
        key life cycle on chain (:mod:`.follower`)."""
        return self.follower.poll()

    def new_password(self, receipt: ReceiptRow) -> str:
        if self.config.variant == "paper":
            return paper_password(receipt.purchase_token)
        # 144 random bits; never derived from anything on chain or in the receipt.
        return base64.urlsafe_b64encode(self.rng(18)).decode("ascii")

    def finish_approve(self, plan: ApprovePlan, approved: Approved) -> bytes:
        """Phase 3: record the approval, (re)provision SIP, seal the credentials."""
        receipt = plan.receipt
        password = self.new_password(receipt)
        with self.db.transaction():
            self._consume(plan.request)
            self.db.upsert_approval(
                ApprovalRow(
                    receipt.order_id,
                    plan.identifier,
                    approved.version,
                    approved.block_hash,
                    receipt.phone,
                ),
                now=self.now(),
            )
            # Inside the service transaction: if SIP provisioning fails, nothing is recorded.
            self.sip.provision(receipt.phone, password)
        row = self.db.approval(receipt.order_id)
        assert row is not None
        return self.reply(
            plan.request,
            {
                "order_id": receipt.order_id,
                "identifier": "0x" + plan.identifier.hex(),
                "version": approved.version,
                "approval_block": None if row.block_hash is None else "0x" + row.block_hash.hex(),
                "sip": {
                    "username": receipt.phone,
                    "domain": self.config.sip_realm,
                    "password": password,
                },
                # The phone's root of trust for key look-ups (docs/lightclient.rst): a block
                # of the operator's own node at or after the approval, sealed in this reply.
                "checkpoint": self.checkpoint().to_json(),
            },
        )

    def checkpoint(self) -> Checkpoint:
        """The block the operator vouches for now: its own node's head."""
        chain = self.ledger.chain
        return checkpoint_at(chain, bytes(chain.latest_block()["hash"]))
