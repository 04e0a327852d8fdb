"""The encrypted, signed, replay-protected envelope around every client request and reply.

The paper sends "the wallet address, the purchase receipt and the phone number ... as an
encrypted payload" (interface 2).  Made concrete:

request (HTTP body ``{"sealed": base64}``)::

    sealed    = ECIES(service key, plaintext, aad = "ethvoip.service.v1 " || route)
    plaintext = canonical {"request": R, "signature": hex(sign_client("service.request", canon(R)))}
    R         = {"kind", "client_key", "service_key", "sent_at", "nonce", "body"}

* confidentiality: only the service's identity key opens it
  (:func:`~ethvoip.impl.crypto.encrypt_to`); the route is the AAD, so a sealed ``fund``
  cannot be posted to ``approve``;
* authentication: the client's identity key signs ``R``, which names the service key, so a
  request signed for one service cannot be re-sealed to another;
* freshness: ``sent_at`` must lie within a window of the service's clock and ``nonce`` must be
  new (the caller checks the nonce cache: this module has no state).

reply (200 only; errors are plain JSON because a refused request may have no client key)::

    sealed    = ECIES(client key, canonical {"reply": P, "signature": hex(sign_service(...))},
                      aad = "ethvoip.service.v1 reply " || nonce)
    P         = {"in_reply_to": nonce, "result": {...}}

so the SIP password in an approval reply is readable by the client alone, and the client knows
the service (whose key it pins) wrote it for *this* request.

Sans-IO: clocks and randomness are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ethvoip.impl.crypto import (
    ECIES_OVERHEAD,
    IdentityKey,
    IdentityPublicKey,
    Rng,
    decrypt_with,
    encrypt_to,
)
from ethvoip.impl.service.codes import Code, refuse
from ethvoip.impl.service.strictjson import Fields, JsonObject, b64, canonical, parse_object
from ethvoip.spec.errors import Check, CryptoError, DecodeError

AAD_PREFIX = b"ethvoip.service.v1 "
REQUEST_TAG = b"ethvoip.service.request.v1"
REPLY_TAG = b"ethvoip.service.reply.v1"
NONCE_SIZE = 16
MAX_PLAINTEXT = 16 * 1024
MAX_BODY = 32 * 1024  # the HTTP body bound: base64 of the largest sealed plaintext, and JSON
KINDS = ("fund", "approve")


@dataclass(frozen=True)
class OpenedRequest:
    """A request whose encryption, signature and clock window have been checked."""

    kind: str
    client_key: IdentityPublicKey
    sent_at: int
    nonce: bytes
    body: Fields


def _aad(route: str) -> bytes:
    return AAD_PREFIX + route.encode("ascii")


def seal_request(
    service: IdentityPublicKey,
    client: IdentityKey,
    kind: str,
    body: JsonObject,
    *,
    now: int,
    nonce: bytes,
    rng: Rng | None = None,
) -> bytes:
    """The HTTP body of a ``kind`` request (what the client library sends)."""
    request = {
        "kind": kind,
        "client_key": client.public_key.to_bytes().hex(),
        "service_key": service.to_bytes().hex(),
        "sent_at": now,
        "nonce": nonce.hex(),
        "body": body,
    }
    signature = client.sign(REQUEST_TAG, canonical(request))
    plaintext = canonical({"request": request, "signature": signature.hex()})
    return canonical({"sealed": b64(encrypt_to(service, plaintext, _aad(kind), rng))})


def open_request(
    service: IdentityKey, route: str, http_body: bytes, *, now: int, window: int
) -> OpenedRequest:
    """Decrypt, authenticate and date-check a request posted to ``route``.

    Raises :class:`~ethvoip.spec.errors.ServiceError`: ``body_too_large``, ``bad_json``,
    ``bad_field``, ``unknown_field``, ``bad_envelope`` (not for us, or tampered),
    ``bad_signature``, ``wrong_kind``, ``stale_request``.
    """
    outer = Fields(parse_object(http_body, limit=MAX_BODY), "body")
    sealed = outer.base64("sealed", max_len=MAX_PLAINTEXT + ECIES_OVERHEAD)
    outer.done()
    try:
        plaintext = decrypt_with(service, sealed, _aad(route))
    except (CryptoError, DecodeError) as exc:
        raise refuse(Code.BAD_ENVELOPE, "cannot open the envelope with the service key") from exc
    top = Fields(parse_object(plaintext, limit=MAX_PLAINTEXT, what="envelope"), "envelope")
    request_value = top.raw("request")
    signature = top.hex_bytes("signature", 64)
    top.done()
    req = Fields(request_value, "request")
    kind = req.string("kind", max_len=16)
    try:
        client_key = IdentityPublicKey.from_bytes(req.hex_bytes("client_key", 64))
    except CryptoError as exc:
        raise refuse(Code.BAD_FIELD, "request.client_key is not a secp256k1 point") from exc
    service_key = req.hex_bytes("service_key", 64)
    sent_at = req.integer("sent_at")
    nonce = req.hex_bytes("nonce", NONCE_SIZE)
    body = req.obj("body")
    req.done()
    try:
        client_key.verify(REQUEST_TAG, canonical(request_value), signature)
    except (CryptoError, DecodeError) as exc:
        raise refuse(Code.BAD_SIGNATURE, "the client key did not sign this request") from exc
    if service_key != service.public_key.to_bytes():
        raise refuse(
            Code.BAD_SIGNATURE, "the request was signed for another service", check=Check.SCOPE
        )
    if kind != route:
        raise refuse(Code.WRONG_KIND, f"a {kind!r} request posted to {route!r}")
    if abs(now - sent_at) > window:
        raise refuse(Code.STALE_REQUEST, f"sent_at is {sent_at - now:+d} s from the service clock")
    return OpenedRequest(kind, client_key, sent_at, nonce, body)


def seal_reply(
    service: IdentityKey,
    client: IdentityPublicKey,
    nonce: bytes,
    result: JsonObject,
    rng: Rng | None = None,
) -> bytes:
    """The HTTP body of a successful reply to the request carrying ``nonce``."""
    reply = {"in_reply_to": nonce.hex(), "result": result}
    signature = service.sign(REPLY_TAG, canonical(reply))
    plaintext = canonical({"reply": reply, "signature": signature.hex()})
    aad = AAD_PREFIX + b"reply " + nonce
    return canonical({"sealed": b64(encrypt_to(client, plaintext, aad, rng))})


def open_reply(
    client: IdentityKey, service: IdentityPublicKey, nonce: bytes, http_body: bytes
) -> JsonObject:
    """The client's side: decrypt a reply, check the service signed it for ``nonce``."""
    outer = Fields(parse_object(http_body, limit=MAX_BODY), "reply body")
    sealed = outer.base64("sealed", max_len=MAX_PLAINTEXT + ECIES_OVERHEAD)
    outer.done()
    try:
        plaintext = decrypt_with(client, sealed, AAD_PREFIX + b"reply " + nonce)
    except (CryptoError, DecodeError) as exc:
        raise refuse(Code.BAD_ENVELOPE, "cannot open the reply with the client key") from exc
    top = Fields(parse_object(plaintext, limit=MAX_PLAINTEXT, what="reply"), "reply")
    reply_value = top.raw("reply")
    signature = top.hex_bytes("signature", 64)
    top.done()
    try:
        service.verify(REPLY_TAG, canonical(reply_value), signature)
    except (CryptoError, DecodeError) as exc:
        raise refuse(Code.BAD_SIGNATURE, "the service did not sign this reply") from exc
    reply = Fields(reply_value, "reply")
    if reply.hex_bytes("in_reply_to", NONCE_SIZE) != nonce:
        raise refuse(
            Code.BAD_SIGNATURE, "the reply answers another request", check=Check.NONCE_MATCH
        )
    result: Any = reply.raw("result")
    reply.done()
    if not isinstance(result, dict):
        raise refuse(Code.BAD_FIELD, "reply.result must be an object")
    return result
