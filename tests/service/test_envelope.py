"""The sealed request/reply envelope: round trips, every refusal, and fuzzing of the decoder
(arbitrary bytes, arbitrary JSON, arbitrary plaintext under a valid encryption)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.impl.crypto import IdentityKey, encrypt_to, seeded_rng
from ethvoip.impl.service.envelope import (
    AAD_PREFIX,
    open_reply,
    open_request,
    seal_reply,
    seal_request,
)
from ethvoip.impl.service.messages import ApproveRequest
from ethvoip.impl.service.strictjson import b64, canonical
from ethvoip.spec.errors import Check, ServiceError
from tests.refusals import refused

SERVICE = IdentityKey.from_private_bytes(b"\x11" * 32)
CLIENT = IdentityKey.from_private_bytes(b"\x22" * 32)
NOW = 1_800_000_000
NONCE = bytes(range(16))
BODY = {"order_id": "GPA.1"}


def sealed(kind: str = "approve", **kw: object) -> bytes:
    args: dict[str, object] = {"now": NOW, "nonce": NONCE, **kw}
    return seal_request(SERVICE.public_key, CLIENT, kind, BODY, **args)  # type: ignore[arg-type]


def open_(body: bytes, route: str = "approve", now: int = NOW) -> object:
    return open_request(SERVICE, route, body, now=now, window=300)


def code(body: bytes, route: str = "approve", now: int = NOW) -> str:
    with pytest.raises(ServiceError) as info:
        open_(body, route, now)
    return info.value.code


def test_round_trip() -> None:
    req = open_request(SERVICE, "approve", sealed(), now=NOW + 300, window=300)
    assert (req.kind, req.client_key, req.sent_at, req.nonce) == (
        "approve",
        CLIENT.public_key,
        NOW,
        NONCE,
    )
    assert req.body.string("order_id") == "GPA.1"
    reply = seal_reply(SERVICE, CLIENT.public_key, NONCE, {"ok": 1})
    assert open_reply(CLIENT, SERVICE.public_key, NONCE, reply) == {"ok": 1}


def test_two_seals_differ_but_open_alike() -> None:
    # Fresh ephemeral key per seal: the same request never gives the same ciphertext.
    a, b = sealed(rng=seeded_rng(b"a")), sealed(rng=seeded_rng(b"b"))
    assert a != b
    for body in (a, b):
        req = open_request(SERVICE, "approve", body, now=NOW, window=0)
        assert (req.nonce, req.client_key, req.body.string("order_id")) == (
            NONCE,
            CLIENT.public_key,
            "GPA.1",
        )


def test_freshness_window_edges() -> None:
    open_(sealed(), now=NOW - 300)
    assert code(sealed(), now=NOW + 301) == "stale_request"
    assert code(sealed(), now=NOW - 301) == "stale_request"


def test_reply_for_another_request_or_from_another_key() -> None:
    reply = seal_reply(SERVICE, CLIENT.public_key, NONCE, {"ok": 1})
    with refused(Check.DECRYPT, ServiceError):
        open_reply(CLIENT, SERVICE.public_key, b"\x00" * 16, reply)
    impostor = IdentityKey.from_private_bytes(b"\x33" * 32)
    forged = seal_reply(impostor, CLIENT.public_key, NONCE, {"ok": 1})
    with refused(Check.SIGNATURE, ServiceError):
        open_reply(CLIENT, SERVICE.public_key, NONCE, forged)


def test_a_signed_reply_whose_result_is_not_an_object_is_refused() -> None:
    # Signed by the service for this request, but the result is a list: a client reading
    # fields from it must get a typed refusal, not a list.
    reply = seal_reply(SERVICE, CLIENT.public_key, NONCE, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(ServiceError) as info:
        open_reply(CLIENT, SERVICE.public_key, NONCE, reply)
    assert info.value.code == "bad_field"


def _reseal(plaintext: bytes, route: str = "approve") -> bytes:
    return canonical(
        {"sealed": b64(encrypt_to(SERVICE.public_key, plaintext, AAD_PREFIX + route.encode()))}
    )


def _signed(request: dict[str, object], key: IdentityKey = CLIENT) -> bytes:
    sig = key.sign(b"ethvoip.service.request.v1", canonical(request))
    return _reseal(canonical({"request": request, "signature": sig.hex()}))


def _request(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "approve",
        "client_key": CLIENT.public_key.to_bytes().hex(),
        "service_key": SERVICE.public_key.to_bytes().hex(),
        "sent_at": NOW,
        "nonce": NONCE.hex(),
        "body": BODY,
    }
    return {**base, **changes}


def test_refusals_inside_the_envelope() -> None:
    open_(_signed(_request()))  # the hand-built request is valid as is
    assert code(_signed(_request(kind="fund"))) == "wrong_kind"
    assert code(_signed(_request(extra=1))) == "unknown_field"
    assert code(_signed(_request(sent_at=True))) == "bad_field"
    assert code(_signed(_request(nonce="00"))) == "bad_field"
    assert code(_signed(_request(nonce=NONCE.hex().upper()))) == "bad_field"
    assert code(_signed(_request(client_key="00" * 64))) == "bad_field"  # not on the curve
    other = IdentityKey.from_private_bytes(b"\x44" * 32)
    assert code(_signed(_request(service_key=other.public_key.to_bytes().hex()))) == "bad_signature"
    assert code(_signed(_request(), key=other)) == "bad_signature"
    # A valid signature, then the signed request edited after signing.
    req = _request()
    sig = CLIENT.sign(b"ethvoip.service.request.v1", canonical(req))
    req["sent_at"] = NOW + 1
    assert code(_reseal(canonical({"request": req, "signature": sig.hex()}))) == "bad_signature"
    assert code(_reseal(b"[]")) == "bad_json"
    assert code(_reseal(b'{"request": {}, "signature": "00"}')) == "bad_field"


@given(st.binary(max_size=600))
def test_fuzz_http_body(data: bytes) -> None:
    with pytest.raises(ServiceError):
        open_(data)


JSONS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(JSONS)
def test_fuzz_outer_json(value: object) -> None:
    with pytest.raises(ServiceError):
        open_(json.dumps(value).encode())


@given(st.binary(max_size=400) | JSONS.map(lambda v: json.dumps(v).encode()))
def test_fuzz_plaintext_under_valid_encryption(plaintext: bytes) -> None:
    with pytest.raises(ServiceError):
        open_(_reseal(plaintext))


@given(
    st.dictionaries(
        st.sampled_from(["kind", "client_key", "service_key", "sent_at", "nonce", "body", "zz"]),
        JSONS,
        max_size=7,
    )
)
def test_fuzz_signed_request_fields(changes: dict[str, object]) -> None:
    """Any edit of a correctly signed and sealed request is refused with a ServiceError,
    except a new ``body`` object, which the envelope passes on and the body decoder judges."""
    request = _request(**changes)
    try:
        opened = open_request(SERVICE, "approve", _signed(request), now=NOW, window=300)
        approve = ApproveRequest.decode(opened.body)
    except ServiceError:
        return
    assert {k: v for k, v in request.items() if k != "body"} == {
        k: v for k, v in _request().items() if k != "body"
    }
    assert request["body"] == {"order_id": approve.order_id}
