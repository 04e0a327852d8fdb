"""Constructors for the messages RFC 3261 derives from other messages.

Responses copy Via, From, To, Call-ID and CSeq from their request (section 8.2.6.2); the ACK
for a non-2xx final response is built by the INVITE client transaction (17.1.1.3); CANCEL
copies the INVITE's Request-URI, Call-ID, From, To, CSeq number and top Via (9.1).
"""

from __future__ import annotations

from .fields import NameAddr, Via, parse_cseq
from .message import Headers, Request, Response

REASONS: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    603: "Decline",
}


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    """A response to ``request``; ``to_tag`` is added when the To has none yet (8.2.6.2)."""
    h = Headers()
    for via in request.headers.values("Via"):
        h.add("Via", via)
    h.add("From", request.headers.get("From") or "")
    to = request.headers.get("To") or ""
    if to_tag is not None and status != 100:
        parsed = NameAddr.parse(to)
        if parsed.tag is None:
            parsed.params["tag"] = to_tag
            to = str(parsed)
    h.add("To", to)
    h.add("Call-ID", request.call_id)
    h.add("CSeq", request.headers.get("CSeq") or "")
    for name, value in extra or []:
        h.add(name, value)
    return Response(status, reason or REASONS.get(status, "Unknown"), h, body)


def bad_request(request: Request, why: str) -> Response:
    """400 for a request whose fields are unusable, the reason in a Warning (RFC 3261 20.43:
    code 399, miscellaneous) as printable ASCII; whatever Via, From, To, Call-ID and CSeq it
    had are copied as text (there may be none to route by: it goes back on the connection)."""
    return make_response(request, 400, extra=[("Warning", warning_value(why))])


def warning_value(text: str) -> str:
    """A Warning header value (RFC 3261 20.43): code 399, agent ``ethvoip``, ``text`` made
    printable ASCII without quotes or backslashes, at most 120 characters."""
    clean = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)[:120]
    return f'399 ethvoip "{clean}"'


def _same_transaction(invite: Request, method: str, to: str) -> Request:
    """A request that shares the INVITE's branch, route, Call-ID and CSeq number."""
    h = Headers()
    h.add("Via", invite.headers.values("Via")[0])
    for route in invite.headers.values("Route"):
        h.add("Route", route)
    h.add("Max-Forwards", "70")
    h.add("From", invite.headers.get("From") or "")
    h.add("To", to)
    h.add("Call-ID", invite.call_id)
    number, _ = parse_cseq(invite.headers.get("CSeq") or "")
    h.add("CSeq", f"{number} {method}")
    return Request(method, invite.uri, h)


def make_non2xx_ack(invite: Request, response: Response) -> Request:
    """The ACK the INVITE client transaction sends for a 3xx-6xx (17.1.1.3): the response's
    To (with the tag the UAS added)."""
    return _same_transaction(invite, "ACK", response.headers.get("To") or "")


def make_cancel(invite: Request) -> Request:
    """CANCEL for a pending INVITE: same branch, so it matches the INVITE's server side (9.1)."""
    return _same_transaction(invite, "CANCEL", invite.headers.get("To") or "")


def top_via(msg: Request | Response) -> Via:
    return Via.parse(msg.headers.values("Via")[0])
