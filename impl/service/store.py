"""A local stand-in for the app store: an RSA signing authority that issues purchase receipts.

It plays interface 1/5 of the paper's Fig. 1 for tests and the demo: :meth:`TestStore.purchase`
returns what Google Play hands an app after an in-app purchase (signed purchase data), and
:attr:`TestStore.public_key_pem` is what the operator configures as the key it trusts.
Everything is deterministic given the injected key, clock and randomness.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from ethvoip.impl.crypto import (
    Rng,
    RsaPrivateKey,
    RsaPublicKey,
    generate_rsa_key,
    load_rsa_private_key,
    rsa_private_pem,
    rsa_public_pem,
    rsa_receipt_sign,
)
from ethvoip.impl.service.receipts import PurchaseRecord, PurchaseState, SignedReceipt
from ethvoip.spec.errors import CryptoError

DEFAULT_PRODUCT = "org.ethvoip.registration.ether"


class TestStore:
    """Issues receipts for one application's products, signed with its RSA key."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(
        self,
        key: RsaPrivateKey | None = None,
        *,
        clock_ms: Callable[[], int] | None = None,
        rng: Rng | None = None,
    ) -> None:
        self.key = key or generate_rsa_key()
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self._rng = rng or os.urandom
        self._orders = 0

    @property
    def public_key(self) -> RsaPublicKey:
        return self.key.public_key()

    @property
    def public_key_pem(self) -> bytes:
        return rsa_public_pem(self.public_key)

    def private_key_pem(self) -> bytes:
        return rsa_private_pem(self.key)

    @classmethod
    def from_private_pem(cls, pem: bytes, **kwargs: object) -> TestStore:
        try:
            key = load_rsa_private_key(pem)
        except CryptoError:
            raise TypeError("the store key must be RSA") from None
        return cls(key, **kwargs)  # type: ignore[arg-type]

    def sign(self, data: bytes) -> bytes:
        return rsa_receipt_sign(self.key, data)

    def purchase(
        self,
        product_id: str = DEFAULT_PRODUCT,
        *,
        state: PurchaseState = PurchaseState.PURCHASED,
        order_id: str | None = None,
    ) -> SignedReceipt:
        """A receipt for a new order of ``product_id`` (Google-style order id, random token)."""
        self._orders += 1
        if order_id is None:
            tag = self._rng(8).hex()
            order_id = f"GPA.{tag[:4]}-{tag[4:8]}-{tag[8:12]}-{self._orders:05d}"
        record = PurchaseRecord(
            order_id=order_id,
            product_id=product_id,
            purchase_time=self._clock_ms(),
            purchase_state=state,
            purchase_token=self._rng(24).hex(),
        )
        data = record.to_bytes()
        return SignedReceipt(data, self.sign(data))
