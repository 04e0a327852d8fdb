"""Sans-IO SIP user agent core: REGISTER with digest, INVITE/ACK/BYE/CANCEL, error answers.

Feed it datagrams or stream messages with :meth:`UserAgent.receive`, call
:meth:`UserAgent.tick` at :meth:`UserAgent.next_deadline`, and drain
:meth:`UserAgent.take_outputs`: :class:`Send` tells the transport what bytes go where, the
other outputs are what happened to registrations and calls.  The core owns its transactions
(:mod:`.transaction`) and dialogs (:mod:`.dialog`) and does the UA-core duties around them:
ACK for 2xx (13.2.2.4), retransmitting our 2xx until its ACK arrives (13.3.1.4), answering
CANCEL with 200 plus 487 (9.2), and retrying a request once per challenge with credentials.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, auto

from ethvoip.spec.errors import (
    DecodeError,
    EthVoipError,
    LocalProtocolError,
    RemoteProtocolError,
)

from .builders import make_cancel, make_response, top_via, warning_value
from .codec import decode_datagram, encode
from .dialog import Dialog
from .digest import Challenge, authorization
from .fields import NameAddr, SipUri, new_branch, parse_cseq
from .message import Headers, Message, Request, Response
from .timers import TimerConfig
from .transaction import (
    ClientTransaction,
    Deliver,
    Output,
    ServerTransaction,
    Timeout,
    Transmit,
    client_key,
    server_key,
)

Address = tuple[str, int]
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS"


@dataclass(frozen=True)
class Send:
    """Transmit ``data`` to ``dest`` (for stream transports: over the connection to it)."""

    data: bytes
    dest: Address


@dataclass(frozen=True)
class Registered:
    expires: int


@dataclass(frozen=True)
class RegistrationFailed:
    status: int


@dataclass(frozen=True)
class IncomingCall:
    call_id: str
    caller: str
    sdp: bytes


@dataclass(frozen=True)
class CallProgress:
    call_id: str
    status: int


@dataclass(frozen=True)
class CallAnswered:
    call_id: str
    sdp: bytes


@dataclass(frozen=True)
class CallConfirmed:
    """Callee side: the ACK for our 2xx arrived."""

    call_id: str


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    by_peer: bool


@dataclass(frozen=True)
class CallFailed:
    call_id: str
    status: int
    warning: str | None = None  # the final response's Warning header, if it had one


UaOutput = (
    Send
    | Registered
    | RegistrationFailed
    | IncomingCall
    | CallProgress
    | CallAnswered
    | CallConfirmed
    | CallEnded
    | CallFailed
)


class CallState(Enum):
    CALLING = auto()  # UAC: INVITE sent
    RINGING = auto()  # UAS: INVITE received, not answered
    ANSWERED = auto()  # UAS: 2xx sent, waiting for ACK
    CONFIRMED = auto()
    CANCELLING = auto()  # UAC: CANCEL sent
    ENDED = auto()


@dataclass
class Call:
    call_id: str
    state: CallState
    invite: Request
    dialog: Dialog | None = None
    server_tx: ServerTransaction | None = None
    local_tag: str = ""
    ok: Response | None = None  # UAS: our 2xx, retransmitted until ACK
    ok_next: float = 0.0
    ok_interval: float = 0.0
    ok_give_up: float = 0.0
    ack: Request | None = None  # UAC: our ACK for the 2xx, resent on 2xx retransmissions
    peer: Address = ("", 0)


@dataclass
class UaConfig:
    """Who this UA is and where it sends."""

    aor: str  # e.g. "sip:alice@example.com"
    local_host: str
    local_port: int
    username: str = ""
    password: str = ""
    registrar: str | None = None  # REGISTER Request-URI, e.g. "sip:example.com"
    outbound_proxy: Address | None = None  # first hop of every out-of-dialog request
    transport: str = "UDP"
    expires: int = 3600
    timers: TimerConfig = field(default_factory=TimerConfig)

    @property
    def reliable(self) -> bool:
        return self.transport.upper() != "UDP"


@dataclass
class _Pending:
    """What a client transaction is for, and how often it was already challenged."""

    kind: str  # "register", "invite", "bye", "cancel", "other"
    call_id: str
    attempts: int = 0


class UserAgent:
    """The UA core; all time comes in as ``now`` and randomness from ``random_bytes``."""

    def __init__(self, config: UaConfig, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self.config = config
        self._random = random_bytes
        self._out: list[UaOutput] = []
        self._clients: dict[tuple[str, str], tuple[ClientTransaction, _Pending, Address]] = {}
        self._servers: dict[tuple[str, ...], tuple[ServerTransaction, Address]] = {}
        self.calls: dict[str, Call] = {}
        self._register_cseq = 0
        self._register_call_id = self._token(8) + "@" + config.local_host
        self.registered = False
        self.dropped = 0  # messages rejected by the codec or by a consistency check

    # --- identity helpers ------------------------------------------------------------

    def _token(self, n: int = 6) -> str:
        return self._random(n).hex()

    def _via(self) -> str:
        c = self.config
        branch = new_branch(self._token(8))
        return f"SIP/2.0/{c.transport.upper()} {c.local_host}:{c.local_port};branch={branch};rport"

    @property
    def contact(self) -> str:
        c = self.config
        user = SipUri.parse(c.aor).user
        at = f"{user}@" if user else ""
        params = "" if c.transport.upper() == "UDP" else f";transport={c.transport.lower()}"
        return f"<sip:{at}{c.local_host}:{c.local_port}{params}>"

    # --- driving --------------------------------------------------------------------

    def take_outputs(self) -> list[UaOutput]:
        out, self._out = self._out, []
        return out

    def next_deadline(self) -> float | None:
        times = [tx.next_deadline() for tx, _, _ in self._clients.values()]
        times += [tx.next_deadline() for tx, _ in self._servers.values()]
        times += [c.ok_next for c in self.calls.values() if c.ok is not None]
        return min((t for t in times if t is not None), default=None)

    def tick(self, now: float) -> None:
        for key, (ctx, pending, dest) in list(self._clients.items()):
            self._client_outputs(key, ctx, pending, dest, ctx.on_time(now), now)
        for skey, (stx, peer) in list(self._servers.items()):
            self._server_outputs(skey, stx, peer, stx.on_time(now))
        for call in list(self.calls.values()):
            if call.ok is None or call.ok_next > now:
                continue
            if now >= call.ok_give_up:
                # 13.3.1.4: no ACK within 64*T1: the session is over.
                call.ok = None
                self._end(call, CallFailed(call.call_id, 408))
                continue
            self._send(call.ok, call.peer)
            call.ok_interval = min(2 * call.ok_interval, self.config.timers.t2)
            call.ok_next = now + call.ok_interval

    def receive(self, data: bytes, source: Address, now: float) -> None:
        """One datagram (or one framed stream message, re-encoded) from ``source``."""
        try:
            msg = decode_datagram(data)
        except DecodeError:
            self.dropped += 1
            return
        self.receive_message(msg, source, now)

    def receive_message(self, msg: Message, source: Address, now: float) -> None:
        try:
            if isinstance(msg, Response):
                self._on_response(msg, now)
            else:
                self._on_request(msg, source, now)
        except (DecodeError, RemoteProtocolError):
            self.dropped += 1

    # --- sending --------------------------------------------------------------------

    def _send(self, msg: Message, dest: Address) -> None:
        self._out.append(Send(encode(msg), dest))

    def _first_hop(self, request: Request) -> Address:
        routes = request.headers.values("Route")
        if routes:
            return NameAddr.parse(routes[0]).sip_uri.address()
        if self.config.outbound_proxy is not None:
            return self.config.outbound_proxy
        return SipUri.parse(request.uri).address()

    def _start_client(self, request: Request, pending: _Pending, now: float) -> None:
        dest = self._first_hop(request)
        tx = ClientTransaction(request, reliable=self.config.reliable, config=self.config.timers)
        self._clients[tx.key] = (tx, pending, dest)
        self._client_outputs(tx.key, tx, pending, dest, tx.start(now), now)

    def _new_request(self, method: str, uri: str, to: str, call_id: str, cseq: int) -> Request:
        h = Headers()
        h.add("Via", self._via())
        h.add("Max-Forwards", "70")
        h.add("From", f"<{self.config.aor}>;tag={self._token()}")
        h.add("To", to)
        h.add("Call-ID", call_id)
        h.add("CSeq", f"{cseq} {method}")
        h.add("Contact", self.contact)
        h.add("User-Agent", "ethvoip")
        return Request(method, uri, h)

    # --- public operations ----------------------------------------------------------

    def register(self, now: float, *, expires: int | None = None) -> None:
        c = self.config
        if c.registrar is None:
            raise LocalProtocolError("no registrar configured")
        self._register_cseq += 1
        req = self._new_request(
            "REGISTER", c.registrar, f"<{c.aor}>", self._register_call_id, self._register_cseq
        )
        req.headers.add("Expires", str(c.expires if expires is None else expires))
        self._start_client(req, _Pending("register", req.call_id), now)

    def invite(self, target: str, sdp: bytes, now: float) -> str:
        """Call ``target`` (a SIP URI); returns the Call-ID that names the call."""
        SipUri.parse(target)
        call_id = f"{self._token(10)}@{self.config.local_host}"
        req = self._new_request("INVITE", target, f"<{target}>", call_id, 1)
        if sdp:
            req.headers.add("Content-Type", "application/sdp")
        req.body = sdp
        self.calls[call_id] = Call(call_id, CallState.CALLING, req)
        self._start_client(req, _Pending("invite", call_id), now)
        return call_id

    def _call(self, call_id: str, *states: CallState) -> Call:
        call = self.calls.get(call_id)
        if call is None or call.state not in states:
            raise LocalProtocolError(f"no call {call_id!r} in state {[s.name for s in states]}")
        return call

    def ring(self, call_id: str, now: float) -> None:
        call = self._call(call_id, CallState.RINGING)
        self._respond(call, make_response(call.invite, 180, to_tag=call.local_tag), now)

    def answer(self, call_id: str, sdp: bytes, now: float) -> None:
        call = self._call(call_id, CallState.RINGING)
        extra = [("Contact", self.contact), ("Allow", ALLOW)]
        if sdp:
            extra.append(("Content-Type", "application/sdp"))
        ok = make_response(call.invite, 200, to_tag=call.local_tag, body=sdp, extra=extra)
        for rr in call.invite.headers.values("Record-Route"):
            ok.headers.add("Record-Route", rr)
        call.dialog = Dialog.as_uas(call.invite, call.local_tag)
        call.state = CallState.ANSWERED
        self._respond(call, ok, now)
        t1 = self.config.timers.t1
        call.ok, call.ok_interval = ok, t1
        call.ok_next, call.ok_give_up = now + t1, now + 64 * t1

    def reject(self, call_id: str, status: int, now: float, *, why: str | None = None) -> None:
        """Refuse a ringing call; ``why`` goes into a Warning header (RFC 3261 20.43, 399)."""
        if status < 300:
            raise LocalProtocolError("reject needs a status >= 300")
        call = self._call(call_id, CallState.RINGING)
        extra = [] if why is None else [("Warning", warning_value(why))]
        response = make_response(call.invite, status, to_tag=call.local_tag, extra=extra)
        self._respond(call, response, now)
        self._end(call, None)

    def bye(self, call_id: str, now: float) -> None:
        call = self._call(call_id, CallState.CONFIRMED, CallState.ANSWERED)
        assert call.dialog is not None
        req = call.dialog.request("BYE", self._via())
        call.ok = None
        self._start_client(req, _Pending("bye", call_id), now)
        self._end(call, None)

    def cancel(self, call_id: str, now: float) -> None:
        call = self._call(call_id, CallState.CALLING)
        call.state = CallState.CANCELLING
        self._start_client(make_cancel(call.invite), _Pending("cancel", call_id), now)

    def transactions(self, call_id: str | None = None) -> int:
        """How many client and server transactions are alive (for ``call_id`` only if given)."""
        keys = [p.call_id for _, p, _ in self._clients.values()]
        keys += [tx.request.call_id for tx, _ in self._servers.values()]
        return sum(1 for k in keys if call_id is None or k == call_id)

    def forget(self, call_id: str) -> None:
        """Drop an ended call from :attr:`calls` (its transactions finish on their timers)."""
        call = self.calls.get(call_id)
        if call is not None and call.state is not CallState.ENDED:
            raise LocalProtocolError(f"call {call_id!r} has not ended")
        self.calls.pop(call_id, None)

    def abandon(self, call_id: str) -> None:
        """The transport to the peer is gone: drop the call and its transactions, send nothing
        (RFC 3261 8.1.3.1 treats a transport failure like a 503 from the next hop)."""
        self.calls.pop(call_id, None)
        for key in [k for k, (_, p, _) in self._clients.items() if p.call_id == call_id]:
            del self._clients[key]
        for skey in [k for k, (tx, _) in self._servers.items() if tx.request.call_id == call_id]:
            del self._servers[skey]

    def _respond(self, call: Call, response: Response, now: float) -> None:
        tx = call.server_tx
        if tx is None or tx.terminated:
            raise LocalProtocolError("the INVITE transaction is gone")
        peer = self._servers[tx.key][1]
        self._server_outputs(tx.key, tx, peer, tx.respond(response, now))

    def _end(self, call: Call, event: CallEnded | CallFailed | None) -> None:
        call.state = CallState.ENDED
        if event is not None:
            self._out.append(event)

    # --- transaction outputs ---------------------------------------------------------

    def _client_outputs(
        self,
        key: tuple[str, str],
        tx: ClientTransaction,
        pending: _Pending,
        dest: Address,
        outs: list[Output],
        now: float,
    ) -> None:
        for out in outs:
            if isinstance(out, Transmit):
                self._send(out.message, dest)
            elif isinstance(out, Deliver):
                self._on_final_or_provisional(tx, pending, out.response, now)
            elif isinstance(out, Timeout):
                self._on_timeout(pending)
        if tx.terminated:
            self._clients.pop(key, None)

    def _server_outputs(
        self, key: tuple[str, ...], tx: ServerTransaction, peer: Address, outs: list[Output]
    ) -> None:
        for out in outs:
            if isinstance(out, Transmit):
                self._send(out.message, self._response_dest(out.message, peer))
        if tx.terminated:
            self._servers.pop(key, None)

    def _response_dest(self, msg: Message, peer: Address) -> Address:
        if self.config.reliable:
            return peer  # same connection the request came on (18.2.2)
        return top_via(msg).response_address()

    # --- responses ------------------------------------------------------------------

    def _on_response(self, resp: Response, now: float) -> None:
        key = client_key(resp)
        entry = self._clients.get(key)
        if entry is None:
            self._stray_response(resp)
            return
        tx, pending, dest = entry
        self._client_outputs(key, tx, pending, dest, tx.on_response(resp, now), now)

    def _stray_response(self, resp: Response) -> None:
        # A retransmitted 2xx to our INVITE: its transaction is gone, resend our ACK (13.2.2.4).
        call = self.calls.get(resp.call_id)
        if call is not None and 200 <= resp.status < 300 and call.ack is not None:
            assert call.dialog is not None
            self._send(call.ack, call.dialog.next_hop(call.ack))

    def _on_timeout(self, pending: _Pending) -> None:
        if pending.kind == "register":
            self.registered = False
            self._out.append(RegistrationFailed(408))
        elif pending.kind == "invite":
            call = self.calls.get(pending.call_id)
            if call is not None and call.state in (CallState.CALLING, CallState.CANCELLING):
                self._end(call, CallFailed(call.call_id, 408))

    def _retry_with_auth(
        self, tx: ClientTransaction, pending: _Pending, resp: Response, now: float
    ) -> bool:
        header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        value = resp.headers.get(header)
        if value is None or pending.attempts >= 2 or not self.config.username:
            return False
        challenge = Challenge.parse(value)
        if pending.attempts >= 1 and not challenge.stale:
            return False  # the same credentials were already refused
        req = Request(tx.request.method, tx.request.uri, tx.request.headers.copy())
        req.body = tx.request.body
        number, method = parse_cseq(req.headers.get("CSeq") or "")
        req.headers.set("CSeq", f"{number + 1} {method}")
        req.headers.set("Via", self._via())
        req.headers.remove("Authorization")
        req.headers.remove("Proxy-Authorization")
        req.headers.add(
            "Authorization" if resp.status == 401 else "Proxy-Authorization",
            authorization(
                challenge,
                username=self.config.username,
                password=self.config.password,
                method=req.method,
                uri=req.uri,
                cnonce=self._token(8),
            ),
        )
        if method == "REGISTER":
            self._register_cseq = number + 1
        if pending.kind == "invite":
            self.calls[pending.call_id].invite = req
        self._start_client(req, _Pending(pending.kind, pending.call_id, pending.attempts + 1), now)
        return True

    def _on_final_or_provisional(
        self, tx: ClientTransaction, pending: _Pending, resp: Response, now: float
    ) -> None:
        status = resp.status
        if status in (401, 407) and self._retry_with_auth(tx, pending, resp, now):
            return
        if pending.kind == "register":
            self._on_register_response(resp)
        elif pending.kind == "invite":
            self._on_invite_response(tx.request, resp, now)

    def _on_register_response(self, resp: Response) -> None:
        if resp.status < 200:
            return
        if resp.status >= 300:
            self.registered = False
            self._out.append(RegistrationFailed(resp.status))
            return
        expires = self.config.expires
        for value in resp.headers.values("Contact"):
            contact = NameAddr.parse(value)
            given = contact.params.get("expires")
            if given and given.isdigit():
                expires = int(given)
        self.registered = expires > 0
        self._out.append(Registered(expires))

    def _on_invite_response(self, invite: Request, resp: Response, now: float) -> None:
        call = self.calls.get(invite.call_id)
        if call is None or call.state is CallState.ENDED:
            return
        if resp.status < 200:
            if resp.status > 100:
                self._out.append(CallProgress(call.call_id, resp.status))
            return
        if resp.status >= 300:
            self._end(call, CallFailed(call.call_id, resp.status, resp.headers.get("Warning")))
            return
        dialog = Dialog.as_uac(invite, resp)
        number, _ = parse_cseq(invite.headers.get("CSeq") or "")
        ack = dialog.request("ACK", self._via(), cseq=number)
        call.dialog, call.ack = dialog, ack
        self._send(ack, dialog.next_hop(ack))
        if call.state is CallState.CANCELLING:
            # The 2xx crossed our CANCEL: the call exists, so end it with BYE (9.1).
            call.state = CallState.CONFIRMED
            self.bye(call.call_id, now)
            return
        call.state = CallState.CONFIRMED
        self._out.append(CallAnswered(call.call_id, resp.body))

    # --- requests -------------------------------------------------------------------

    def _on_request(self, req: Request, source: Address, now: float) -> None:
        if req.method == "ACK":
            self._on_ack(req, now)
            return
        key = server_key(req)
        if key in self._servers:
            tx, peer = self._servers[key]
            self._server_outputs(key, tx, peer, tx.on_request(req, now))
            return
        tx = ServerTransaction(req, reliable=self.config.reliable, config=self.config.timers)
        self._servers[key] = (tx, source)
        self._server_outputs(key, tx, source, tx.start(now))
        handler = {
            "INVITE": self._on_invite,
            "BYE": self._on_bye,
            "CANCEL": self._on_cancel,
            "OPTIONS": self._on_options,
        }.get(req.method)
        try:
            if handler is None:
                self._answer(tx, make_response(req, 501, extra=[("Allow", ALLOW)]), now)
            else:
                handler(tx, req, source, now)
        except EthVoipError:
            last = tx.last_response
            if not tx.terminated and (last is None or last.status < 200):
                self._answer(tx, make_response(req, 400), now)

    def _answer(self, tx: ServerTransaction, resp: Response, now: float) -> None:
        peer = self._servers[tx.key][1]
        self._server_outputs(tx.key, tx, peer, tx.respond(resp, now))

    def _on_invite(self, tx: ServerTransaction, req: Request, source: Address, now: float) -> None:
        to = NameAddr.parse(req.headers.get("To") or "")
        if to.tag is not None:
            # Re-INVITE (session modification) is outside this subset.
            self._answer(tx, make_response(req, 488), now)
            return
        if req.call_id in self.calls:
            self._answer(tx, make_response(req, 482, "Loop Detected", to_tag=self._token()), now)
            return
        frm = NameAddr.parse(req.headers.get("From") or "")
        call = Call(req.call_id, CallState.RINGING, req, server_tx=tx, local_tag=self._token())
        call.peer = self._response_dest(req, source)
        self.calls[req.call_id] = call
        self._out.append(IncomingCall(req.call_id, frm.uri, req.body))

    def _find_dialog_call(self, req: Request) -> Call | None:
        call = self.calls.get(req.call_id)
        if call is None or call.dialog is None:
            return None
        to = NameAddr.parse(req.headers.get("To") or "").tag
        frm = NameAddr.parse(req.headers.get("From") or "").tag
        if (to, frm) != (call.dialog.local_tag, call.dialog.remote_tag):
            return None
        return call

    def _on_ack(self, req: Request, now: float) -> None:
        key = server_key(req)
        if key in self._servers:
            tx, peer = self._servers[key]
            self._server_outputs(key, tx, peer, tx.on_request(req, now))
            return
        call = self._find_dialog_call(req)
        if call is not None and call.state is CallState.ANSWERED:
            call.ok = None
            call.state = CallState.CONFIRMED
            self._out.append(CallConfirmed(call.call_id))

    def _on_bye(self, tx: ServerTransaction, req: Request, source: Address, now: float) -> None:
        call = self._find_dialog_call(req)
        if call is None or call.state is CallState.ENDED:
            self._answer(tx, make_response(req, 481), now)
            return
        assert call.dialog is not None
        call.dialog.accept_remote_cseq(req)
        call.ok = None
        self._answer(tx, make_response(req, 200), now)
        self._end(call, CallEnded(call.call_id, by_peer=True))

    def _on_cancel(self, tx: ServerTransaction, req: Request, source: Address, now: float) -> None:
        invite_key = (*server_key(req)[:-1], "INVITE")
        entry = self._servers.get(invite_key)
        call = self.calls.get(req.call_id)
        if entry is None or call is None or call.state is not CallState.RINGING:
            self._answer(tx, make_response(req, 481), now)
            return
        self._answer(tx, make_response(req, 200), now)
        self._respond(call, make_response(call.invite, 487, to_tag=call.local_tag), now)
        self._end(call, CallFailed(call.call_id, 487))

    def _on_options(self, tx: ServerTransaction, req: Request, source: Address, now: float) -> None:
        self._answer(tx, make_response(req, 200, extra=[("Allow", ALLOW)]), now)
