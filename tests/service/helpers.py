"""Building requests by hand, for the tests that send what the client library never would."""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ethvoip.impl.crypto import IdentityKey, IdentityPublicKey
from ethvoip.impl.service.envelope import NONCE_SIZE, open_reply, seal_request
from ethvoip.impl.service.messages import FundRequest
from ethvoip.impl.service.receipts import SignedReceipt


@dataclass
class Subscriber:
    """A would-be subscriber: wallet, identity key, number and one receipt."""

    wallet: LocalAccount
    key: IdentityKey
    phone: str
    receipt: SignedReceipt

    @property
    def wallet_bytes(self) -> bytes:
        return bytes.fromhex(self.wallet.address[2:])

    @property
    def order_id(self) -> str:
        return str(json.loads(self.receipt.purchase_data)["orderId"])

    def fund_body(self) -> dict[str, Any]:
        return FundRequest(self.receipt, self.wallet_bytes, self.phone).to_json()


_NUMBERS = itertools.count(1)


def fresh_number() -> str:
    """A phone number no other test in this session uses."""
    return f"+3361{next(_NUMBERS):08d}"


def subscriber(receipt: SignedReceipt, phone: str | None = None) -> Subscriber:
    return Subscriber(Account.create(), IdentityKey.generate(), phone or fresh_number(), receipt)


def seal(
    service_key: IdentityPublicKey,
    key: IdentityKey,
    kind: str,
    body: dict[str, Any],
    *,
    now: int | None = None,
    nonce: bytes | None = None,
) -> tuple[bytes, bytes]:
    nonce = nonce or os.urandom(NONCE_SIZE)
    sealed = seal_request(
        service_key, key, kind, body, now=int(time.time()) if now is None else now, nonce=nonce
    )
    return sealed, nonce


def post(url: str, path: str, body: bytes, method: str = "POST") -> tuple[int, Any]:
    """(status, parsed JSON body) of one HTTP request."""
    req = urllib.request.Request(url + path, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def error_code(reply: Any) -> str:
    return str(reply["error"]["code"])


def opened(
    key: IdentityKey, service_key: IdentityPublicKey, nonce: bytes, reply: Any
) -> dict[str, Any]:
    return open_reply(key, service_key, nonce, json.dumps(reply).encode())
