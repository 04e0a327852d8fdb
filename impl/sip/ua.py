"""Sans-IO SIP user agent core: REGISTER with digest, INVITE/ACK/BYE/CANCEL, error answers.

Feed it datagrams or stream messages with :meth:`UserAgent.receive`, call
:meth:`UserAgent.tick` at :meth:`UserAgent.next_deadline`, and drain
:meth:`UserAgent.take_outputs`: :class:`Send` tells the transport what bytes go where, the
other outputs are what happened to registrations and calls.  The core owns its transactions
(:mod:`.transaction`) and dialogs (:mod:`.dialog`) and does the UA-core duties around them:
ACK for 2xx (13.2.2.4), retransmitting our 2xx until its ACK arrives (13.3.1.4), answering
CANCEL with 200 plus 487 (9.2), and retrying a request once per challenge with credentials.

A call's life cycle is the table of :mod:`.call_states`: every method and message handler
here only classifies what happened into a :class:`CallEvent` and hands it to
:meth:`UserAgent._fire`, which looks the row up (or raises the typed refusal), runs the row's
action and then commits the next state.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ethvoip.spec.errors import (
    DecodeError,
    EthVoipError,
    LocalProtocolError,
    RemoteProtocolError,
)

from .builders import make_cancel, make_response, top_via, warning_value
from .call_states import Action, CallEvent, CallState, step
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


class Endpoint(abc.ABC):
    """What the user agent and the registrar share: they are fed whole messages, and one that
    does not decode is counted in ``dropped`` and goes no further."""

    dropped: int

    def receive(self, data: bytes, source: Address, now: float) -> None:
        """One datagram (or one framed stream message, re-encoded) from ``source``."""
        try:
            msg = decode_datagram(data)
        except DecodeError:
            self.dropped += 1
            return
        self.receive_message(msg, source, now)

    @abc.abstractmethod
    def receive_message(self, msg: Message, source: Address, now: float) -> None:
        """One decoded message from ``source``."""


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
class _Occurrence:
    """One event on one call, with what its action needs (the other fields stay empty)."""

    event: CallEvent
    call_id: str
    call: Call | None  # None: the UA holds no call under call_id (state IDLE)
    now: float = 0.0
    request: Request | None = None  # the peer's request, or the INVITE we send or resend
    response: Response | None = None  # the peer's response to our INVITE
    tx: ServerTransaction | None = None  # the server transaction of the peer's request
    source: Address = ("", 0)
    sdp: bytes = b""
    status: int = 0
    why: str | None = None
    attempts: int = 0  # challenges already answered (RETRY_WITH_CREDENTIALS)


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


def _live(o: _Occurrence) -> Call:
    assert o.call is not None, f"{o.event.name} needs a call"  # the table's IDLE rows do not
    return o.call


def _request(o: _Occurrence) -> tuple[Request, ServerTransaction]:
    assert o.request is not None and o.tx is not None, f"{o.event.name} is not a request"
    return o.request, o.tx


class UserAgent(Endpoint):
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
        self._actions: dict[Action, Callable[[_Occurrence], None]] = {
            Action.NOTHING: lambda o: None,
            Action.START_INVITE: self._start_invite,
            Action.SEND_180: self._send_180,
            Action.SEND_200: self._send_200,
            Action.SEND_REJECTION: self._send_rejection,
            Action.SEND_BYE: self._send_bye,
            Action.SEND_CANCEL: self._send_cancel,
            Action.DROP_TRANSACTIONS: self._drop_transactions,
            Action.REPORT_PROGRESS: self._report_progress,
            Action.ACK_ANSWER: self._ack_answer,
            Action.ACK_THEN_BYE: self._ack_then_bye,
            Action.REPORT_FAILURE: self._report_failure,
            Action.RETRY_WITH_CREDENTIALS: self._retry_invite,
            Action.RESEND_ACK: self._resend_ack,
            Action.NEW_INCOMING: self._new_incoming,
            Action.ANSWER_482: self._answer_482,
            Action.ANSWER_488: self._answer_488,
            Action.CONFIRM: self._confirm,
            Action.END_BY_PEER: self._end_by_peer,
            Action.ANSWER_481: self._answer_481,
            Action.CANCELLED: self._cancelled,
            Action.REPORT_TIMEOUT: self._report_timeout,
            Action.RESEND_200: self._resend_200,
            Action.GIVE_UP: self._give_up,
        }

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
            # 13.3.1.4: resend our 2xx until its ACK comes, for at most 64*T1
            event = CallEvent.NO_ACK if now >= call.ok_give_up else CallEvent.RESEND_2XX
            self._fire(_Occurrence(event, call.call_id, call, now))

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
        self._fire(_Occurrence(CallEvent.PLACE, call_id, self.calls.get(call_id), now, req))
        return call_id

    def _local(self, event: CallEvent, call_id: str, now: float = 0.0) -> _Occurrence:
        return _Occurrence(event, call_id, self.calls.get(call_id), now)

    def ring(self, call_id: str, now: float) -> None:
        self._fire(self._local(CallEvent.RING, call_id, now))

    def answer(self, call_id: str, sdp: bytes, now: float) -> None:
        o = self._local(CallEvent.ANSWER, call_id, now)
        o.sdp = sdp
        self._fire(o)

    def reject(self, call_id: str, status: int, now: float, *, why: str | None = None) -> None:
        """Refuse a ringing call; ``why`` goes into a Warning header (RFC 3261 20.43, 399)."""
        if status < 300:
            raise LocalProtocolError("reject needs a status >= 300")
        o = self._local(CallEvent.REJECT, call_id, now)
        o.status, o.why = status, why
        self._fire(o)

    def bye(self, call_id: str, now: float) -> None:
        self._fire(self._local(CallEvent.HANG_UP, call_id, now))

    def cancel(self, call_id: str, now: float) -> None:
        self._fire(self._local(CallEvent.CANCEL, call_id, now))

    def transactions(self, call_id: str | None = None) -> int:
        """How many client and server transactions are alive (for ``call_id`` only if given)."""
        keys = [p.call_id for _, p, _ in self._clients.values()]
        keys += [tx.request.call_id for tx, _ in self._servers.values()]
        return sum(1 for k in keys if call_id is None or k == call_id)

    def forget(self, call_id: str) -> None:
        """Drop an ended call from :attr:`calls` (its transactions finish on their timers)."""
        self._fire(self._local(CallEvent.FORGET, call_id))

    def abandon(self, call_id: str) -> None:
        """The transport to the peer is gone: drop the call and its transactions, send nothing
        (RFC 3261 8.1.3.1 treats a transport failure like a 503 from the next hop)."""
        self._fire(self._local(CallEvent.ABANDON, call_id))

    def _respond(self, call: Call, response: Response, now: float) -> None:
        tx = call.server_tx
        if tx is None or tx.terminated:
            raise LocalProtocolError("the INVITE transaction is gone")
        peer = self._servers[tx.key][1]
        self._server_outputs(tx.key, tx, peer, tx.respond(response, now))

    # --- the call life cycle ----------------------------------------------------------

    def _fire(self, o: _Occurrence) -> None:
        """The one place a call changes state: the table's row for the event in the call's
        state (or its typed refusal), the row's action, then the row's next state."""
        state = CallState.IDLE if o.call is None else o.call.state
        transition = step(state, o.event, o.call_id)
        self._actions[transition.action](o)  # may create the call (o.call)
        if o.call is None:
            return  # no call was matched (a stray BYE keeps a call it does not match)
        if transition.to is CallState.IDLE:
            del self.calls[o.call.call_id]
        else:
            o.call.state = transition.to

    # The actions, one per Action; the table guarantees which of the occurrence's fields
    # are set (a call in every state but IDLE, the peer's request for requests ...).

    def _start_invite(self, o: _Occurrence) -> None:
        assert o.request is not None
        o.call = self.calls[o.call_id] = Call(o.call_id, CallState.IDLE, o.request)
        self._start_client(o.request, _Pending("invite", o.call_id), o.now)

    def _send_180(self, o: _Occurrence) -> None:
        call = _live(o)
        self._respond(call, make_response(call.invite, 180, to_tag=call.local_tag), o.now)

    def _send_200(self, o: _Occurrence) -> None:
        call = _live(o)
        extra = [("Contact", self.contact), ("Allow", ALLOW)]
        if o.sdp:
            extra.append(("Content-Type", "application/sdp"))
        ok = make_response(call.invite, 200, to_tag=call.local_tag, body=o.sdp, extra=extra)
        for rr in call.invite.headers.values("Record-Route"):
            ok.headers.add("Record-Route", rr)
        call.dialog = Dialog.as_uas(call.invite, call.local_tag)
        self._respond(call, ok, o.now)
        t1 = self.config.timers.t1
        call.ok, call.ok_interval = ok, t1
        call.ok_next, call.ok_give_up = o.now + t1, o.now + 64 * t1

    def _send_rejection(self, o: _Occurrence) -> None:
        call = _live(o)
        extra = [] if o.why is None else [("Warning", warning_value(o.why))]
        response = make_response(call.invite, o.status, to_tag=call.local_tag, extra=extra)
        self._respond(call, response, o.now)

    def _send_bye(self, o: _Occurrence) -> None:
        call = _live(o)
        assert call.dialog is not None
        req = call.dialog.request("BYE", self._via())
        call.ok = None
        self._start_client(req, _Pending("bye", call.call_id), o.now)

    def _send_cancel(self, o: _Occurrence) -> None:
        call = _live(o)
        self._start_client(make_cancel(call.invite), _Pending("cancel", call.call_id), o.now)

    def _drop_transactions(self, o: _Occurrence) -> None:
        for key in [k for k, (_, p, _) in self._clients.items() if p.call_id == o.call_id]:
            del self._clients[key]
        for skey in [k for k, (tx, _) in self._servers.items() if tx.request.call_id == o.call_id]:
            del self._servers[skey]

    def _report_progress(self, o: _Occurrence) -> None:
        assert o.response is not None
        if o.response.status > 100:
            self._out.append(CallProgress(o.call_id, o.response.status))

    def _ack(self, o: _Occurrence) -> None:
        call = _live(o)
        assert o.request is not None and o.response is not None
        dialog = Dialog.as_uac(o.request, o.response)
        number, _ = parse_cseq(o.request.headers.get("CSeq") or "")
        ack = dialog.request("ACK", self._via(), cseq=number)
        call.dialog, call.ack = dialog, ack
        self._send(ack, dialog.next_hop(ack))

    def _ack_answer(self, o: _Occurrence) -> None:
        self._ack(o)
        assert o.response is not None
        self._out.append(CallAnswered(o.call_id, o.response.body))

    def _ack_then_bye(self, o: _Occurrence) -> None:
        # The 2xx crossed our CANCEL: the call exists, so end it with BYE (9.1).
        self._ack(o)
        self._send_bye(o)

    def _report_failure(self, o: _Occurrence) -> None:
        assert o.response is not None
        warning = o.response.headers.get("Warning")
        self._out.append(CallFailed(o.call_id, o.response.status, warning))

    def _retry_invite(self, o: _Occurrence) -> None:
        call = _live(o)
        assert o.request is not None
        call.invite = o.request
        self._start_client(o.request, _Pending("invite", o.call_id, o.attempts), o.now)

    def _resend_ack(self, o: _Occurrence) -> None:
        call = _live(o)
        if call.ack is not None:
            assert call.dialog is not None
            self._send(call.ack, call.dialog.next_hop(call.ack))

    def _new_incoming(self, o: _Occurrence) -> None:
        req, tx = _request(o)
        frm = NameAddr.parse(req.headers.get("From") or "")
        call = Call(req.call_id, CallState.IDLE, req, server_tx=tx, local_tag=self._token())
        call.peer = self._response_dest(req, o.source)
        o.call = self.calls[req.call_id] = call
        self._out.append(IncomingCall(req.call_id, frm.uri, req.body))

    def _answer_482(self, o: _Occurrence) -> None:
        req, tx = _request(o)
        self._answer(tx, make_response(req, 482, "Loop Detected", to_tag=self._token()), o.now)

    def _answer_488(self, o: _Occurrence) -> None:
        req, tx = _request(o)
        self._answer(tx, make_response(req, 488), o.now)

    def _confirm(self, o: _Occurrence) -> None:
        _live(o).ok = None
        self._out.append(CallConfirmed(o.call_id))

    def _end_by_peer(self, o: _Occurrence) -> None:
        call = _live(o)
        req, tx = _request(o)
        assert call.dialog is not None
        call.dialog.accept_remote_cseq(req)
        call.ok = None
        self._answer(tx, make_response(req, 200), o.now)
        self._out.append(CallEnded(o.call_id, by_peer=True))

    def _answer_481(self, o: _Occurrence) -> None:
        req, tx = _request(o)
        self._answer(tx, make_response(req, 481), o.now)

    def _cancelled(self, o: _Occurrence) -> None:
        call = _live(o)
        req, tx = _request(o)
        self._answer(tx, make_response(req, 200), o.now)
        self._respond(call, make_response(call.invite, 487, to_tag=call.local_tag), o.now)
        self._out.append(CallFailed(o.call_id, 487))

    def _report_timeout(self, o: _Occurrence) -> None:
        self._out.append(CallFailed(o.call_id, 408))

    def _resend_200(self, o: _Occurrence) -> None:
        call = _live(o)
        assert call.ok is not None
        self._send(call.ok, call.peer)
        call.ok_interval = min(2 * call.ok_interval, self.config.timers.t2)
        call.ok_next = o.now + call.ok_interval

    def _give_up(self, o: _Occurrence) -> None:
        _live(o).ok = None
        self._out.append(CallFailed(o.call_id, 408))

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
        try:
            for out in outs:
                if isinstance(out, Transmit):
                    self._send(out.message, dest)
                elif isinstance(out, Deliver):
                    self._on_final_or_provisional(tx, pending, out.response, now)
                elif isinstance(out, Timeout):
                    self._on_timeout(pending, now)
        finally:  # a refused response must not leave a finished transaction behind
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
            self._stray_response(resp, now)
            return
        tx, pending, dest = entry
        self._client_outputs(key, tx, pending, dest, tx.on_response(resp, now), now)

    def _stray_response(self, resp: Response, now: float) -> None:
        # A retransmitted 2xx to our INVITE: its transaction is gone, resend our ACK (13.2.2.4).
        if 200 <= resp.status < 300:
            call = self.calls.get(resp.call_id)
            self._fire(_Occurrence(CallEvent.SUCCESS_AGAIN, resp.call_id, call, now))

    def _on_timeout(self, pending: _Pending, now: float) -> None:
        if pending.kind == "register":
            self.registered = False
            self._out.append(RegistrationFailed(408))
        elif pending.kind == "invite":
            call = self.calls.get(pending.call_id)
            self._fire(_Occurrence(CallEvent.NO_RESPONSE, pending.call_id, call, now))

    def _with_credentials(
        self, tx: ClientTransaction, pending: _Pending, resp: Response
    ) -> Request | None:
        """The request again, answering the challenge in ``resp``; None when not to retry."""
        header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        value = resp.headers.get(header)
        if value is None or pending.attempts >= 2 or not self.config.username:
            return None
        challenge = Challenge.parse(value)
        if pending.attempts >= 1 and not challenge.stale:
            return None  # the same credentials were already refused
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
        return req

    def _retry(self, pending: _Pending, req: Request, now: float) -> None:
        attempts = pending.attempts + 1
        if pending.kind == "invite":
            call = self.calls.get(pending.call_id)
            o = _Occurrence(CallEvent.CHALLENGE, pending.call_id, call, now, req)
            o.attempts = attempts
            self._fire(o)
        else:
            self._start_client(req, _Pending(pending.kind, pending.call_id, attempts), now)

    def _on_final_or_provisional(
        self, tx: ClientTransaction, pending: _Pending, resp: Response, now: float
    ) -> None:
        if resp.status in (401, 407):
            retry = self._with_credentials(tx, pending, resp)
            if retry is not None:
                self._retry(pending, retry, now)
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
        if resp.status < 200:
            event = CallEvent.PROVISIONAL
        else:
            event = CallEvent.SUCCESS if resp.status < 300 else CallEvent.FAILURE
        call = self.calls.get(invite.call_id)
        o = _Occurrence(event, invite.call_id, call, now, invite)
        o.response = resp
        self._fire(o)

    # --- requests -------------------------------------------------------------------

    def _on_request(self, req: Request, source: Address, now: float) -> None:
        if req.method == "ACK":
            self._on_ack(req, source, now)
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
        # A To tag makes it a re-INVITE (session modification), outside this subset.
        event = CallEvent.INVITE if to.tag is None else CallEvent.REINVITE
        self._fire(self._peer(event, self.calls.get(req.call_id), tx, req, source, now))

    def _peer(
        self,
        event: CallEvent,
        call: Call | None,
        tx: ServerTransaction | None,
        req: Request,
        source: Address,
        now: float,
    ) -> _Occurrence:
        o = _Occurrence(event, req.call_id, call, now, req)
        o.tx, o.source = tx, source
        return o

    def _find_dialog_call(self, req: Request) -> Call | None:
        call = self.calls.get(req.call_id)
        if call is None or call.dialog is None:
            return None
        to = NameAddr.parse(req.headers.get("To") or "").tag
        frm = NameAddr.parse(req.headers.get("From") or "").tag
        if (to, frm) != (call.dialog.local_tag, call.dialog.remote_tag):
            return None
        return call

    def _on_ack(self, req: Request, source: Address, now: float) -> None:
        key = server_key(req)
        if key in self._servers:
            tx, peer = self._servers[key]
            self._server_outputs(key, tx, peer, tx.on_request(req, now))
            return
        call = self._find_dialog_call(req)
        self._fire(self._peer(CallEvent.ACK, call, None, req, source, now))

    def _on_bye(self, tx: ServerTransaction, req: Request, source: Address, now: float) -> None:
        call = self._find_dialog_call(req)
        self._fire(self._peer(CallEvent.BYE, call, tx, req, source, now))

    def _on_cancel(self, tx: ServerTransaction, req: Request, source: Address, now: float) -> None:
        invite_key = (*server_key(req)[:-1], "INVITE")
        call = self.calls.get(req.call_id) if invite_key in self._servers else None
        self._fire(self._peer(CallEvent.CANCEL_REQUEST, call, tx, req, source, now))

    def _on_options(self, tx: ServerTransaction, req: Request, source: Address, now: float) -> None:
        self._answer(tx, make_response(req, 200, extra=[("Allow", ALLOW)]), now)
