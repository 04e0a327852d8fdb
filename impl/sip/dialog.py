"""SIP dialogs (RFC 3261 section 12): identity, CSeq spaces, route set, in-dialog requests.

A dialog is identified by Call-ID plus local and remote tags.  The UAC takes its route set
from the 2xx's Record-Route in reverse order, the UAS from the INVITE's Record-Route in
order (12.1.1, 12.1.2).  In-dialog requests go to the remote target through the route set,
with loose routing (``;lr``, 16.12) or, for a strict router, the first route as Request-URI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ethvoip.spec.errors import Check, PeerRefused

from .fields import NameAddr, SipUri, parse_cseq
from .message import Headers, Request, Response


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str  # our From (UAC) / To (UAS) header value without tag
    remote_uri: str
    remote_target: str  # the peer's Contact URI
    route_set: list[str] = field(default_factory=list)
    local_seq: int = 0
    remote_seq: int | None = None

    @property
    def id(self) -> tuple[str, str, str]:
        return self.call_id, self.local_tag, self.remote_tag

    @classmethod
    def as_uac(cls, invite: Request, response: Response) -> Dialog:
        """Dialog from our INVITE and the 2xx it got (12.1.2)."""
        frm = NameAddr.parse(invite.headers.get("From") or "")
        to = NameAddr.parse(response.headers.get("To") or "")
        contacts = response.headers.values("Contact")
        if not contacts or to.tag is None or frm.tag is None:
            raise PeerRefused("2xx to INVITE without Contact or To tag", check=Check.REQUIRED)
        number, _ = parse_cseq(invite.headers.get("CSeq") or "")
        return cls(
            call_id=invite.call_id,
            local_tag=frm.tag,
            remote_tag=to.tag,
            local_uri=frm.uri,
            remote_uri=to.uri,
            remote_target=NameAddr.parse(contacts[0]).uri,
            route_set=list(reversed(response.headers.values("Record-Route"))),
            local_seq=number,
        )

    @classmethod
    def as_uas(cls, invite: Request, local_tag: str) -> Dialog:
        """Dialog from an INVITE we answer with a 2xx carrying ``local_tag`` (12.1.1)."""
        frm = NameAddr.parse(invite.headers.get("From") or "")
        to = NameAddr.parse(invite.headers.get("To") or "")
        contacts = invite.headers.values("Contact")
        if not contacts or frm.tag is None:
            raise PeerRefused("INVITE without Contact or From tag", check=Check.REQUIRED)
        number, _ = parse_cseq(invite.headers.get("CSeq") or "")
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag,
            remote_tag=frm.tag,
            local_uri=to.uri,
            remote_uri=frm.uri,
            remote_target=NameAddr.parse(contacts[0]).uri,
            route_set=list(invite.headers.values("Record-Route")),
            remote_seq=number,
        )

    def accept_remote_cseq(self, request: Request) -> None:
        """12.2.2: a lower CSeq than the last one seen is out of order (caller answers 500)."""
        number, _ = parse_cseq(request.headers.get("CSeq") or "")
        if self.remote_seq is not None and number < self.remote_seq and request.method != "ACK":
            raise PeerRefused("in-dialog request with a lower CSeq", check=Check.ORDER)
        self.remote_seq = max(number, self.remote_seq or 0)

    def _uri_and_routes(self) -> tuple[str, list[str]]:
        if not self.route_set:
            return self.remote_target, []
        first = NameAddr.parse(self.route_set[0])
        if "lr" in SipUri.parse(first.uri).params:
            return self.remote_target, list(self.route_set)
        # Strict router (12.2.1.1): it becomes the Request-URI; the target goes last.
        return first.uri, [*self.route_set[1:], f"<{self.remote_target}>"]

    def request(
        self, method: str, via: str, *, cseq: int | None = None, body: bytes = b""
    ) -> Request:
        """A new in-dialog request; CSeq advances except for ACK/CANCEL (given explicitly)."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        uri, routes = self._uri_and_routes()
        h = Headers()
        h.add("Via", via)
        for route in routes:
            h.add("Route", route)
        h.add("Max-Forwards", "70")
        h.add("From", f"<{self.local_uri}>;tag={self.local_tag}")
        h.add("To", f"<{self.remote_uri}>;tag={self.remote_tag}")
        h.add("Call-ID", self.call_id)
        h.add("CSeq", f"{cseq} {method}")
        return Request(method, uri, h, body)

    def next_hop(self, request: Request) -> tuple[str, int]:
        """Address of the first hop: the top Route, else the Request-URI (no DNS here)."""
        routes = request.headers.values("Route")
        target = NameAddr.parse(routes[0]).uri if routes else request.uri
        return SipUri.parse(target).address()
