"""The machine-readable error codes of the operator service, with their HTTP status.

Every refusal is a :class:`~ethvoip.spec.errors.ServiceError` whose ``code`` is one of
:class:`Code`; the HTTP layer turns it into ``{"error": {"code": ..., "message": ...}}`` with
the status below.  Codes are part of the API (docs/openapi.json lists them): never rename one.
"""

from __future__ import annotations

from enum import Enum

from ethvoip.spec.errors import ServiceError


class Code(Enum):
    """(wire name, HTTP status) of each refusal."""

    # the envelope: shape, encryption, authentication, freshness
    BAD_JSON = ("bad_json", 400)
    BAD_FIELD = ("bad_field", 400)
    MISSING_FIELD = ("missing_field", 400)
    UNKNOWN_FIELD = ("unknown_field", 400)
    BODY_TOO_LARGE = ("body_too_large", 413)
    BODY_TIMEOUT = ("body_timeout", 408)
    BAD_ENVELOPE = ("bad_envelope", 400)
    BAD_SIGNATURE = ("bad_signature", 401)
    WRONG_KIND = ("wrong_kind", 400)
    STALE_REQUEST = ("stale_request", 400)
    REPLAYED_REQUEST = ("replayed_request", 409)
    # the app-store receipt
    MALFORMED_RECEIPT = ("malformed_receipt", 400)
    BAD_RECEIPT_SIGNATURE = ("bad_receipt_signature", 400)
    FOREIGN_PRODUCT = ("foreign_product", 400)
    PURCHASE_NOT_COMPLETED = ("purchase_not_completed", 400)
    RECEIPT_USED = ("receipt_used", 409)
    NUMBER_TAKEN = ("number_taken", 409)
    # approval
    UNKNOWN_RECEIPT = ("unknown_receipt", 404)
    WRONG_CLIENT = ("wrong_client", 403)
    NOT_FUNDED = ("not_funded", 409)
    NOT_PENDING = ("not_pending", 409)
    REGISTRATION_MISMATCH = ("registration_mismatch", 403)
    RECEIPT_BURNED = ("receipt_burned", 410)  # the number's key was revoked: buy a new one
    NUMBER_IN_USE = ("number_in_use", 409)  # another key is approved or suspended for it
    # HTTP plumbing and the operator's side
    NOT_FOUND = ("not_found", 404)
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405)
    CHAIN_UNAVAILABLE = ("chain_unavailable", 503)
    TREASURY_EMPTY = ("treasury_empty", 503)
    INTERNAL = ("internal_error", 500)

    @property
    def wire(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]


def refuse(code: Code, message: str) -> ServiceError:
    """The :class:`ServiceError` for ``code`` (raise it)."""
    return ServiceError(code.wire, message, status=code.status)


def code_of(error: ServiceError) -> Code:
    """The :class:`Code` a :class:`ServiceError` carries."""
    for code in Code:
        if code.wire == error.code:
            return code
    raise ValueError(f"not a service code: {error.code}")  # pragma: no cover - a bug of ours
