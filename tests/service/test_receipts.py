"""Receipts: the store's RSA PKCS#1 v1.5 / SHA-256 signatures cross-checked with the OpenSSL
command line (an independent implementation), and the verifier's refusals, fuzzed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.service.receipts import (
    PurchaseRecord,
    PurchaseState,
    SignedReceipt,
    verify_receipt,
)
from ethvoip.impl.service.store import DEFAULT_PRODUCT, TestStore
from ethvoip.spec.errors import Check, ServiceError
from tests.refusals import refused


def _openssl(*args: str, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


def test_store_signature_verifies_with_openssl(store: TestStore, tmp_path: Path) -> None:
    receipt = store.purchase()
    (tmp_path / "pub.pem").write_bytes(store.public_key_pem)
    (tmp_path / "sig").write_bytes(receipt.signature)
    out = _openssl(
        "dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"), "-signature",
        str(tmp_path / "sig"), data=receipt.purchase_data,
    )  # fmt: skip
    assert out.returncode == 0 and b"Verified OK" in out.stdout, out.stderr


def test_openssl_signature_is_accepted(store: TestStore, tmp_path: Path) -> None:
    # The purchase data written by hand in canonical form, signed by openssl, not by us.
    data = (
        b'{"orderId":"GPA.1234-5678-9012-34567","productId":"org.ethvoip.registration.ether",'
        b'"purchaseState":0,"purchaseTime":1700000000000,"purchaseToken":"opaque-token"}'
    )
    (tmp_path / "key.pem").write_bytes(store.private_key_pem())
    out = _openssl("dgst", "-sha256", "-sign", str(tmp_path / "key.pem"), data=data)
    assert out.returncode == 0, out.stderr
    record = verify_receipt(SignedReceipt(data, out.stdout), store.public_key, DEFAULT_PRODUCT)
    assert record == PurchaseRecord(
        "GPA.1234-5678-9012-34567",
        DEFAULT_PRODUCT,
        1700000000000,
        PurchaseState.PURCHASED,
        "opaque-token",
    )
    assert record.to_bytes() == data


def test_record_fields_are_exactly_five(store: TestStore) -> None:
    data = json.loads(store.purchase().purchase_data)
    assert sorted(data) == [
        "orderId",
        "productId",
        "purchaseState",
        "purchaseTime",
        "purchaseToken",
    ]


@given(st.binary(max_size=300))
def test_any_signed_bytes_either_verify_or_refuse(store: TestStore, data: bytes) -> None:
    """Whatever the store signs, the verifier answers a record or a ServiceError."""
    try:
        record = verify_receipt(SignedReceipt(data, store.sign(data)), store.public_key, "p")
    except ServiceError as exc:
        assert exc.code in {"malformed_receipt", "foreign_product", "purchase_not_completed"}
    else:
        assert record.to_bytes() == data


@given(
    st.dictionaries(
        st.sampled_from(
            ["orderId", "productId", "purchaseState", "purchaseTime", "purchaseToken", "x"]
        ),
        st.one_of(st.integers(-5, 2**64), st.text(max_size=10), st.none(), st.booleans()),
    )
)
def test_structured_records_fuzz(store: TestStore, fields: dict[str, object]) -> None:
    data = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    try:
        verify_receipt(SignedReceipt(data, store.sign(data)), store.public_key, DEFAULT_PRODUCT)
    except ServiceError as exc:
        assert exc.code in {"malformed_receipt", "foreign_product", "purchase_not_completed"}


@pytest.mark.parametrize("flip", [0, 17, 255])
def test_flipped_signature_bit(store: TestStore, flip: int) -> None:
    receipt = store.purchase()
    sig = bytearray(receipt.signature)
    sig[flip] ^= 1
    with refused(Check.SIGNATURE, ServiceError):
        verify_receipt(SignedReceipt(receipt.purchase_data, bytes(sig)), store.public_key, "x")
