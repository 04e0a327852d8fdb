"""The machine-readable error codes of the operator service, with their HTTP status.

Every refusal is a :class:`~ethvoip.spec.errors.ServiceError` whose ``code`` is one of
:class:`Code`; the HTTP layer turns it into ``{"error": {"code": ..., "message": ...}}`` with
the status below.  Codes are part of the API (docs/openapi.json lists them): never rename one.
"""

from __future__ import annotations

from enum import Enum

from ethvoip.spec.errors import Check, ServiceError, ServiceRefused


class Code(Enum):
    """(wire name, HTTP status, the check that refuses, if one does) of each refusal.

    A code with a check is raised as a :class:`~ethvoip.spec.errors.ServiceRefused` naming
    it; the others (routing, plumbing, the operator's own trouble) are no check's refusal.
    """

    # the envelope: shape, encryption, authentication, freshness
    BAD_JSON = ("bad_json", 400, Check.DECODE)
    BAD_FIELD = ("bad_field", 400, Check.DECODE)
    MISSING_FIELD = ("missing_field", 400, Check.REQUIRED)
    UNKNOWN_FIELD = ("unknown_field", 400, Check.DECODE)
    BODY_TOO_LARGE = ("body_too_large", 413, Check.LENGTH)
    BODY_TIMEOUT = ("body_timeout", 408, None)
    BAD_ENVELOPE = ("bad_envelope", 400, Check.DECRYPT)
    BAD_SIGNATURE = ("bad_signature", 401, Check.SIGNATURE)
    WRONG_KIND = ("wrong_kind", 400, Check.SCOPE)
    STALE_REQUEST = ("stale_request", 400, Check.FRESHNESS)
    REPLAYED_REQUEST = ("replayed_request", 409, Check.REPLAY)
    # the app-store receipt
    MALFORMED_RECEIPT = ("malformed_receipt", 400, Check.RECEIPT)
    BAD_RECEIPT_SIGNATURE = ("bad_receipt_signature", 400, Check.SIGNATURE)
    FOREIGN_PRODUCT = ("foreign_product", 400, Check.RECEIPT)
    PURCHASE_NOT_COMPLETED = ("purchase_not_completed", 400, Check.RECEIPT)
    RECEIPT_USED = ("receipt_used", 409, Check.KEY_REUSE)
    NUMBER_TAKEN = ("number_taken", 409, Check.STATUS)
    # approval
    UNKNOWN_RECEIPT = ("unknown_receipt", 404, Check.RECEIPT)
    WRONG_CLIENT = ("wrong_client", 403, Check.AUTHORITY)
    NOT_FUNDED = ("not_funded", 409, Check.STATUS)
    NOT_PENDING = ("not_pending", 409, Check.STATUS)
    REGISTRATION_MISMATCH = ("registration_mismatch", 403, Check.RECORD_MATCH)
    RECEIPT_BURNED = (
        "receipt_burned",
        410,
        Check.STATUS,
    )  # the number's key was revoked: buy a new one
    NUMBER_IN_USE = (
        "number_in_use",
        409,
        Check.STATUS,
    )  # another key is approved or suspended for it
    # HTTP plumbing and the operator's side
    NOT_FOUND = ("not_found", 404, None)
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405, None)
    CHAIN_UNAVAILABLE = ("chain_unavailable", 503, None)
    TREASURY_EMPTY = ("treasury_empty", 503, None)
    INTERNAL = ("internal_error", 500, None)

    @property
    def wire(self) -> str:
        wire: str = self.value[0]
        return wire

    @property
    def status(self) -> int:
        status: int = self.value[1]
        return status

    @property
    def check(self) -> Check | None:
        check: Check | None = self.value[2]
        return check


def refuse(code: Code, message: str, *, check: Check | None = None) -> ServiceError:
    """The :class:`ServiceError` for ``code`` (raise it): a :class:`ServiceRefused` naming
    ``check``, by default the code's own, when there is one."""
    named = check or code.check
    if named is None:
        return ServiceError(code.wire, message, status=code.status)
    return ServiceRefused(code.wire, message, status=code.status, check=named)


def from_wire(wire: str, message: str, status: int) -> ServiceError:
    """The error a client rebuilds from a reply's ``{"code", "message"}``: the code's check
    when the code is known (a client cannot tell which finer check the service named)."""
    for code in Code:
        if code.wire == wire and code.check is not None:
            return ServiceRefused(wire, message, status=status, check=code.check)
    return ServiceError(wire, message, status=status)


def code_of(error: ServiceError) -> Code:
    """The :class:`Code` a :class:`ServiceError` carries."""
    for code in Code:
        if code.wire == error.code:
            return code
    raise ValueError(f"not a service code: {error.code}")  # pragma: no cover - a bug of ours
