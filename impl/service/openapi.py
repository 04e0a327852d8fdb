"""The OpenAPI 3.1 description of the service, built here and committed as docs/openapi.json.

``python -m ethvoip.impl.service.openapi > docs/openapi.json`` regenerates the file; a test
fails when the committed copy is stale or when a route of :data:`~.app.ROUTES` is missing from
it (or documented without existing).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ethvoip.impl.service.codes import Code

JSON = "application/json"
_HEX64 = {"type": "string", "pattern": "^[0-9a-f]{128}$"}
_ADDRESS = {"type": "string", "pattern": "^0x[0-9a-f]{40}$"}
_E164 = {"type": "string", "pattern": "^\\+[1-9][0-9]{1,14}$"}
_WEI = {"type": "string", "pattern": "^[0-9]+$", "description": "wei, decimal"}


def _obj(props: dict[str, Any], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": sorted(props),
        "additionalProperties": False,
    }
    if description:
        out["description"] = description
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(*codes: Code) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(code.status, []).append(code.wire)
    return {
        str(status): {
            "description": "refused: " + ", ".join(sorted(names)),
            "content": _json_content(_ref("Error")),
        }
        for status, names in sorted(by_status.items())
    }


_ENVELOPE_CODES = (
    Code.BAD_JSON,
    Code.BAD_FIELD,
    Code.MISSING_FIELD,
    Code.UNKNOWN_FIELD,
    Code.BODY_TOO_LARGE,
    Code.BODY_TIMEOUT,
    Code.BAD_ENVELOPE,
    Code.BAD_SIGNATURE,
    Code.WRONG_KIND,
    Code.STALE_REQUEST,
    Code.REPLAYED_REQUEST,
    Code.CHAIN_UNAVAILABLE,
)

SCHEMAS: dict[str, Any] = {
    "Sealed": _obj(
        {"sealed": {"type": "string", "contentEncoding": "base64"}},
        "ECIES ciphertext (secp256k1, HKDF-SHA256, AES-256-GCM) of a signed request or reply;"
        " see docs/service.rst, 'The envelope'.",
    ),
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string", "enum": [c.wire for c in Code]},
                    "message": {"type": "string"},
                }
            )
        }
    ),
    "Receipt": _obj(
        {
            "purchase_data": {
                "type": "string",
                "description": "canonical JSON: orderId, productId, purchaseState,"
                " purchaseTime, purchaseToken",
            },
            "signature": {
                "type": "string",
                "contentEncoding": "base64",
                "description": "RSA PKCS#1 v1.5 SHA-256 by the store",
            },
        }
    ),
    "FundBody": _obj(
        {"receipt": _ref("Receipt"), "wallet": _ADDRESS, "phone": _E164},
        "request.body of a sealed 'fund' request",
    ),
    "FundResult": _obj(
        {
            "order_id": {"type": "string"},
            "wallet": _ADDRESS,
            "amount_wei": _WEI,
            "tx_hash": {"type": "string"},
            "block_number": {"type": "integer"},
        },
        "reply.result of a sealed 'fund' reply",
    ),
    "ApproveBody": _obj(
        {"order_id": {"type": "string"}}, "request.body of a sealed 'approve' request"
    ),
    "ApproveResult": _obj(
        {
            "order_id": {"type": "string"},
            "identifier": {"type": "string"},
            "version": {"type": "integer"},
            "approval_block": {"type": ["string", "null"]},
            "sip": _obj(
                {
                    "username": {"type": "string"},
                    "domain": {"type": "string"},
                    "password": {"type": "string"},
                }
            ),
            "checkpoint": _obj(
                {
                    "chain_id": {"type": "integer"},
                    "number": {"type": "integer"},
                    "hash": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
                },
                "the block the phone's look-ups are linked back to (docs/lightclient.rst)",
            ),
        },
        "reply.result of a sealed 'approve' reply",
    ),
    "Request": _obj(
        {
            "kind": {"type": "string", "enum": ["fund", "approve"]},
            "client_key": _HEX64,
            "service_key": _HEX64,
            "sent_at": {"type": "integer", "description": "unix seconds"},
            "nonce": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "body": {"oneOf": [_ref("FundBody"), _ref("ApproveBody")]},
        },
        "the signed part of a request, inside the envelope",
    ),
    "Info": _obj(
        {
            "service_key": _HEX64,
            "variant": {"type": "string", "enum": ["hardened", "paper"]},
            "chain_id": {"type": "integer"},
            "keystore": _ADDRESS,
            "paper_keystore": {"oneOf": [_ADDRESS, {"type": "null"}]},
            "identifier_salt": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "product_id": {"type": "string"},
            "funding_wei": _WEI,
            "min_commitment_age": {"type": "integer"},
            "sip_realm": {"type": "string"},
            "window_seconds": {"type": "integer"},
        }
    ),
    "Health": _obj(
        {
            "status": {"type": "string", "enum": ["ok"]},
            "receipts": {"type": "integer"},
            "fundings": {"type": "integer"},
            "approvals": {"type": "integer"},
        }
    ),
}


def _sealed_op(summary: str, body: str, result: str, *codes: Code) -> dict[str, Any]:
    return {
        "summary": summary,
        "requestBody": {
            "required": True,
            "description": f"Sealed Request whose body is a {body}",
            "content": _json_content(_ref("Sealed")),
        },
        "responses": {
            "200": {
                "description": f"Sealed reply whose result is a {result}",
                "content": _json_content(_ref("Sealed")),
            },
            **_errors(*_ENVELOPE_CODES, *codes),
        },
    }


PATHS: dict[str, Any] = {
    "/v1/info": {
        "get": {
            "summary": "Public facts a client needs before onboarding",
            "responses": {"200": {"description": "ok", "content": _json_content(_ref("Info"))}},
        }
    },
    "/v1/health": {
        "get": {
            "summary": "Liveness and counters",
            "responses": {"200": {"description": "ok", "content": _json_content(_ref("Health"))}},
        }
    },
    "/v1/fund": {
        "post": _sealed_op(
            "Interface 2: pay a purchased receipt's Ether to the client's wallet, exactly once",
            "FundBody",
            "FundResult",
            Code.MALFORMED_RECEIPT,
            Code.BAD_RECEIPT_SIGNATURE,
            Code.FOREIGN_PRODUCT,
            Code.PURCHASE_NOT_COMPLETED,
            Code.RECEIPT_USED,
            Code.NUMBER_TAKEN,
            Code.TREASURY_EMPTY,
        )
    },
    "/v1/approve": {
        "post": _sealed_op(
            "Interfaces 3, 6, 7: approve the pending key, provision SIP credentials",
            "ApproveBody",
            "ApproveResult",
            Code.UNKNOWN_RECEIPT,
            Code.WRONG_CLIENT,
            Code.NOT_FUNDED,
            Code.NOT_PENDING,
            Code.REGISTRATION_MISMATCH,
        )
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {JSON: {}}}},
        }
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ethvoip wallet-management service",
            "version": "1",
            "description": "The operator's service of Kfoury & Khoury III.A.3 (interfaces 2, 3,"
            " 5, 6, 7 of Fig. 1), hardened. Generated by ethvoip.impl.service.openapi.",
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


def main() -> int:
    json.dump(openapi_document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
