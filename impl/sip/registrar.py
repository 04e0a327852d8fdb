"""Sans-IO registrar plus stateless record-routing proxy for one domain (the demo's server).

* REGISTER (RFC 3261 section 10.3): digest challenge against a
  :class:`~.digest.CredentialStore`, the authenticated user must own the To AOR, bindings
  kept in an in-memory :class:`LocationService` with expiry, ``Contact: *`` removal.
* Everything else is proxied statelessly (16.11): Max-Forwards checked and decremented, our
  own Route popped (loose routing, 16.4), Request-URIs of our domain retargeted to the
  registered contact, a Record-Route added to INVITEs so BYE comes back through us, and a
  Via whose branch is a hash of the incoming one (so retransmissions and the CANCEL of an
  INVITE get the same branch downstream).  Responses lose our Via and go up the next one.

Requests that end here (REGISTER, OPTIONS to us) run in server transactions, so a
retransmitted REGISTER gets the stored answer instead of a second digest check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ethvoip.impl.crypto import sha256
from ethvoip.spec.errors import (
    Check,
    CryptoError,
    DecodeError,
    PeerRefused,
    RemoteProtocolError,
    ReplayError,
)

from .builders import make_response, top_via
from .codec import encode
from .digest import DigestVerifier
from .fields import BRANCH_COOKIE, NameAddr, SipUri
from .message import Message, Request, Response
from .timers import TimerConfig
from .transaction import Output, ServerTransaction, Transmit, server_key
from .ua import Address, Endpoint, Send

MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600


@dataclass
class Binding:
    contact: str  # Contact URI
    expires_at: float
    source: Address  # where the REGISTER came from (the connection, for stream transports)


@dataclass
class LocationService:
    """AOR -> bindings; expired bindings are invisible and pruned on access."""

    bindings: dict[str, dict[str, Binding]] = field(default_factory=dict)

    def update(self, aor: str, contact: str, expires: int, source: Address, now: float) -> None:
        per_aor = self.bindings.setdefault(aor, {})
        if expires == 0:
            per_aor.pop(contact, None)
        else:
            per_aor[contact] = Binding(contact, now + expires, source)

    def clear(self, aor: str) -> None:
        self.bindings.pop(aor, None)

    def drop_flow(self, source: Address) -> None:
        """Forget the bindings registered over connection ``source`` (it closed: RFC 5626's
        flow failure).  The AOR stays known, so a request for it is answered 480, not 404."""
        for per_aor in self.bindings.values():
            for contact in [c for c, b in per_aor.items() if b.source == source]:
                del per_aor[contact]

    def known(self, aor: str) -> bool:
        return aor in self.bindings

    def lookup(self, aor: str, now: float) -> list[Binding]:
        per_aor = self.bindings.get(aor, {})
        for contact in [c for c, b in per_aor.items() if b.expires_at <= now]:
            del per_aor[contact]
        return list(per_aor.values())


class RegistrarProxy(Endpoint):
    """Registrar and stateless proxy for ``domain``, listening at ``host:port``."""

    def __init__(
        self,
        *,
        domain: str,
        host: str,
        port: int,
        verifier: DigestVerifier,
        transport: str = "UDP",
        timers: TimerConfig | None = None,
        location: LocationService | None = None,
        branch_secret: Callable[[int], bytes] | bytes = b"",
    ) -> None:
        self.domain = domain.lower()
        self.host, self.port = host, port
        self.verifier = verifier
        self.transport = transport.upper()
        self.timers = timers or TimerConfig()
        self.location = location or LocationService()
        self._secret = branch_secret if isinstance(branch_secret, bytes) else branch_secret(16)
        self._servers: dict[tuple[str, ...], tuple[ServerTransaction, Address]] = {}
        self._out: list[Send] = []
        self.dropped = 0

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"

    def take_outputs(self) -> list[Send]:
        out, self._out = self._out, []
        return out

    def next_deadline(self) -> float | None:
        times = [tx.next_deadline() for tx, _ in self._servers.values()]
        return min((t for t in times if t is not None), default=None)

    def tick(self, now: float) -> None:
        for key, (tx, peer) in list(self._servers.items()):
            self._flush(key, tx, peer, tx.on_time(now))

    def flow_closed(self, source: Address) -> None:
        """The connection ``source`` closed: its bindings go (stream transports only; over
        UDP the source is an address, not a flow)."""
        if self.reliable:
            self.location.drop_flow(source)

    def receive_message(self, msg: Message, source: Address, now: float) -> None:
        try:
            if isinstance(msg, Response):
                self._forward_response(msg)
            else:
                self._on_request(msg, source, now)
        except (DecodeError, RemoteProtocolError):
            self.dropped += 1

    # --- helpers --------------------------------------------------------------------

    def _is_us(self, uri: SipUri) -> bool:
        host = uri.host.lower().strip("[]")
        if uri.user is None and host == self.domain:
            return True
        return host == self.host and (uri.port or 5060) == self.port

    def _send(self, msg: Message, dest: Address) -> None:
        self._out.append(Send(encode(msg), dest))

    def _flush(
        self, key: tuple[str, ...], tx: ServerTransaction, peer: Address, outs: list[Output]
    ) -> None:
        for out in outs:
            if isinstance(out, Transmit):
                dest = peer if self.reliable else top_via(out.message).response_address()
                self._send(out.message, dest)
        if tx.terminated:
            self._servers.pop(key, None)

    def _local(self, req: Request, source: Address, now: float) -> ServerTransaction | None:
        """Server transaction for a request that ends here; None if it was a retransmission."""
        key = server_key(req)
        if key in self._servers:
            tx, peer = self._servers[key]
            self._flush(key, tx, peer, tx.on_request(req, now))
            return None
        tx = ServerTransaction(req, reliable=self.reliable, config=self.timers)
        self._servers[key] = (tx, source)
        self._flush(key, tx, source, tx.start(now))
        return tx

    def _reply(self, tx: ServerTransaction, resp: Response, now: float) -> None:
        peer = self._servers[tx.key][1]
        self._flush(tx.key, tx, peer, tx.respond(resp, now))

    def _stateless_reply(self, req: Request, status: int, source: Address) -> None:
        if req.method == "ACK":
            return
        resp = make_response(req, status, to_tag=self._tag(req))
        self._send(resp, source if self.reliable else top_via(resp).response_address())

    def _tag(self, req: Request) -> str:
        return sha256(self._secret + req.call_id.encode()).hex()[:10]

    # --- requests -------------------------------------------------------------------

    def _on_request(self, req: Request, source: Address, now: float) -> None:
        # RFC 3581: note where the request really came from, for the response path.
        via = top_via(req)
        if via.host != source[0] or "rport" in via.params:
            via.params["received"] = source[0]
            if "rport" in via.params:
                via.params["rport"] = str(source[1])
            req.headers.pop_first("Via")
            req.headers.prepend("Via", str(via))
        routes = req.headers.values("Route")
        if routes and self._is_us(NameAddr.parse(routes[0]).sip_uri):
            req.headers.pop_first("Route")
        if req.method == "REGISTER" and not req.headers.values("Route"):
            self._register(req, source, now)
            return
        uri = SipUri.parse(req.uri)
        if req.method == "OPTIONS" and self._is_us(uri):
            tx = self._local(req, source, now)
            if tx is not None:
                self._reply(tx, make_response(req, 200, to_tag=self._tag(req)), now)
            return
        self._proxy(req, uri, source, now)

    def _register(self, req: Request, source: Address, now: float) -> None:
        tx = self._local(req, source, now)
        if tx is None:
            return
        uri = SipUri.parse(req.uri)
        if uri.host.lower() != self.domain:
            self._reply(
                tx, make_response(req, 404, "Domain Not Served", to_tag=self._tag(req)), now
            )
            return
        aor = NameAddr.parse(req.headers.get("To") or "").sip_uri
        auth = req.headers.get("Authorization")
        challenge = ("WWW-Authenticate", self.verifier.challenge(now))
        if auth is None:
            self._reply(tx, make_response(req, 401, to_tag=self._tag(req), extra=[challenge]), now)
            return
        try:
            user = self.verifier.verify(auth, method="REGISTER", uri=req.uri, now=now)
        except ReplayError:
            stale = ("WWW-Authenticate", self.verifier.challenge(now, stale=True))
            self._reply(tx, make_response(req, 401, to_tag=self._tag(req), extra=[stale]), now)
            return
        except (CryptoError, DecodeError):
            self._reply(tx, make_response(req, 403, to_tag=self._tag(req)), now)
            return
        if user != aor.user or aor.host.lower() != self.domain:
            # The credentials must belong to the AOR being registered (10.3 step 6).
            self._reply(tx, make_response(req, 403, to_tag=self._tag(req)), now)
            return
        key = aor.aor
        contacts = req.headers.values("Contact")
        header_expires = req.headers.get("Expires")
        default = int(header_expires) if header_expires and header_expires.isdigit() else None
        if contacts == ["*"]:
            if default != 0:
                self._reply(tx, make_response(req, 400, to_tag=self._tag(req)), now)
                return
            self.location.clear(key)
        for value in contacts if contacts != ["*"] else []:
            contact = NameAddr.parse(value)
            given = contact.params.get("expires")
            expires = int(given) if given and given.isdigit() else default
            expires = min(DEFAULT_EXPIRES if expires is None else expires, MAX_EXPIRES)
            self.location.update(key, contact.uri, expires, source, now)
        extra = [
            ("Contact", f"<{b.contact}>;expires={max(0, int(b.expires_at - now))}")
            for b in self.location.lookup(key, now)
        ]
        self._reply(tx, make_response(req, 200, to_tag=self._tag(req), extra=extra), now)

    def _proxy(self, req: Request, uri: SipUri, source: Address, now: float) -> None:
        mf = req.headers.get("Max-Forwards")
        hops = int(mf) if mf is not None else 70
        if hops <= 0:
            self._stateless_reply(req, 483, source)
            return
        req.headers.set("Max-Forwards", str(hops - 1))
        routes = req.headers.values("Route")
        dest: Address
        if routes:
            dest = NameAddr.parse(routes[0]).sip_uri.address()
        elif uri.host.lower() == self.domain and uri.user is not None:
            bindings = self.location.lookup(uri.aor, now)
            if not bindings:
                # registered once but no live binding (expired, or its connection closed):
                # 480 Temporarily Unavailable tells the caller at once, never silence
                status = 480 if self.location.known(uri.aor) else 404
                self._stateless_reply(req, status if req.method != "CANCEL" else 481, source)
                return
            binding = max(bindings, key=lambda b: b.expires_at)
            req.uri = binding.contact
            dest = binding.source if self.reliable else SipUri.parse(binding.contact).address()
        else:
            dest = uri.address()
        if req.method == "INVITE":
            req.headers.prepend("Record-Route", f"<sip:{self.host}:{self.port};lr>")
        req.headers.prepend("Via", self._via_for(req))
        self._send(req, dest)

    def _via_for(self, req: Request) -> str:
        # Deterministic branch (16.11): same upstream branch -> same downstream branch, so a
        # retransmission or the CANCEL of an INVITE lands on the same downstream transaction.
        upstream = top_via(req)
        method = "INVITE" if req.method in ("ACK", "CANCEL") else req.method
        seed = f"{upstream.branch}|{upstream.sent_by}|{req.call_id}|{method}"
        digest = sha256(self._secret + seed.encode()).hex()[:20]
        return f"SIP/2.0/{self.transport} {self.host}:{self.port};branch={BRANCH_COOKIE}{digest}"

    # --- responses ------------------------------------------------------------------

    def _forward_response(self, resp: Response) -> None:
        via = top_via(resp)
        if (via.host, via.port or 5060) != (self.host, self.port):
            raise PeerRefused("response whose top Via is not ours", check=Check.SOURCE_ADDRESS)
        resp.headers.pop_first("Via")
        if not resp.headers.values("Via"):
            return  # a response to something we originated statelessly: nothing above us
        nxt = top_via(resp)
        self._send(resp, nxt.response_address())
