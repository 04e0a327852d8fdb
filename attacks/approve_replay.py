"""A captured approval request sent to the operator a second time (issue 13).

Paper (III.A.3): the approval request is the number and the receipt in clear, with nothing
that makes one request differ from its copy; whoever replays it is answered as the
subscriber was, and the SIP password the answer carries is ``hash(receipt)``, the same
again.  (This repository's paper-variant service wraps requests in the hardened envelope,
so the replay is shown on the paper's message itself.)

Hardened: the operator service itself runs (SQLite in a temporary directory, the embedded
chain); a subscriber funds, registers and has her key approved through it; the byte-for-byte
copy of her approval request is refused with ``replayed_request`` (HTTP 409): its nonce was
consumed in the same database transaction that recorded the approval.  Approval stays single
use and idempotent: the key is approved once on chain and one SIP row exists.
Run: ``ethvoip attack approve_replay``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from eth_account import Account

from ethvoip.attacks.base import Blocked, Line, refused_by
from ethvoip.attacks.chain_world import ChainWorld, contract_attack
from ethvoip.attacks.lifecycle import Outcome, register_as
from ethvoip.impl.chain import KeyStoreClient, PaperKeyStoreClient, identifier
from ethvoip.impl.crypto import IdentityKey, generate_rsa_key
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.envelope import NONCE_SIZE, seal_request
from ethvoip.impl.service.ledger import install_signers
from ethvoip.impl.service.messages import ApproveRequest, FundRequest
from ethvoip.impl.service.runtime import build_service
from ethvoip.impl.service.service import paper_password
from ethvoip.impl.service.store import TestStore
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import Check, ServiceError

CHECK = Check.REPLAY


def paper_half(w: ChainWorld) -> Outcome:
    op, a = w["o"], w["a"]
    paper = PaperKeyStoreClient.deploy(w.chain, op.address)
    token = w.receipt_token("a")
    paper.add_client(a.phone, a.public_key, token, a.address)
    request = {"number": a.phone, "receipt": token}  # the paper's approval request
    paper.approve_client(a.phone, token, op.address)
    first = paper_password(request["receipt"])
    lines = [Line("S_3", "a", f"approval request {json.dumps(request)[:40]}...: approved")]
    lines.append(Line("O_5", "o", f"SIP password = hash(receipt) = {first[:12]}..."))
    copy = dict(request)
    again = paper_password(copy["receipt"])
    lines.append(Line("S_3", "e", "sends the captured request again: nothing tells it apart"))
    lines.append(Line("O_5", "o", f"answers with the same SIP password {again[:12]}..."))
    return again == first, lines, "the replayer is answered with a's SIP credential"


def hardened_half(w: ChainWorld) -> Blocked:
    with tempfile.TemporaryDirectory(prefix="ethvoip-approve-replay-") as tmp:
        return _hardened(w, Path(tmp))


def _hardened(w: ChainWorld, tmp: Path) -> Blocked:
    store = TestStore(generate_rsa_key())
    built = build_service(
        ServiceConfig(store.public_key_pem),
        w.chain,
        tmp / "svc.sqlite",
        tmp / "sip.sqlite",
        passphrase="approve replay attack passphrase",
        key_scrypt_n=2**10,
        min_commitment_age=60,
    )
    try:
        svc = built.service
        service_key = svc.identity.public_key
        identity = IdentityKey.generate(w.rng("a/identity"))
        wallet = Account.from_key(w.rng("a/wallet")(32))
        receipt = store.purchase()
        order_id = str(json.loads(receipt.purchase_data)["orderId"])

        def sealed(kind: str, body: dict[str, object]) -> bytes:
            return seal_request(
                service_key, identity, kind, body, now=svc.now(), nonce=os.urandom(NONCE_SIZE)
            )

        wallet_bytes = bytes.fromhex(wallet.address[2:])
        fund = sealed("fund", FundRequest(receipt, wallet_bytes, w["a"].phone).to_json())
        plan = svc.accept_fund(fund)
        svc.finish_fund(plan, svc.settle_fund(plan))
        install_signers(w.chain, wallet)
        ks: KeyStoreClient = svc.ledger.keystore
        ident = identifier(w["a"].phone, svc.salt)
        register_as(ks, w, ident, identity, wallet.address, "a/service")
        lines = [Line("S_2", "a", "funded by the service, registered her key on chain")]
        body = sealed("approve", ApproveRequest(order_id).to_json())
        approve = svc.accept_approve(body)
        svc.finish_approve(approve, svc.approve_on_chain(approve))
        rows = len(svc.sip.usernames())
        lines.append(Line("S_3", "a", f"approval request: approved, SIP rows {rows}"))
        try:
            again = svc.accept_approve(body)
            svc.finish_approve(again, svc.approve_on_chain(again))
        except ServiceError as exc:
            lines.append(Line("S_3", "e", f"the same request again: {exc.status} {exc.code}"))
            checks = refused_by(exc)
            ok = checks == (CHECK,) and exc.status == 409 and len(svc.sip.usernames()) == rows
            why = f"{exc.code} (HTTP {exc.status}): the request's nonce was consumed"
            return ok, lines, why, checks
        lines.append(Line("S_3", "e", "the same request again: ANSWERED"))
        return False, lines, "a replayed approval request was answered", ()
    finally:
        built.close()


ATTACK = contract_attack(
    "approve_replay",
    protocol="key_lifecycle",
    title="approval request replayed",
    setting="key life cycle (operator service; issue 13)",
    paper=paper_half,
    hardened=hardened_half,
    checks=(C.REQUEST_NONCE,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
