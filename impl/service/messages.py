"""The bodies inside the envelope: what a ``fund`` and an ``approve`` request carry.

Decoders take the :class:`~ethvoip.impl.service.strictjson.Fields` of ``request.body`` and
return frozen dataclasses, or refuse with ``missing_field``/``bad_field``/``unknown_field``.
Encoders (``to_json``) are what the client library sends; the OpenAPI document describes the
same shapes (docs/openapi.json).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ethvoip.impl.service.codes import Code, refuse
from ethvoip.impl.service.receipts import SignedReceipt
from ethvoip.impl.service.strictjson import Fields
from ethvoip.spec.errors import ConfigError

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def check_phone(phone: str) -> str:
    """The subscriber's side of the service's rule: refuse a number before it is sent."""
    if not _E164.fullmatch(phone):
        raise ConfigError(
            f"phone number {phone!r} is not in E.164 form: a + then 2 to 15 digits, "
            "no spaces or dashes (e.g. +33612345678)"
        )
    return phone


def _wallet(fields: Fields, name: str) -> bytes:
    value = fields.string(name, max_len=42)
    if not _ADDRESS.fullmatch(value):
        raise refuse(Code.BAD_FIELD, f"{name} must be 0x and 40 lowercase hex digits")
    return bytes.fromhex(value[2:])


def _phone(fields: Fields, name: str) -> str:
    value = fields.string(name, max_len=16)
    if not _E164.fullmatch(value):
        raise refuse(Code.BAD_FIELD, f"{name} must be an E.164 number (+ and 2..15 digits)")
    return value


@dataclass(frozen=True)
class FundRequest:
    """Interface 2: "the wallet address, the purchase receipt and the mobile phone number"."""

    receipt: SignedReceipt
    wallet: bytes
    phone: str

    def to_json(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt.to_json(),
            "wallet": "0x" + self.wallet.hex(),
            "phone": self.phone,
        }

    @classmethod
    def decode(cls, body: Fields) -> FundRequest:
        receipt = SignedReceipt.from_fields(body.obj("receipt"))
        wallet = _wallet(body, "wallet")
        phone = _phone(body, "phone")
        body.done()
        return cls(receipt, wallet, phone)


@dataclass(frozen=True)
class ApproveRequest:
    """Interface 3: "requesting the storage approval by sending securely the receipt token"."""

    order_id: str

    def to_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id}

    @classmethod
    def decode(cls, body: Fields) -> ApproveRequest:
        order_id = body.string("order_id", max_len=128)
        body.done()
        return cls(order_id)
