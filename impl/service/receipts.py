"""App-store purchase receipts: the record, its canonical bytes, the store's RSA signature.

Modelled on Google Play's in-app billing (interface 5 of the paper's Fig. 1): the store signs
the purchase data (a JSON record) with RSA PKCS#1 v1.5 and SHA-256 under the application's
key pair; the operator holds the public key and checks the signature offline.  Here the
record is exactly five fields, in one canonical JSON encoding (sorted keys, compact, ASCII):

``orderId``, ``productId``, ``purchaseTime`` (ms since the epoch), ``purchaseState``
(0 purchased, 1 cancelled, 2 pending, as Google's) and ``purchaseToken``.

:func:`verify_receipt` is sans-IO: bytes and a trusted key in, a :class:`PurchaseRecord` out
or a :class:`~ethvoip.spec.errors.ServiceError` naming what is wrong.  It checks the
signature first (so nothing of a forged record is interpreted), then the record's shape, then
the product and the purchase state.  Whether a receipt was used before is the database's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ethvoip.impl.crypto import RsaPublicKey, load_rsa_public_key, rsa_receipt_verify
from ethvoip.impl.service.codes import Code, refuse
from ethvoip.impl.service.strictjson import Fields, b64, canonical, parse_object
from ethvoip.spec.errors import CryptoError, ServiceError

MAX_PURCHASE_DATA = 2048
MAX_SIGNATURE = 1024  # RSA-8192 at most


class PurchaseState(IntEnum):
    PURCHASED = 0
    CANCELLED = 1
    PENDING = 2


@dataclass(frozen=True)
class PurchaseRecord:
    order_id: str
    product_id: str
    purchase_time: int
    purchase_state: PurchaseState
    purchase_token: str

    def to_bytes(self) -> bytes:
        """The canonical purchase data the store signs."""
        return canonical(
            {
                "orderId": self.order_id,
                "productId": self.product_id,
                "purchaseState": int(self.purchase_state),
                "purchaseTime": self.purchase_time,
                "purchaseToken": self.purchase_token,
            }
        )


@dataclass(frozen=True)
class SignedReceipt:
    """Purchase data (canonical JSON bytes) and the store's signature over exactly them."""

    purchase_data: bytes
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "purchase_data": self.purchase_data.decode("ascii"),
            "signature": b64(self.signature),
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> SignedReceipt:
        data = fields.string("purchase_data", max_len=MAX_PURCHASE_DATA)
        signature = fields.base64("signature", max_len=MAX_SIGNATURE)
        fields.done()
        return cls(data.encode("utf-8"), signature)


def _parse_record(data: bytes) -> PurchaseRecord:
    try:
        obj = parse_object(data, limit=MAX_PURCHASE_DATA, what="purchase data")
        f = Fields(obj, "purchase_data")
        record = PurchaseRecord(
            order_id=f.string("orderId", max_len=128),
            product_id=f.string("productId", max_len=128),
            purchase_time=f.integer("purchaseTime"),
            purchase_state=PurchaseState(f.integer("purchaseState", high=2)),
            purchase_token=f.string("purchaseToken", max_len=512),
        )
        f.done()
    except ServiceError as exc:
        raise refuse(Code.MALFORMED_RECEIPT, str(exc)) from exc
    # One signed byte string per record: a re-ordered or re-spaced twin would be a second
    # "receipt" for the same purchase.
    if record.to_bytes() != data:
        raise refuse(Code.MALFORMED_RECEIPT, "purchase data is not in canonical form")
    return record


def load_public_key(pem: bytes) -> RsaPublicKey:
    """The store's RSA public key from PEM (SubjectPublicKeyInfo)."""
    try:
        return load_rsa_public_key(pem)
    except CryptoError as exc:
        raise refuse(Code.MALFORMED_RECEIPT, f"the store key: {exc}") from exc


def verify_receipt(
    receipt: SignedReceipt, store_key: RsaPublicKey, product_id: str
) -> PurchaseRecord:
    """Check the store's signature, the record's shape, the product and the purchase state."""
    try:
        rsa_receipt_verify(store_key, receipt.purchase_data, receipt.signature)
    except CryptoError as exc:
        raise refuse(Code.BAD_RECEIPT_SIGNATURE, "the store did not sign this receipt") from exc
    record = _parse_record(receipt.purchase_data)
    if record.product_id != product_id:
        raise refuse(Code.FOREIGN_PRODUCT, f"receipt is for {record.product_id!r}")
    if record.purchase_state is not PurchaseState.PURCHASED:
        raise refuse(
            Code.PURCHASE_NOT_COMPLETED, f"purchase state is {record.purchase_state.name.lower()}"
        )
    return record
