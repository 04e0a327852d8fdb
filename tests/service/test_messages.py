"""The request bodies' decoders: exact shapes accepted, everything else refused with a
ServiceError (hypothesis over arbitrary JSON and over edits of a valid body)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.service.messages import ApproveRequest, FundRequest
from ethvoip.impl.service.receipts import SignedReceipt
from ethvoip.impl.service.strictjson import Fields, parse_object
from ethvoip.spec.errors import ServiceError

VALID: dict[str, Any] = {
    "receipt": {"purchase_data": '{"orderId":"a"}', "signature": "AAEC"},
    "wallet": "0x" + "ab" * 20,
    "phone": "+33612345678",
}

JSONS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)


def test_valid_fund_body_round_trips() -> None:
    fund = FundRequest.decode(Fields(VALID, "body"))
    assert fund == FundRequest(
        SignedReceipt(b'{"orderId":"a"}', b"\x00\x01\x02"), bytes.fromhex("ab" * 20), "+33612345678"
    )
    assert fund.to_json() == VALID


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"wallet": "0x" + "AB" * 20}, "bad_field"),  # one spelling: lowercase
        ({"wallet": "0x" + "ab" * 19}, "bad_field"),
        ({"phone": "0612345678"}, "bad_field"),
        ({"phone": "+0612345678"}, "bad_field"),
        ({"phone": "+1234567890123456"}, "bad_field"),
        ({"receipt": {"purchase_data": "x", "signature": "AAF="}}, "bad_field"),  # padding bits
        ({"receipt": {"purchase_data": "x"}}, "missing_field"),
        ({"receipt": {**VALID["receipt"], "x": 1}}, "unknown_field"),
        ({"tip": 1}, "unknown_field"),
        ({"receipt": []}, "bad_field"),
    ],
)
def test_fund_body_refusals(change: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as info:
        FundRequest.decode(Fields({**VALID, **change}, "body"))
    assert info.value.code == code


@given(JSONS)
def test_fuzz_fund_body(value: Any) -> None:
    try:
        fund = FundRequest.decode(Fields(value, "body"))
    except ServiceError:
        return
    assert fund.to_json() == value  # accepted only if it is exactly a valid body


@given(st.dictionaries(st.sampled_from([*VALID, "x"]), JSONS, max_size=4))
def test_fuzz_fund_body_edits(changes: dict[str, Any]) -> None:
    body = {**VALID, **changes}
    try:
        fund = FundRequest.decode(Fields(body, "body"))
    except ServiceError:
        return
    assert fund.to_json() == body


@given(JSONS)
def test_fuzz_approve_body(value: Any) -> None:
    try:
        approve = ApproveRequest.decode(Fields(value, "body"))
    except ServiceError:
        return
    assert approve.to_json() == value


@given(st.binary(max_size=200))
def test_fuzz_parse_object(data: bytes) -> None:
    try:
        value = parse_object(data, limit=100)
    except ServiceError as exc:
        assert exc.code in {"bad_json", "body_too_large"}
    else:
        assert isinstance(value, dict) and len(data) <= 100
